"""Wake-up tiers through the commands: one command goes on once a tier is ready, within
``--wake-wait``; without waiting, each run brings one more tier."""

from __future__ import annotations

from pathlib import Path

import pytest

from nsshutdown.model import Kind
from nsshutdown.session import session
from tests.cli.support import ALWAYS_DOWN, ALWAYS_UP, cli, connect_to
from tests.fakes import FakeCluster, workload

TIERS = "    wakeOrder: suggested\n"


@pytest.fixture
def tiered(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    cluster = FakeCluster([
        workload("db", kind=Kind.STATEFULSET, replicas=1),
        workload("api", replicas=3),
        workload("nightly", kind=Kind.CRONJOB),
    ])  # fmt: skip
    return connect_to(monkeypatch, cluster)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits between passes, recorded instead of slept (a clock of their own moves on)."""
    slept: list[float] = []
    monkeypatch.setattr(session, "_sleep", lambda seconds, stop: slept.append(seconds))
    monkeypatch.setattr(session, "_monotonic", lambda: sum(slept))
    return slept


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text.format(grace="0s") + TIERS)
    return path


def down_then(tmp_path: Path, cluster: FakeCluster) -> Path:
    code, _, err = cli("run", "-s", write(tmp_path, ALWAYS_DOWN, "down.yaml"), "-o", "json")
    assert code == 0, err
    values = {
        w.name: (w.suspend if w.replicas is None else w.replicas)
        for w in cluster.workloads.values()
    }
    assert values == {
        "db": 0, "api": 0, "nightly": True,
    }  # fmt: skip
    return write(tmp_path, ALWAYS_UP, "up.yaml")


def test_one_run_wakes_every_tier_as_each_gets_ready(
    tiered: FakeCluster, tmp_path: Path, sleeps: list[float]
) -> None:
    up = down_then(tmp_path, tiered)

    code, doc, err = cli("run", "-s", up, "-o", "json")

    assert code == 0, err
    assert (tiered.get("db", kind=Kind.STATEFULSET).replicas, tiered.get("api").replicas) == (1, 3)
    assert tiered.get("nightly", kind=Kind.CRONJOB).suspend is False
    restored = [w.ref.name for w in tiered.writes[3:]]
    assert restored == ["db", "api", "nightly"]  # in tiers, one pass each
    assert len(sleeps) == 2
    (ns,) = doc["namespaces"]
    assert {a["name"]: a["action"] for a in ns["actions"]} == {
        "db": "restore", "api": "restore", "nightly": "restore",
    }  # fmt: skip
    assert ns["status"] == "converged"


def test_without_waiting_each_run_brings_one_more_tier(
    tiered: FakeCluster, tmp_path: Path, sleeps: list[float]
) -> None:
    up = down_then(tmp_path, tiered)
    states = []
    for _ in range(3):
        code, _, err = cli("run", "-s", up, "-o", "json", "--wake-wait", "0s")
        assert code == 0, err
        states.append((
            tiered.get("db", kind=Kind.STATEFULSET).replicas,
            tiered.get("api").replicas,
            tiered.get("nightly", kind=Kind.CRONJOB).suspend,
        ))  # fmt: skip
    assert states == [(1, 0, True), (1, 3, True), (1, 3, False)]
    assert sleeps == []


def test_a_tier_that_never_gets_ready_stops_the_command_at_its_wake_wait(
    tiered: FakeCluster, tmp_path: Path, sleeps: list[float]
) -> None:
    up = down_then(tmp_path, tiered)
    tiered.ready_at_once = False

    code, doc, err = cli("run", "-s", up, "-o", "json", "--wake-wait", "1s")

    assert code == 0, err  # waiting is not a failure: the next run goes on
    assert (tiered.get("db", kind=Kind.STATEFULSET).replicas, tiered.get("api").replicas) == (1, 0)
    assert sleeps == [1.0]  # looked once more, at the end of --wake-wait
    (ns,) = doc["namespaces"]
    waiting = {a["name"]: a.get("reason") for a in ns["actions"]}
    assert waiting == {"db": None, "api": "waiting-for-tier", "nightly": "waiting-for-tier"}


def test_a_dry_run_never_waits(tiered: FakeCluster, tmp_path: Path, sleeps: list[float]) -> None:
    up = down_then(tmp_path, tiered)
    code, _, err = cli("run", "-s", up, "-o", "json", "--dry-run")
    assert code == 0, err
    assert sleeps == []


@pytest.mark.parametrize("value", ["soon", "2h", "-1m"])
def test_a_bad_wake_wait_is_a_usage_error(tiered: FakeCluster, tmp_path: Path, value: str) -> None:
    code, _, err = cli("run", "-s", write(tmp_path, ALWAYS_UP, "up.yaml"), "--wake-wait", value)
    assert code == 1
    assert "--wake-wait" in err
    assert tiered.writes == []
