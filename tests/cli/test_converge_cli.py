"""run / shutdown / restore / wake / status through the real CLI, against the in-memory fake."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest

from nsshutdown import constants as c
from nsshutdown.cli.common import normalize_dry_run
from nsshutdown.errors import ClusterUnreachableError
from nsshutdown.model import Namespace, PinningPod, Resources
from tests.cli.support import ALWAYS_DOWN, ALWAYS_UP, cli, schedule
from tests.fakes import FakeCluster, workload


def test_run_shuts_down_what_the_schedule_wants_down(fake: FakeCluster, tmp_path: Path) -> None:
    code, doc, _ = cli("run", "-s", schedule(tmp_path), "-o", "json")
    assert code == 0
    assert fake.get("api").replicas == 0
    assert fake.get("tool", namespace="ops").replicas == 1  # no schedule
    by_ns = {ns["namespace"]: ns for ns in doc["namespaces"]}
    assert by_ns["dev-a"]["status"] == "converged"
    assert by_ns["dev-a"]["desired"] == "down"
    assert by_ns["dev-a"]["schedule"] == "always-down"
    api = next(a for a in by_ns["dev-a"]["actions"] if a["name"] == "api")
    assert api == {
        "kind": "Deployment", "name": "api", "action": "shutdown", "field": "spec.replicas",
        "from": 3, "to": 0, "outcome": "applied", "error": None, "conflicts": 0,
    }  # fmt: skip
    assert by_ns["dev-a"]["held"]["replicas"] == 3
    assert by_ns["ops"]["status"] == "unchanged"
    assert doc["exit_code"] == 0
    assert doc["dry_run"] is None
    assert doc["summary"]["converged"] == 2
    assert set(doc) >= {"at", "run_id", "errors", "api_requests", "circuit_open"}


@pytest.mark.parametrize(
    ("flag", "mode"),
    [("--dry-run", "client"), ("--dry-run=client", "client"), ("--dry-run=server", "server")],
)
def test_dry_run_writes_nothing(fake: FakeCluster, tmp_path: Path, flag: str, mode: str) -> None:
    before = fake.snapshot()
    code, doc, _ = cli("run", flag, "-s", schedule(tmp_path), "-o", "json")
    assert code == 0
    assert fake.snapshot() == before
    assert doc["dry_run"] == mode
    outcomes = {a["outcome"] for ns in doc["namespaces"] for a in ns["actions"]}
    assert outcomes == {"dry-run"}
    assert all(w.dry_run for w in fake.writes)
    assert (len(fake.writes) > 0) == (mode == "server")


def test_bare_dry_run_before_a_namespace_argument_is_client_dry_run(
    fake: FakeCluster, tmp_path: Path
) -> None:
    code, doc, _ = cli("shutdown", "--dry-run", "dev-a", "-s", schedule(tmp_path), "-o", "json")
    assert code == 0, doc
    assert doc["dry_run"] == "client"
    assert fake.get("api").replicas == 3


def test_normalize_dry_run_leaves_arguments_after_double_dash_alone() -> None:
    assert normalize_dry_run(["--dry-run", "x", "--", "--dry-run"]) == [
        "--dry-run=client", "x", "--", "--dry-run",
    ]  # fmt: skip


def test_invalid_dry_run_mode_is_bad_input(fake: FakeCluster, tmp_path: Path) -> None:
    code, _, _ = cli("run", "--dry-run=maybe", "-s", schedule(tmp_path))
    assert code == 2  # click's usage error
    assert fake.requests == 0


def test_bad_schedule_is_exit_1_and_never_connects(fake: FakeCluster, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nbogus: true\n")
    code, _, err = cli("run", "-s", bad)
    assert code == 1
    assert "bogus" in err
    assert fake.connected == []  # type: ignore[attr-defined]


def test_missing_schedule_is_exit_1(fake: FakeCluster) -> None:
    code, _, err = cli("run")
    assert code == 1
    assert "--schedule" in err


def test_unreachable_cluster_is_exit_3(fake: FakeCluster, tmp_path: Path) -> None:
    fake.unreachable = True
    code, _, err = cli("run", "-s", schedule(tmp_path))
    assert code == 3
    assert "cannot reach" in err


def test_partial_failure_is_exit_2(fake: FakeCluster, tmp_path: Path) -> None:
    fake.forbidden_namespaces.add("dev-b")
    code, doc, _ = cli("run", "-s", schedule(tmp_path), "-o", "json")
    assert code == 2
    by_ns = {ns["namespace"]: ns for ns in doc["namespaces"]}
    assert by_ns["dev-b"]["status"] == "failed"
    assert "403" in by_ns["dev-b"]["error"]
    assert by_ns["dev-a"]["status"] == "converged"
    assert doc["exit_code"] == 2


def test_internal_error_is_exit_4(fake: FakeCluster, tmp_path: Path) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("bug")

    fake.observe = broken  # type: ignore[method-assign]
    code, _, err = cli("run", "-s", schedule(tmp_path))
    assert code == 4
    assert "internal error" in err


def test_own_namespace_is_never_shut_down(
    fake: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(c.POD_NAMESPACE_ENV, "dev-b")
    code, doc, _ = cli("run", "-s", schedule(tmp_path), "-o", "json")
    assert code == 0
    assert fake.get("web", namespace="dev-b").replicas == 2
    assert {ns["namespace"]: ns["reason"] for ns in doc["namespaces"]}["dev-b"] == "excluded"


def test_run_twice_changes_nothing_the_second_time(fake: FakeCluster, tmp_path: Path) -> None:
    cli("run", "-s", schedule(tmp_path))
    writes = len(fake.writes)
    code, doc, _ = cli("run", "-s", schedule(tmp_path), "-o", "json")
    assert code == 0
    assert len(fake.writes) == writes
    assert {ns["status"] for ns in doc["namespaces"]} == {"unchanged"}


def test_schedule_removed_restores(fake: FakeCluster, tmp_path: Path) -> None:
    before = fake.snapshot()
    cli("run", "-s", schedule(tmp_path))
    empty = tmp_path / "empty.yaml"
    empty.write_text("version: 1\n")
    code, _, _ = cli("run", "-s", empty)
    assert code == 0
    assert fake.snapshot() == before


def test_configmap_schedule(fake: FakeCluster) -> None:
    fake.configmaps[("ops", "nsshutdown")] = {"schedule.yaml": ALWAYS_DOWN.format(grace="0s")}
    code, _, _ = cli("run", "--configmap", "ops/nsshutdown")
    assert code == 0
    assert fake.get("api").replicas == 0


@pytest.mark.parametrize("ref", ["ops/missing", "ops/nsshutdown:other.yaml"])
def test_missing_configmap_or_key_is_bad_input(fake: FakeCluster, ref: str) -> None:
    fake.configmaps[("ops", "nsshutdown")] = {"schedule.yaml": "version: 1\n"}
    code, _, _ = cli("run", "--configmap", ref)
    assert code == 1


def test_malformed_configmap_ref_is_exit_1_before_connecting(fake: FakeCluster) -> None:
    code, _, err = cli("run", "--configmap", "just-a-name")
    assert code == 1
    assert "NAMESPACE/NAME" in err
    assert fake.connected == []  # type: ignore[attr-defined]


def test_cluster_flags_reach_the_connection(fake: FakeCluster, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kc"
    args = ["--qps", "5", "--burst", "7", "--concurrency", "3", "--retries", "1"]
    args += ["--scope-namespaces", "dev-a, dev-b,dev-a"]
    cli("run", "-s", schedule(tmp_path), "--kubeconfig", kubeconfig, "--context", "x", *args)
    (options,) = fake.connected  # type: ignore[attr-defined]
    assert (options.kubeconfig, options.context) == (kubeconfig, "x")
    assert options.scope == ("dev-a", "dev-b")
    limits = options.limits
    assert (limits.qps, limits.burst, limits.concurrency, limits.attempts) == (5, 7, 3, 2)


# --- manual commands ----------------------------------------------------------------------------


def test_shutdown_for_a_duration_writes_keep_down_until(fake: FakeCluster, tmp_path: Path) -> None:
    up = schedule(tmp_path, ALWAYS_UP)
    code, doc, _ = cli("shutdown", "dev-a", "--for", "2h", "-s", up, "-o", "json")
    assert code == 0
    assert fake.get("api").replicas == 0
    assert fake.get("web", namespace="dev-b").replicas == 2  # not named
    assert c.KEEP_DOWN_UNTIL in fake.namespaces["dev-a"].annotations
    assert [ns["namespace"] for ns in doc["namespaces"]] == ["dev-a"]
    # the next scheduled run keeps it down
    cli("run", "-s", up)
    assert fake.get("api").replicas == 0
    assert fake.get("api").annotations[c.SHUTDOWN_BY] == c.MANUAL


def test_shutdown_without_duration_warns_the_schedule_brings_it_back(
    fake: FakeCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    up = schedule(tmp_path, ALWAYS_UP)
    code, _, _ = cli("shutdown", "dev-a", "-s", up)
    assert code == 0
    assert "next scheduled run brings it up again" in caplog.text
    cli("run", "-s", up)
    assert fake.get("api").replicas == 3


def test_shutdown_works_without_a_schedule(fake: FakeCluster) -> None:
    code, _, _ = cli("shutdown", "ops")
    assert code == 0
    assert fake.get("tool", namespace="ops").replicas == 0


@pytest.mark.parametrize(
    "args",
    [
        ["shutdown", "nope"],
        ["shutdown", "dev-a", "--for", "soon"],
        ["shutdown", "dev-a", "--for", "1h", "--until", "2099-01-01T00:00:00Z"],
        ["shutdown", "dev-a", "--until", "2001-01-01T00:00:00Z"],
        ["wake", "dev-a"],
        ["restore"],
        ["restore", "dev-a", "--all"],
    ],
    ids=[
        "unknown-ns",
        "bad-duration",
        "both",
        "past",
        "wake-needs-time",
        "restore-none",
        "both-ns",
    ],
)
def test_bad_command_line_is_exit_1_and_writes_nothing(fake: FakeCluster, args: list[str]) -> None:
    before = fake.snapshot()
    code, _, _ = cli(*args)
    assert code == 1
    assert fake.snapshot() == before
    assert fake.writes == []
    assert fake.namespace_writes == []


def test_restore_all_restores_and_drops_keep_down_until(fake: FakeCluster, tmp_path: Path) -> None:
    before = fake.snapshot()
    cli("shutdown", "dev-a", "dev-b", "ops", "--for", "1d")
    code, doc, _ = cli("restore", "--all", "-s", schedule(tmp_path, ALWAYS_UP), "-o", "json")
    assert code == 0
    assert fake.snapshot() == before
    assert all(c.KEEP_DOWN_UNTIL not in ns.annotations for ns in fake.namespaces.values())
    assert {ns["namespace"] for ns in doc["namespaces"]} == {"dev-a", "dev-b", "ops"}


def test_restore_inside_a_window_warns_it_will_go_down_again(
    fake: FakeCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    down = schedule(tmp_path)
    cli("run", "-s", down)
    code, _, _ = cli("restore", "dev-a", "-s", down)
    assert code == 0
    assert fake.get("api").replicas == 3
    assert "wake" in caplog.text


def test_wake_restores_and_keeps_it_up_through_the_next_run(
    fake: FakeCluster, tmp_path: Path
) -> None:
    down = schedule(tmp_path)
    cli("shutdown", "dev-a", "--for", "1d", "-s", down)
    code, _, _ = cli("wake", "dev-a", "--for", "3h", "-s", down)
    assert code == 0
    annotations = fake.namespaces["dev-a"].annotations
    assert c.KEEP_UP_UNTIL in annotations
    assert c.KEEP_DOWN_UNTIL not in annotations
    assert fake.get("api").replicas == 3
    cli("run", "-s", down)
    assert fake.get("api").replicas == 3  # kept up despite the open window
    assert fake.get("web", namespace="dev-b").replicas == 0


def test_excluded_namespace_annotation_is_hands_off(fake: FakeCluster, tmp_path: Path) -> None:
    excluded = MappingProxyType({c.EXCLUDE: "true"})
    fake.namespaces["dev-a"] = Namespace("dev-a", annotations=excluded)
    code, _, _ = cli("run", "-s", schedule(tmp_path))
    assert code == 0
    assert fake.get("api").replicas == 3


# --- status -------------------------------------------------------------------------------------


def test_status_reports_state_holdings_and_pinning_pods(fake: FakeCluster, tmp_path: Path) -> None:
    fake.put(replace(fake.get("api"), requests=Resources(0.5, 2**30)))
    fake.pinning_pods = (PinningPod("dev-a", "batch-0", "node-1"),)
    down = schedule(tmp_path)
    cli("run", "-s", down)
    web = fake.get("web", namespace="dev-b")
    fake.put(replace(web, replicas=1))  # someone scaled dev-b back up by hand
    writes = len(fake.writes)

    code, doc, _ = cli("status", "-s", down, "-o", "json")

    assert code == 0
    assert len(fake.writes) == writes  # status writes nothing
    rows = {row["namespace"]: row for row in doc["namespaces"]}
    assert rows["dev-a"]["state"] == "down"
    assert rows["dev-a"]["replicas_held"] == 3
    assert rows["dev-a"]["cpu_cores"] == 1.5
    assert rows["dev-a"]["memory_bytes"] == 3 * 2**30
    assert rows["dev-a"]["since"] is not None
    assert rows["dev-a"]["next_transition"]["to"] == "up"
    assert rows["dev-a"]["pinning_pods"] == [{"name": "batch-0", "node": "node-1"}]
    assert rows["dev-a"]["estimated_hourly_savings"] > 0
    assert rows["dev-b"]["state"] == "partial"
    assert rows["ops"]["state"] == "up"
    assert rows["ops"]["pinning_pods"] == []


def test_status_text(fake: FakeCluster, tmp_path: Path) -> None:
    cli("run", "-s", schedule(tmp_path))
    code, out, _ = cli("status", "-s", schedule(tmp_path))
    assert code == 0
    assert "dev-a" in out
    assert "down" in out


def test_text_output_names_every_change(fake: FakeCluster, tmp_path: Path) -> None:
    code, out, _ = cli("run", "-s", schedule(tmp_path))
    assert code == 0
    assert "dev-a: shut down Deployment api: replicas 3 → 0" in out
    assert "dev-a: shut down CronJob nightly: suspended" in out
    assert "None" not in out
    assert "False" not in out


def test_a_dry_run_says_would(fake: FakeCluster, tmp_path: Path) -> None:
    code, out, _ = cli("run", "--dry-run", "-s", schedule(tmp_path))
    assert code == 0
    assert "dev-a: would shut down Deployment api: replicas 3 → 0" in out
    assert "would converge" in out
    assert " converged " not in out


def test_unreachable_error_type_maps_to_exit_3() -> None:
    assert int(ClusterUnreachableError("x").exit_code) == 3


def test_plan_without_namespace_plans_against_the_live_cluster(
    fake: FakeCluster, tmp_path: Path
) -> None:
    code, doc, _ = cli("plan", "-s", schedule(tmp_path), "-o", "json")
    assert code == 0
    actions = {ns["namespace"]: ns["actions"] for ns in doc["namespaces"]}
    assert [(a["name"], a["action"]) for a in actions["dev-a"]] == [
        ("nightly", "shutdown"),
        ("api", "shutdown"),
    ]
    assert fake.writes == []


def test_shutdown_refuses_the_tools_own_namespace(
    fake: FakeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(c.POD_NAMESPACE_ENV, "dev-a")  # the tool's own namespace
    code, _, stderr = cli("shutdown", "dev-a", "dev-b", "--for", "1h", "-o", "json")
    assert code == 1
    assert "dev-a is nsshutdown's own namespace" in stderr
    assert fake.namespace_writes == []
    assert fake.writes == []


@pytest.mark.parametrize("protected", ["kube-system", "kube-public", "kube-node-lease"])
def test_no_command_scales_a_protected_namespace_with_or_without_a_schedule(
    fake: FakeCluster, tmp_path: Path, protected: str
) -> None:
    fake.put(workload("coredns", namespace=protected, replicas=2))
    for args in (["shutdown", protected], ["shutdown", protected, "-s", schedule(tmp_path)]):
        code, _, stderr = cli(*args, "--dry-run")
        assert code == 1
        assert f"{protected} is protected" in stderr
    everything_down = schedule(tmp_path, ALWAYS_DOWN.replace('["dev-*"]', '["*"]'))
    code, doc, _ = cli("run", "-s", everything_down, "-o", "json")
    assert code == 0
    ns = next(n for n in doc["namespaces"] if n["namespace"] == protected)
    assert (ns["reason"], ns["actions"]) == ("excluded", [])
    assert fake.get("coredns", namespace=protected).replicas == 2


def test_a_namespace_whose_only_change_is_its_annotation_is_converged(fake: FakeCluster) -> None:
    cli("shutdown", "dev-b", "--for", "1h")
    code, doc, _ = cli("wake", "dev-b", "--for", "1h", "-o", "json")  # writes annotations
    assert code == 0
    code, doc, _ = cli("wake", "dev-b", "--for", "2h", "-o", "json")  # nothing held any more
    assert code == 0
    (ns,) = doc["namespaces"]
    assert (ns["status"], ns["actions"]) == ("converged", [])


def test_on_a_terminal_each_change_prints_once(fake: FakeCluster, tmp_path: Path) -> None:
    code, out, err = cli("run", "-s", schedule(tmp_path), "--log-format", "text")
    assert code == 0
    assert out.count("shut down Deployment api: replicas 3 → 0") == 1
    assert "shut down Deployment api" not in err  # the table shows it; the log only what failed
    assert "run finished" in err


def test_status_shows_only_the_namespaces_named(fake: FakeCluster, tmp_path: Path) -> None:
    code, doc, _ = cli("status", "dev-b", "-s", schedule(tmp_path), "-o", "json")
    assert code == 0
    assert [ns["namespace"] for ns in doc["namespaces"]] == ["dev-b"]
    code, _, stderr = cli("status", "no-such-ns", "-s", schedule(tmp_path))
    assert code == 1
    assert "no such namespace: no-such-ns" in stderr


def test_a_hold_longer_than_max_hold_is_refused(fake: FakeCluster, tmp_path: Path) -> None:
    code, _, stderr = cli("wake", "dev-a", "--for", "8d", "-s", schedule(tmp_path))
    assert code == 1
    assert "more than 7d away (defaults.maxHold" in stderr
    assert fake.namespace_writes == []
    short = schedule(tmp_path, ALWAYS_DOWN.replace("defaults: {{", "defaults: {{maxHold: 2h, "))
    assert cli("wake", "dev-a", "--for", "3h", "-s", short)[0] == 1
    assert cli("wake", "dev-a", "--for", "1h", "-s", short)[0] == 0


def test_resume_ends_a_hold_and_follows_the_schedule_now(fake: FakeCluster, tmp_path: Path) -> None:
    always_down = schedule(tmp_path)
    assert cli("wake", "dev-a", "--for", "3h", "-s", always_down)[0] == 0
    assert cli("run", "-s", always_down)[0] == 0
    assert fake.get("api").replicas == 3  # held up despite the open window

    code, doc, _ = cli("resume", "dev-a", "-s", always_down, "-o", "json")

    assert code == 0
    assert c.KEEP_UP_UNTIL not in fake.namespaces["dev-a"].annotations
    assert fake.get("api").replicas == 0  # the schedule wants it down, now
    assert doc["namespaces"][0]["reason"] == "window"


def test_wake_says_when_the_hold_ends(fake: FakeCluster, tmp_path: Path) -> None:
    code, out, _ = cli("wake", "dev-a", "--for", "3h", "-s", schedule(tmp_path))
    assert code == 0
    assert "dev-a stays up until" in out
    assert "(in 3h)" in out


def test_shutdown_warns_only_what_is_true(
    fake: FakeCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    always_down = schedule(tmp_path)
    assert cli("wake", "dev-a", "--for", "3h", "-s", always_down)[0] == 0
    caplog.clear()
    # shutdown removes the keep-up-until: the schedule (down) then agrees, so no warning
    assert cli("shutdown", "dev-a", "-s", always_down)[0] == 0
    assert "brings it up again" not in caplog.text
    always_up = schedule(tmp_path, ALWAYS_UP)
    assert cli("shutdown", "dev-b", "-s", always_up)[0] == 0
    assert "dev-b: the next scheduled run brings it up again" in caplog.text
