"""Label selectors, name globs, excludes and first-match-wins."""

from __future__ import annotations

import pytest

from nsshutdown.model import Namespace
from nsshutdown.schedule.selection import glob_problem, matches_any, parse_selector
from tests.unit.builders import schedule

LABELS = {"env": "dev", "team": "payments", "app.kubernetes.io/part-of": "shop"}

# id: (selector, matches LABELS)
SELECTORS = {
    "equals": ("env=dev", True),
    "double-equals": ("env==dev", True),
    "equals-other-value": ("env=prod", False),
    "not-equals": ("env!=prod", True),
    "not-equals-same": ("env!=dev", False),
    "not-equals-absent-label": ("tier!=db", True),
    "in": ("env in (dev,qa)", True),
    "in-spaces": ("env in ( qa , dev )", True),
    "in-miss": ("env in (qa,staging)", False),
    "notin": ("env notin (prod)", True),
    "notin-absent-label": ("tier notin (db)", True),
    "notin-miss": ("env notin (dev)", False),
    "exists": ("team", True),
    "exists-absent": ("tier", False),
    "not-exists": ("!tier", True),
    "not-exists-present": ("!team", False),
    "and-all-match": ("env=dev,team in (payments),!legacy", True),
    "and-one-fails": ("env=dev,team=search", False),
    "prefixed-key": ("app.kubernetes.io/part-of=shop", True),
    "empty-value": ("env=", False),
}


@pytest.mark.parametrize(("text", "expected"), list(SELECTORS.values()), ids=list(SELECTORS))
def test_selector_matching(text: str, expected: bool) -> None:
    assert parse_selector(text).matches(LABELS) is expected


BAD_SELECTORS = {
    "empty": "",
    "blank": "   ",
    "trailing-comma": "env=dev,",
    "leading-comma": ",env=dev",
    "unknown-operator": "env ~ dev",
    "double-value": "env=dev=qa",
    "in-without-parens": "env in dev",
    "in-empty-set": "env in ()",
    "in-unclosed": "env in (dev",
    "in-missing-comma": "env in (dev qa)",
    "bad-key-start": "-env=dev",
    "bad-prefix": "Bad_Prefix/env=dev",
    "key-too-long": "k" * 64 + "=v",
    "bad-value": "env=dev!",
    "bang-alone": "!",
}


@pytest.mark.parametrize("text", list(BAD_SELECTORS.values()), ids=list(BAD_SELECTORS))
def test_bad_selectors_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"label selector|label key|label value"):
        parse_selector(text)


def test_selector_round_trips_to_text() -> None:
    assert str(parse_selector("env in (qa,dev), !legacy,team")) == "env in (dev,qa),!legacy,team"


@pytest.mark.parametrize(
    ("name", "patterns", "expected"),
    [
        ("dev-a", ["dev-*"], True),
        ("dev", ["dev-*"], False),
        ("qa", ["dev-*", "qa"], True),
        ("team-1", ["team-[0-9]"], True),
        ("team-x", ["team-[!x]"], False),
        ("Dev-a", ["dev-*"], False),  # case-sensitive, like Kubernetes names
    ],
    ids=["prefix", "prefix-needs-dash", "second-pattern", "class", "negated-class", "case"],
)
def test_globs(name: str, patterns: list[str], expected: bool) -> None:
    assert matches_any(name, patterns) is expected


@pytest.mark.parametrize("pattern", ["", "Dev-*", "dev_*", "dev-[", "dev-]", "dev-[[a]]", "a b"])
def test_bad_globs_are_named(pattern: str) -> None:
    assert glob_problem(pattern)


def _ns(name: str, **labels: str) -> Namespace:
    return Namespace(name=name, labels=labels)


SCHEDULE = schedule(
    {
        "excludeNamespaces": ["kube-*", "monitoring"],
        "schedules": [
            {
                "name": "payments",
                "namespaces": {"selector": "team=payments", "exclude": ["payments-demo"]},
                "windows": [{"shutdown": "0 20 * * *", "startup": "0 8 * * *"}],
            },
            {
                "name": "dev",
                "namespaces": {"names": ["dev-*"], "selector": "env in (dev,qa)"},
                "windows": [{"shutdown": "0 19 * * *", "startup": "0 7 * * *"}],
            },
            {
                "name": "catch-all",
                "namespaces": {"names": ["*"]},
                "holidays": ["2026-12-25"],
            },
        ],
    }
)


@pytest.mark.parametrize(
    ("ns", "rule_name"),
    [
        (_ns("dev-pay", team="payments", env="dev"), "payments"),  # first match wins
        (_ns("dev-a", env="dev"), "dev"),
        (_ns("dev-b", env="prod"), "catch-all"),  # names match but the selector does not (AND)
        (_ns("qa", env="qa"), "catch-all"),  # selector matches but the names do not
        (_ns("payments-demo", team="payments"), "catch-all"),  # excluded from the first rule
        (_ns("anything"), "catch-all"),
    ],
    ids=[
        "first-match-wins",
        "names-and-selector",
        "selector-fails",
        "names-fail",
        "exclude",
        "any",
    ],
)
def test_rule_for(ns: Namespace, rule_name: str) -> None:
    rule = SCHEDULE.rule_for(ns)
    assert rule is not None
    assert rule.name == rule_name


@pytest.mark.parametrize(
    ("name", "excluded"),
    [("kube-system", True), ("kube-public", True), ("monitoring", True), ("monitoring-2", False)],
)
def test_exclude_namespaces(name: str, excluded: bool) -> None:
    assert SCHEDULE.is_excluded(name) is excluded


def test_no_rule_matches() -> None:
    only_dev = schedule(
        {
            "schedules": [
                {"name": "dev", "namespaces": {"names": ["dev-*"]}, "holidays": ["2026-12-25"]}
            ]
        }
    )
    assert only_dev.rule_for(_ns("prod")) is None
