"""Kubernetes Events (``--events``): which are emitted, what they say, that they are best effort.

Through the real CLI and executor against the in-memory fake, plus the wire bodies and the
breaker-neutral request path of ``nsshutdown.kube``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from nsshutdown.cli.main import app
from nsshutdown.errors import ApiError, CircuitOpenError, ConflictError, NotFoundError
from nsshutdown.kube import wire
from nsshutdown.kube.events import (
    NOTE_LIMIT,
    EventSender,
    core_event_body,
    event_body,
    event_name,
)
from nsshutdown.kube.limits import Limits
from nsshutdown.kube.resilience import Resilience
from nsshutdown.model import Desired, Kind, WorkloadEvent
from nsshutdown.run.executor import execute
from nsshutdown.run.report import DryRun
from tests.cli.support import ALWAYS_UP, cli, plan_of, schedule
from tests.fakes import FakeCluster, workload

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
AT = datetime(2026, 11, 26, 21, 0, 0, 123456, tzinfo=UTC)


def reasons(cluster: FakeCluster) -> dict[str, str]:
    return {f"{e.workload.kind} {e.workload.name}": e.reason for e in cluster.events}


# --- through the CLI --------------------------------------------------------------------------


def test_run_with_events_announces_each_applied_shutdown(fake: FakeCluster, tmp_path: Path) -> None:
    code, doc, _ = cli("run", "--events", "-s", schedule(tmp_path), "-o", "json")
    assert code == 0
    assert reasons(fake) == {
        "Deployment api": "ScaledDown",
        "CronJob nightly": "ScaledDown",
        "Deployment web": "ScaledDown",
    }
    api = next(e for e in fake.events if e.workload.name == "api")
    assert api.note == (
        f"nsshutdown: scaled Deployment dev-a/api from 3 to 0 "
        f"(schedule always-down, run {doc['run_id']})"
    )
    assert (api.action, api.warning) == ("ScaleDown", False)
    assert api.workload.uid == fake.get("api").uid != ""
    nightly = next(e for e in fake.events if e.workload.name == "nightly")
    assert nightly.note.startswith("nsshutdown: suspended CronJob dev-a/nightly (")


def test_restore_events_follow_a_later_run(fake: FakeCluster, tmp_path: Path) -> None:
    cli("run", "--events", "-s", schedule(tmp_path))
    fake.events.clear()
    code, _, _ = cli("run", "--events", "-s", schedule(tmp_path, ALWAYS_UP))
    assert code == 0
    assert set(reasons(fake).values()) == {"Restored"}
    api = next(e for e in fake.events if e.workload.name == "api")
    assert "restored Deployment dev-a/api from 0 to 3 (schedule always-up" in api.note
    nightly = next(e for e in fake.events if e.workload.name == "nightly")
    assert nightly.note.startswith("nsshutdown: resumed CronJob dev-a/nightly (")


def test_a_workload_someone_brought_back_is_released(fake: FakeCluster, tmp_path: Path) -> None:
    cli("run", "-s", schedule(tmp_path))
    fake.put(replace(fake.get("api"), replicas=5))  # scaled up by hand while down
    code, _, _ = cli("run", "--events", "-s", schedule(tmp_path, ALWAYS_UP))
    assert code == 0
    api = next(e for e in fake.events if e.workload.name == "api")
    assert (api.reason, api.action, api.warning) == ("Released", "Release", False)
    assert api.note.startswith(
        "nsshutdown: released Deployment dev-a/api: left at 5 replicas as someone set it;"
    )


def test_events_are_off_by_default(fake: FakeCluster, tmp_path: Path) -> None:
    code, _, _ = cli("run", "-s", schedule(tmp_path))
    assert code == 0
    assert fake.get("api").replicas == 0
    assert fake.events == []


def test_events_env_variable_turns_them_on(
    fake: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NSSHUTDOWN_EVENTS", "true")
    cli("shutdown", "dev-b")
    assert reasons(fake) == {"Deployment web": "ScaledDown"}
    assert "(manual, run " in fake.events[0].note


@pytest.mark.parametrize("flag", ["--dry-run", "--dry-run=server"])
def test_no_events_in_a_dry_run(fake: FakeCluster, tmp_path: Path, flag: str) -> None:
    code, _, _ = cli("run", "--events", flag, "-s", schedule(tmp_path))
    assert code == 0
    assert fake.events == []


@pytest.mark.parametrize(
    "error",
    [ApiError("create event: 500", status=500), CircuitOpenError("open"), RuntimeError("bug")],
    ids=["api-error", "circuit-open", "bug"],
)
def test_failing_events_change_nothing(fake: FakeCluster, tmp_path: Path, error: Exception) -> None:
    cli("run", "-s", schedule(tmp_path), "-o", "json")  # the same run without events, for reference
    fake.events.clear()
    fresh = FakeCluster([workload("api"), workload("web", namespace="dev-b")])
    fake.workloads, fake.namespaces = fresh.workloads, fresh.namespaces
    fake.event_error = error
    code, doc, _ = cli("run", "--events", "-s", schedule(tmp_path), "-o", "json")
    assert code == 0
    assert doc["exit_code"] == 0
    assert doc["errors"] == 0
    assert {ns["status"] for ns in doc["namespaces"] if ns["namespace"] != "ops"} == {"converged"}
    assert fake.get("api").replicas == 0


def test_a_failing_event_is_one_warning_then_debug(
    fake: FakeCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.event_error = ApiError("create event: 403 forbidden", status=403)
    with caplog.at_level(logging.DEBUG, logger="nsshutdown"):
        code, _, _ = cli("run", "--events", "--log-level", "debug", "-s", schedule(tmp_path))
    assert code == 0
    lines = [r for r in caplog.records if "not created" in r.getMessage()]
    assert len(lines) == 3
    assert [r.levelno for r in lines].count(logging.WARNING) == 1


def test_events_count_as_api_requests(fake: FakeCluster, tmp_path: Path) -> None:
    cli("run", "--dry-run=server", "-s", schedule(tmp_path))  # the same requests, no events
    without = fake.requests
    _, doc, _ = cli("run", "--events", "-s", schedule(tmp_path), "-o", "json")
    assert len(fake.events) == 3
    assert doc["api_requests"] == fake.requests == 2 * without + 3


# --- failures and roll-backs ----------------------------------------------------------------------


def test_a_failed_shutdown_is_a_warning_and_its_undone_siblings_are_rolled_back() -> None:
    cluster = FakeCluster([workload("a-first"), workload("b-broken"), workload("c-last")])
    cluster.fail_writes[cluster.get("b-broken").ref] = 99
    report = execute(plan_of(cluster, Desired.DOWN), cluster, events=True, run_id="r1")
    assert report.exit_code == 2
    assert reasons(cluster) == {
        "Deployment a-first": "RolledBack",
        "Deployment b-broken": "ScaleDownFailed",
    }
    warnings = {e.workload.name: e for e in cluster.events}
    assert all(e.warning for e in warnings.values())
    assert warnings["b-broken"].note.startswith(
        "nsshutdown: could not scale Deployment dev-a/b-broken from 3 to 0: patch"
    )
    assert "then rolled it back" in warnings["a-first"].note
    assert warnings["a-first"].note.endswith("(manual, run r1)")


def test_executor_without_events_sends_none() -> None:
    cluster = FakeCluster([workload("api")])
    execute(plan_of(cluster, Desired.DOWN), cluster, dry_run=DryRun.NONE)
    assert cluster.events == []


# --- the wire -------------------------------------------------------------------------------------


def _event(note: str = "nsshutdown: scaled", *, warning: bool = False) -> WorkloadEvent:
    stored = FakeCluster([workload("api", kind=Kind.STATEFULSET)]).get("api", kind=Kind.STATEFULSET)
    return WorkloadEvent(stored, "ScaledDown", "ScaleDown", note, AT, warning=warning)


def test_events_k8s_io_body() -> None:
    event = _event()
    body = event_body(event, instance="nsshutdown-29412345-x7k2p")
    assert body == {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "api.18ebb402b301ea00", "namespace": "dev-a"},
        "eventTime": "2026-11-26T21:00:00.123456Z",
        "reportingController": "nsshutdown.io/nsshutdown",
        "reportingInstance": "nsshutdown-29412345-x7k2p",
        "action": "ScaleDown",
        "reason": "ScaledDown",
        "regarding": {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "namespace": "dev-a",
            "name": "api",
            "uid": event.workload.uid,
            "resourceVersion": event.workload.resource_version,
        },
        "note": "nsshutdown: scaled",
        "type": "Normal",
    }


def test_event_names_are_valid_for_the_longest_workload_name() -> None:
    event = _event()
    longest = replace(event, workload=replace(event.workload, ref=replace(
        event.workload.ref, name="a" * 250 + ".bc"
    )))  # fmt: skip
    name = event_name(longest)
    assert len(name) <= 253
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", name)
    assert ".." not in name
    assert event_name(event) != event_name(replace(event, at=event.at.replace(microsecond=1)))


def test_core_body_and_limits() -> None:
    body = core_event_body(_event("é" * 2000, warning=True), instance="pod")
    assert body["involvedObject"]["uid"]
    assert body["source"] == {"component": "nsshutdown"}
    assert body["type"] == "Warning"
    assert body["firstTimestamp"] == body["lastTimestamp"] == "2026-11-26T21:00:00Z"
    assert len(body["message"].encode()) <= NOTE_LIMIT
    assert body["message"].endswith("...")


class StubTransport:
    """Records ``send`` requests; answers each path with the next outcome queued for it."""

    def __init__(self, *errors: ApiError | None) -> None:
        self.errors = list(errors)
        self.sent: list[tuple[str, Any, bool]] = []

    def request(self, what: str, send: Any, *, best_effort: bool = False) -> Any:
        self.best_effort = best_effort
        return send()

    def send(self, method: str, path: str, *, body: Any = None) -> Any:
        self.sent.append((path, body, self.best_effort))
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        return {}


def test_sender_falls_back_to_core_events_when_the_group_is_not_served() -> None:
    transport = StubTransport(NotFoundError("404", status=404))
    sender = EventSender(transport, instance="i")  # type: ignore[arg-type]
    sender.emit(_event())
    sender.emit(_event())
    paths = [path for path, _, _ in transport.sent]
    assert paths == [
        "/apis/events.k8s.io/v1/namespaces/dev-a/events",
        "/api/v1/namespaces/dev-a/events",
        "/api/v1/namespaces/dev-a/events",  # remembered: no second try of the group
    ]
    assert all(best_effort for _, _, best_effort in transport.sent)


def test_sender_takes_an_existing_event_for_created() -> None:
    transport = StubTransport(ConflictError("409 already exists", status=409))
    EventSender(transport, instance="i").emit(_event())  # type: ignore[arg-type]
    assert len(transport.sent) == 1


def test_sender_raises_other_errors() -> None:
    sender = EventSender(StubTransport(ApiError("500", status=500)), instance="i")  # type: ignore[arg-type]
    with pytest.raises(ApiError):
        sender.emit(_event())


# --- best-effort requests and the circuit breaker -------------------------------------------------


def _failing() -> str:
    raise ApiError("503", status=503)


def test_best_effort_failures_never_open_the_circuit() -> None:
    resilience = Resilience(Limits(qps=0, breaker_threshold=2), sleep=lambda _: None)
    for _ in range(5):
        with pytest.raises(ApiError):
            resilience.call(_failing, what="event", best_effort=True)
    assert not resilience.breaker.is_open
    assert resilience.requests == 10  # two attempts each, every one counted


def test_best_effort_success_does_not_reset_the_count() -> None:
    resilience = Resilience(Limits(qps=0, breaker_threshold=2, attempts=1), sleep=lambda _: None)
    with pytest.raises(ApiError):
        resilience.call(_failing, what="patch")
    assert resilience.call(lambda: "ok", what="event", best_effort=True) == "ok"
    with pytest.raises(CircuitOpenError):
        resilience.call(_failing, what="patch")  # the second failure in a row opens it
    with pytest.raises(CircuitOpenError):
        resilience.call(lambda: "ok", what="event", best_effort=True)  # refused once open


def test_wire_reads_the_uid() -> None:
    item = {
        "metadata": {"name": "api", "namespace": "dev-a", "uid": "0b1c", "resourceVersion": "7"}
    }
    parsed = wire.parse_workload(Kind.DEPLOYMENT, {**item, "spec": {"replicas": 2}})
    assert (parsed.uid, parsed.resource_version) == ("0b1c", "7")


@pytest.mark.parametrize(
    "source",
    [
        MANIFESTS / "base" / "cronjob.yaml",
        MANIFESTS / "overlays" / "namespaced" / "cronjob-patch.yaml",
    ],
    ids=["base", "namespaced"],
)
def test_the_cronjob_arguments_parse(source: Path) -> None:
    """The shipped CronJob's argument list (with the overlay's addition) is a valid `run`."""
    cronjob = yaml.safe_load((MANIFESTS / "base" / "cronjob.yaml").read_text())
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    args = [a.replace("$(POD_NAMESPACE)", "nsshutdown") for a in pod["containers"][0]["args"]]
    if source.name == "cronjob-patch.yaml":
        args += [op["value"] for op in yaml.safe_load(source.read_text())]
    command = typer.main.get_command(app)
    assert args[0] == "run"
    context = command.commands["run"].make_context("run", args[1:])  # type: ignore[attr-defined]
    assert context.params["events"] is True
    assert context.params["configmap"] == "nsshutdown/nsshutdown-schedule:schedule.yaml"
    scoped = source.name == "cronjob-patch.yaml"
    assert (context.params["scope_namespaces"] is not None) == scoped
