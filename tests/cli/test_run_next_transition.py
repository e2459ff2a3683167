"""``nsshutdown run`` pushes each namespace's next transition, labelled with its team label."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from nsshutdown.model import Namespace
from nsshutdown.observe import metrics
from tests.cli.support import cli, connect_to
from tests.fakes import FakeCluster, workload
from tests.unit.test_metrics import Series, labelsets, parse, value

GAUGE = "nsshutdown_namespace_next_transition_timestamp_seconds"
#: Down every night 20:00-08:00 UTC: whenever the test runs, the next transition is within 12 h.
NIGHTS = """
version: 1
schedules:
  - name: nights
    namespaces: {names: ["dev-*"]}
    timezone: UTC
    windows: [{shutdown: "0 20 * * *", startup: "0 8 * * *"}]
"""


@pytest.fixture
def pushed(monkeypatch: pytest.MonkeyPatch) -> list[Series]:
    """What each run would have pushed (the registry, parsed back)."""
    seen: list[Series] = []

    def fake_push(registry: CollectorRegistry, **_: object) -> bool:
        seen.append(parse(registry))
        return True

    monkeypatch.setattr(metrics, "push", fake_push)
    return seen


@pytest.fixture
def labelled(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    cluster = FakeCluster(
        [workload("api", replicas=2), workload("web", namespace="dev-b", replicas=1)],
        namespaces=[
            Namespace("dev-a", labels={"team": "payments", "example.com/owner": "alice"}),
            Namespace("dev-b"),
            Namespace("ops", labels={"team": "sre"}),
        ],
    )
    return connect_to(monkeypatch, cluster)


def _run(tmp_path: Path, *extra: str) -> dict[str, str]:
    """Run once, pushing; each namespace's desired state from the JSON report."""
    path = tmp_path / "schedule.yaml"
    path.write_text(NIGHTS)
    code, doc, err = cli("run", "-s", path, "--pushgateway", "pg:9091", "-o", "json", *extra)
    assert code == 0, err
    return {ns["namespace"]: ns["desired"] for ns in doc["namespaces"]}


def _series(pushed: list[Series]) -> dict[str, tuple[str, str, float]]:
    (series,) = pushed
    return {
        d["namespace"]: (d["direction"], d["team"], value(series, GAUGE, **d))
        for d in labelsets(series, GAUGE)
    }


@pytest.mark.usefixtures("labelled")
def test_run_pushes_the_next_transition_with_the_team(tmp_path: Path, pushed: list[Series]) -> None:
    before = datetime.now(UTC)
    desired = _run(tmp_path)
    series = _series(pushed)
    assert set(series) == {"dev-a", "dev-b"}  # ops has no schedule, so no transition
    assert series["dev-a"][1] == "payments"
    assert series["dev-b"][1] == ""
    for ns, (direction, _, at) in series.items():
        assert direction == ("up" if desired[ns] == "down" else "down")
        assert before.timestamp() < at <= (before + timedelta(hours=12, minutes=1)).timestamp()
        assert datetime.fromtimestamp(at, UTC).minute == 0


@pytest.mark.usefixtures("labelled")
def test_team_label_option_and_environment(
    tmp_path: Path, pushed: list[Series], monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(tmp_path, "--team-label", "example.com/owner")
    assert _series(pushed)["dev-a"][1] == "alice"
    pushed.clear()
    monkeypatch.setenv("NSSHUTDOWN_TEAM_LABEL", "example.com/owner")
    _run(tmp_path)
    assert _series(pushed)["dev-a"][1] == "alice"


def test_a_bad_team_label_is_exit_1_before_anything_is_touched(
    tmp_path: Path, labelled: FakeCluster
) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text(NIGHTS)
    code, _, err = cli("run", "-s", path, "--team-label", "not a key")
    assert code == 1
    assert "--team-label" in err
    assert labelled.writes == []
