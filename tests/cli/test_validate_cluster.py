"""``validate --cluster``: what each schedule matches among live namespaces (the in-memory fake)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import pytest

from nsshutdown import constants as c
from nsshutdown.model import Namespace, Reason
from nsshutdown.plan.planner import namespace_intent
from nsshutdown.schedule.config import load_schedule_text
from nsshutdown.schedule.coverage import coverage, exclusion
from tests.cli.support import cli, connect_to
from tests.fakes import FakeCluster

SCHEDULE = """
version: 1
excludeNamespaces: [kube-system]
schedules:
  - name: dev-nights
    namespaces: {names: ["dev-*"]}
    windows: [{shutdown: "0 20 * * *", startup: "0 8 * * *"}]
  - name: qa-weekends
    namespaces: {selector: "env=qa"}
    windows: [{shutdown: "0 20 * * 5", startup: "0 8 * * 1"}]
  - name: everything-else
    namespaces: {names: ["kube-*"]}
    holidays: ["2026-12-25"]
  - name: gone-team
    namespaces: {names: ["team-gone-*"]}
    holidays: ["2026-12-25"]
"""


def ns(name: str, **labels: str) -> Namespace:
    return Namespace(name, labels=MappingProxyType(labels))


NAMESPACES = [
    ns("dev-a", env="qa"),  # matched by dev-nights AND qa-weekends
    ns("dev-b"),
    ns("qa", env="qa"),
    ns("kube-system"),  # excluded, but everything-else would match it
    ns("kube-public"),
    ns("ops"),
]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    return connect_to(monkeypatch, FakeCluster(namespaces=NAMESPACES))


@pytest.fixture
def schedule_file(tmp_path: Path) -> Path:
    path = tmp_path / "schedule.yaml"
    path.write_text(SCHEDULE)
    return path


def test_reports_matches_overlaps_unmatched_and_excluded(
    fake: FakeCluster, schedule_file: Path
) -> None:
    code, doc, _ = cli("validate", "-s", schedule_file, "--cluster", "-o", "json")
    assert code == 0, doc
    assert doc["valid"] is True
    found = doc["cluster"]
    assert found["namespaces"] == 6
    by_name = {s["name"]: s for s in found["schedules"]}
    assert by_name["dev-nights"] == {
        "name": "dev-nights", "count": 2, "namespaces": ["dev-a", "dev-b"], "chosen": [],
        "shadowed": [],
    }  # fmt: skip
    assert by_name["qa-weekends"]["namespaces"] == ["qa"]
    assert by_name["qa-weekends"]["shadowed"] == ["dev-a"]
    assert by_name["everything-else"]["namespaces"] == ["kube-public"]
    assert found["overlaps"] == [
        {"namespace": "dev-a", "owner": "dev-nights", "also": ["qa-weekends"]}
    ]
    assert found["unmatched"] == ["gone-team"]
    assert found["excluded"] == [
        {"namespace": "kube-system", "reason": "excludeNamespaces", "schedule": "everything-else"}
    ]
    assert doc["warnings"] == [
        "namespace dev-a is matched by dev-nights and qa-weekends: "
        "dev-nights wins (the first match)",
        "schedule gone-team matches no namespace",
    ]
    assert doc["exit_code"] == 0
    assert fake.writes == []


def test_text_output_names_both_schedules_of_an_overlap(
    fake: FakeCluster, schedule_file: Path
) -> None:
    code, out, _ = cli("validate", "-s", schedule_file, "--cluster")
    assert code == 0
    assert "dev-nights: 2 namespaces: dev-a, dev-b" in out
    assert "warning: namespace dev-a is matched by dev-nights and qa-weekends" in out
    assert "warning: schedule gone-team matches no namespace" in out
    assert "info: namespace kube-system (excludeNamespaces)" in out


def test_strict_makes_warnings_exit_1(fake: FakeCluster, schedule_file: Path) -> None:
    code, doc, _ = cli("validate", "-s", schedule_file, "--cluster", "--strict", "-o", "json")
    assert code == 1
    assert doc["exit_code"] == 1


def test_strict_without_warnings_is_exit_0(fake: FakeCluster, tmp_path: Path) -> None:
    path = tmp_path / "clean.yaml"
    path.write_text(
        "version: 1\nschedules:\n  - name: dev\n    namespaces: {names: [dev-*]}\n"
        '    holidays: ["2026-12-25"]\n'
    )
    code, doc, _ = cli("validate", "-s", path, "--cluster", "--strict", "-o", "json")
    assert code == 0, doc
    assert doc["warnings"] == []


def test_without_cluster_nothing_connects(fake: FakeCluster, schedule_file: Path) -> None:
    code, doc, _ = cli("validate", "-s", schedule_file, "--strict", "-o", "json")
    assert code == 0
    assert doc["cluster"] is None
    assert fake.connected == []  # type: ignore[attr-defined]


def test_a_bad_schedule_is_exit_1_before_connecting(fake: FakeCluster, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nbogus: true\n")
    code, _, err = cli("validate", "-s", bad, "--cluster")
    assert code == 1
    assert "bogus" in err
    assert fake.connected == []  # type: ignore[attr-defined]


def test_unreachable_cluster_is_exit_3(fake: FakeCluster, schedule_file: Path) -> None:
    fake.unreachable = True
    code, _, _ = cli("validate", "-s", schedule_file, "--cluster")
    assert code == 3


def test_own_namespace_and_exclude_annotation_are_excluded(
    fake: FakeCluster, schedule_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(c.POD_NAMESPACE_ENV, "dev-b")
    fake.namespaces["qa"] = Namespace("qa", annotations=MappingProxyType({c.EXCLUDE: "true"}))
    code, doc, _ = cli("validate", "-s", schedule_file, "--cluster", "-o", "json")
    assert code == 0
    reasons = {e["namespace"]: e["reason"] for e in doc["cluster"]["excluded"]}
    assert reasons["dev-b"] == "the tool's own namespace"
    assert "qa" not in reasons  # no schedule matches it without its env=qa label
    assert reasons["kube-system"] == "excludeNamespaces"


@pytest.mark.parametrize(
    "namespace",
    [
        ns("kube-system"),
        ns("dev-a"),
        ns("own"),
        Namespace("x", annotations=MappingProxyType({c.EXCLUDE: "TRUE"})),
        Namespace("y", annotations=MappingProxyType({c.EXCLUDE: "no"})),
    ],
    ids=["exclude-namespaces", "scheduled", "own", "annotation", "annotation-false"],
)
def test_exclusion_agrees_with_the_planner(namespace: Namespace) -> None:
    schedule = load_schedule_text(SCHEDULE, source="test")
    now = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)
    intent = namespace_intent(schedule, namespace, now, own_namespace="own")
    assert bool(exclusion(schedule, namespace, "own")) == (intent.reason is Reason.EXCLUDED)


def test_a_schedule_that_only_shadows_is_not_unmatched() -> None:
    schedule = load_schedule_text(SCHEDULE, source="test")
    found = coverage(schedule, [ns("dev-a", env="qa")])
    assert found.unmatched == ("everything-else", "gone-team")
    assert [r.shadowed for r in found.rules if r.name == "qa-weekends"] == [("dev-a",)]
