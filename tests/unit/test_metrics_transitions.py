"""The advance-notice gauge: each namespace's next transition, from a real plan, with its team."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from nsshutdown import constants as c
from nsshutdown.errors import UsageError
from nsshutdown.model import ClusterState, Desired, Namespace, Transition
from nsshutdown.observe import metrics
from nsshutdown.observe.metrics import build_registry, push_report
from nsshutdown.observe.push_options import MetricsOptions, is_label_key
from nsshutdown.observe.savings import Prices
from nsshutdown.observe.transitions import next_transitions, teams
from nsshutdown.plan.planner import plan
from nsshutdown.run.report import NamespaceReport, NamespaceStatus, RunReport
from tests.reports import EVENING, MORNING, scenario
from tests.unit.builders import schedule
from tests.unit.test_metrics import Series, labelsets, parse, value

GAUGE = "nsshutdown_namespace_next_transition_timestamp_seconds"
#: Down 20:00-08:00 UTC on weekdays; dev-* only.
NIGHTS = schedule(
    {
        "schedules": [
            {
                "name": "nights",
                "namespaces": {"names": ["dev-*"]},
                "timezone": "UTC",
                "windows": [{"shutdown": "0 20 * * 1-5", "startup": "0 8 * * 1-5"}],
            }
        ]
    }
)
THURSDAY_1900 = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)
THURSDAY_2000 = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
FRIDAY_0800 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
NAMESPACES = (
    Namespace("dev-a", labels={"team": "payments", "owner": "alice"}),
    Namespace("dev-b"),  # no team label
    Namespace("dev-held", labels={"team": "search"}),  # woken in some tests
    Namespace("ops", labels={"team": "sre"}),  # no schedule
    Namespace("kube-system"),  # protected
)


def _namespaces(hold_until: datetime | None = None) -> tuple[Namespace, ...]:
    held = {c.KEEP_UP_UNTIL: hold_until.isoformat()} if hold_until else {}
    return tuple(
        Namespace(ns.name, labels=ns.labels, annotations=held) if ns.name == "dev-held" else ns
        for ns in NAMESPACES
    )


def _report(at: datetime, namespaces: tuple[Namespace, ...]) -> RunReport:
    planned = plan(NIGHTS, ClusterState(namespaces=namespaces, workloads=()), at)
    return RunReport(
        run_id="0123456789ab",
        started=at,
        finished=at,
        namespaces=tuple(NamespaceReport(p, NamespaceStatus.UNCHANGED) for p in planned.namespaces),
    )


def _gauge(at: datetime, *, hold_until: datetime | None = None, key: str = "team") -> Series:
    namespaces = _namespaces(hold_until)
    registry = build_registry(
        _report(at, namespaces), prices=Prices(), version="1", team_of=teams(namespaces, key)
    )
    return {k: v for k, v in parse(registry).items() if k[0] == GAUGE}


def _by_namespace(series: Series) -> dict[str, tuple[str, str, str, float]]:
    return {
        d["namespace"]: (d["direction"], d["schedule"], d["team"], value(series, GAUGE, **d))
        for d in labelsets(series, GAUGE)
    }


def test_before_the_window_the_next_transition_is_down_at_its_start() -> None:
    assert _by_namespace(_gauge(THURSDAY_1900)) == {
        "dev-a": ("down", "nights", "payments", THURSDAY_2000.timestamp()),
        "dev-b": ("down", "nights", "", THURSDAY_2000.timestamp()),
        "dev-held": ("down", "nights", "search", THURSDAY_2000.timestamp()),
    }


def test_inside_the_window_the_next_transition_is_up_at_its_end() -> None:
    series = _gauge(THURSDAY_2000)
    assert _by_namespace(series) == {
        ns: ("up", "nights", team, FRIDAY_0800.timestamp())
        for ns, team in (("dev-a", "payments"), ("dev-b", ""), ("dev-held", "search"))
    }
    assert len(series) == 3  # one series per namespace: the direction is a label, not a series


def test_a_wake_hold_that_ends_inside_the_window_is_the_next_down() -> None:
    ends = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)  # `nsshutdown wake dev-held --for 3h30m`
    held = _by_namespace(_gauge(THURSDAY_2000, hold_until=ends))["dev-held"]
    assert held == ("down", "nights", "search", ends.timestamp())


def test_a_hold_that_ends_in_the_same_state_is_no_transition() -> None:
    ends = datetime(2026, 11, 26, 19, 30, tzinfo=UTC)  # keep-up-until ends while it is up anyway
    assert "dev-held" not in _by_namespace(
        _gauge(datetime(2026, 11, 26, 18, tzinfo=UTC), hold_until=ends)
    )


def test_the_team_label_key_is_configurable() -> None:
    series = _gauge(THURSDAY_1900, key="owner")
    assert {ns: team for ns, (_, _, team, _) in _by_namespace(series).items()} == {
        "dev-a": "alice",
        "dev-b": "",
        "dev-held": "",
    }


def test_teams_only_names_namespaces_that_carry_the_label() -> None:
    labelled = [Namespace("a", labels={"team": "x"}), Namespace("b", labels={"team": ""})]
    assert teams(labelled, "team") == {"a": "x"}
    assert teams(labelled, "other") == {}


def test_next_transitions_reads_the_plans_in_report_order() -> None:
    found = next_transitions(scenario(), {"qa": "quality"})
    assert [(t.namespace, t.direction, t.at, t.team) for t in found] == [
        ("dev-a", Desired.UP, MORNING, ""),
        ("qa", Desired.DOWN, EVENING, "quality"),
    ]
    assert found[1].labels == {
        "namespace": "qa",
        "schedule": "nights",
        "direction": "down",
        "team": "quality",
    }


def test_a_transition_to_the_state_it_has_is_skipped() -> None:
    (dev_a, *rest) = scenario().namespaces
    same = Transition(MORNING, Desired.DOWN)  # dev-a is desired down already
    looped = replace(dev_a, plan=replace(dev_a.plan, next_transition=same))
    report = RunReport(run_id="x", started=MORNING, finished=MORNING, namespaces=(looped, *rest))
    assert [t.namespace for t in next_transitions(report, {})] == ["qa"]


def test_push_report_labels_the_series_with_the_observed_teams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pushed: list[Series] = []

    def fake_push(registry: object, **_: object) -> bool:
        pushed.append(parse(registry))  # type: ignore[arg-type]
        return True

    monkeypatch.setattr(metrics, "push", fake_push)
    options = MetricsOptions.from_cli(pushgateway="pg:9091", team_label="example.com/owner")
    namespaces = [Namespace("qa", labels={"example.com/owner": "quality", "team": "other"})]
    assert push_report(scenario(), options=options, version="1", namespaces=namespaces)
    (series,) = pushed
    assert (
        value(series, GAUGE, namespace="qa", schedule="nights", direction="down", team="quality")
        == EVENING.timestamp()
    )
    assert (
        value(series, GAUGE, namespace="dev-a", schedule="nights", direction="up", team="")
        == MORNING.timestamp()
    )


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        pytest.param("team", True, id="plain"),
        pytest.param("example.com/team", True, id="prefixed"),
        pytest.param("app.kubernetes.io/part-of", True, id="dotted-prefix"),
        pytest.param("Team_X.1", True, id="mixed-name"),
        pytest.param("a" * 63, True, id="63-chars"),
        pytest.param("a" * 64, False, id="64-chars"),
        pytest.param("", False, id="empty"),
        pytest.param("-team", False, id="leading-dash"),
        pytest.param("a/b/c", False, id="two-slashes"),
        pytest.param("Example.com/team", False, id="uppercase-prefix"),
        pytest.param("/team", False, id="empty-prefix"),
        pytest.param("team/", False, id="empty-name"),
        pytest.param("my team", False, id="space"),
    ],
)
def test_team_label_must_be_a_kubernetes_label_key(key: str, valid: bool) -> None:
    assert is_label_key(key) is valid
    if valid:
        assert MetricsOptions.from_cli(team_label=key).team_label == key
    else:
        with pytest.raises(UsageError, match="--team-label"):
            MetricsOptions.from_cli(team_label=key)


def test_the_default_team_label_is_team() -> None:
    assert MetricsOptions().team_label == "team"
    assert MetricsOptions.from_cli().team_label == "team"
