"""The executor against the in-memory fake: all-or-nothing, conflicts, circuit breaker, dry runs."""

from __future__ import annotations

import threading
from dataclasses import replace
from types import MappingProxyType

import pytest

from nsshutdown import constants as c
from nsshutdown.errors import ExitCode
from nsshutdown.model import (
    Desired,
    Kind,
    Resources,
    SkipReason,
    Unreadable,
    Workload,
    WorkloadRef,
)
from nsshutdown.plan.planner import plan
from nsshutdown.run.executor import execute
from nsshutdown.run.report import DryRun, NamespaceStatus, Outcome, RunReport
from nsshutdown.schedule.config import load_schedule_text
from tests.cli.support import NOW, plan_of
from tests.fakes import FakeCluster, workload


def run(fake: FakeCluster, desired: Desired | dict[str, Desired], **kwargs: object) -> RunReport:
    return execute(plan_of(fake, desired), fake, **kwargs)  # type: ignore[arg-type]


def outcomes(report: RunReport, namespace: str) -> dict[str, Outcome]:
    ns = next(ns for ns in report.namespaces if ns.plan.namespace == namespace)
    return {r.action.ref.name: r.outcome for r in ns.results}


def status(report: RunReport, namespace: str) -> NamespaceStatus:
    return next(ns.status for ns in report.namespaces if ns.plan.namespace == namespace)


@pytest.fixture
def fake() -> FakeCluster:
    return FakeCluster(
        [
            workload("api", replicas=3),
            workload("db", kind=Kind.STATEFULSET, replicas=1),
            workload("nightly", kind=Kind.CRONJOB),
            workload("web", namespace="dev-b", replicas=2),
        ]
    )


def test_shutdown_then_restore_puts_back_exact_state(fake: FakeCluster) -> None:
    before = fake.snapshot()

    down = run(fake, Desired.DOWN)
    assert down.exit_code is ExitCode.OK
    assert fake.get("api").replicas == 0
    assert fake.get("api").annotations[c.ORIGINAL_REPLICAS] == "3"
    assert fake.get("nightly", kind=Kind.CRONJOB).suspend is True
    assert {ns.status for ns in down.namespaces} == {NamespaceStatus.CONVERGED}
    assert {h.namespace: h.replicas for h in down.holdings} == {"dev-a": 4, "dev-b": 2}

    up = run(fake, Desired.UP)
    assert up.exit_code is ExitCode.OK
    assert fake.snapshot() == before
    assert up.holdings == ()


def test_second_run_writes_nothing(fake: FakeCluster) -> None:
    run(fake, Desired.DOWN)
    writes = len(fake.writes)
    again = run(fake, Desired.DOWN)
    assert len(fake.writes) == writes
    assert {ns.status for ns in again.namespaces} == {NamespaceStatus.UNCHANGED}
    assert again.exit_code is ExitCode.OK


def test_client_dry_run_sends_nothing(fake: FakeCluster) -> None:
    before, requests = fake.snapshot(), fake.requests
    report = run(fake, Desired.DOWN, dry_run=DryRun.CLIENT)
    assert fake.requests == requests
    assert fake.snapshot() == before
    assert set(outcomes(report, "dev-a").values()) == {Outcome.DRY_RUN}
    assert report.dry_run == "client"


def test_server_dry_run_sends_every_write_with_dry_run_and_persists_nothing(
    fake: FakeCluster,
) -> None:
    before = fake.snapshot()
    report = run(fake, Desired.DOWN, dry_run=DryRun.SERVER)
    assert len(fake.writes) == 4
    assert all(w.dry_run for w in fake.writes)
    assert fake.snapshot() == before
    assert set(outcomes(report, "dev-b").values()) == {Outcome.DRY_RUN}


def test_failed_shutdown_rolls_back_the_namespace_and_others_converge(fake: FakeCluster) -> None:
    before = fake.snapshot()
    # dev-a is written in order Deployment api, CronJob nightly, StatefulSet db: db fails
    db = WorkloadRef(Kind.STATEFULSET, "dev-a", "db")
    fake.fail_writes[db] = 99

    report = run(fake, Desired.DOWN)

    assert outcomes(report, "dev-a") == {
        "nightly": Outcome.ROLLED_BACK,
        "api": Outcome.ROLLED_BACK,
        "db": Outcome.FAILED,
    }
    assert status(report, "dev-a") is NamespaceStatus.FAILED
    assert {ref: s for ref, s in fake.snapshot().items() if ref.namespace == "dev-a"} == {
        ref: s for ref, s in before.items() if ref.namespace == "dev-a"
    }
    assert fake.get("web", namespace="dev-b").replicas == 0
    assert status(report, "dev-b") is NamespaceStatus.CONVERGED
    assert report.exit_code is ExitCode.PARTIAL
    assert [h.namespace for h in report.holdings] == ["dev-b"]


def test_writes_after_a_failed_shutdown_are_not_attempted() -> None:
    fake = FakeCluster([workload(name) for name in ("a", "b", "c")])
    fake.fail_writes[WorkloadRef(Kind.DEPLOYMENT, "dev-a", "b")] = 99
    report = run(fake, Desired.DOWN)
    assert outcomes(report, "dev-a") == {
        "a": Outcome.ROLLED_BACK,
        "b": Outcome.FAILED,
        "c": Outcome.NOT_ATTEMPTED,
    }
    assert [w.ref.name for w in fake.writes] == ["a", "a"]  # the write, then its undo
    assert fake.get("c").replicas == 3


def test_failed_restore_never_undoes_the_other_restores(fake: FakeCluster) -> None:
    run(fake, Desired.DOWN)
    fake.fail_writes[WorkloadRef(Kind.DEPLOYMENT, "dev-a", "api")] = 99
    report = run(fake, Desired.UP)
    assert outcomes(report, "dev-a") == {
        "api": Outcome.FAILED,
        "nightly": Outcome.APPLIED,
        "db": Outcome.APPLIED,
    }
    assert fake.get("db", kind=Kind.STATEFULSET).replicas == 1
    assert fake.get("api").replicas == 0  # still held: the next run restores it
    assert fake.get("api").annotations[c.ORIGINAL_REPLICAS] == "3"


def test_forbidden_namespace_fails_and_the_others_converge(fake: FakeCluster) -> None:
    fake.forbidden_namespaces.add("dev-a")
    report = run(fake, Desired.DOWN)
    assert status(report, "dev-a") is NamespaceStatus.FAILED
    assert "403" in next(ns.error for ns in report.namespaces if ns.plan.namespace == "dev-a")
    assert status(report, "dev-b") is NamespaceStatus.CONVERGED
    assert report.exit_code is ExitCode.PARTIAL


def test_conflict_rereads_and_saves_the_fresh_count(fake: FakeCluster) -> None:
    api = WorkloadRef(Kind.DEPLOYMENT, "dev-a", "api")
    fake.conflict_once(api, lambda w: replace(w, replicas=7))

    report = run(fake, Desired.DOWN)

    result = next(r for ns in report.namespaces for r in ns.results if r.action.ref == api)
    assert (result.outcome, result.conflicts) == (Outcome.APPLIED, 1)
    assert result.action.from_value == 7
    assert fake.get("api").annotations[c.ORIGINAL_REPLICAS] == "7"
    assert report.exit_code is ExitCode.OK


def test_conflict_with_someone_who_already_converged_it_writes_nothing(fake: FakeCluster) -> None:
    api = WorkloadRef(Kind.DEPLOYMENT, "dev-a", "api")
    fake.conflict_once(api, lambda w: replace(w, replicas=0))
    report = run(fake, Desired.DOWN)
    result = next(r for ns in report.namespaces for r in ns.results if r.action.ref == api)
    assert (result.outcome, result.conflicts) == (Outcome.SKIPPED, 1)
    assert c.ORIGINAL_REPLICAS not in fake.get("api").annotations  # 0 with no saved count


def test_endless_conflicts_fail_after_a_bounded_number_of_rereads() -> None:
    fake = FakeCluster([workload("api")])
    ref = WorkloadRef(Kind.DEPLOYMENT, "dev-a", "api")

    class AlwaysChanging(dict[WorkloadRef, object]):
        def pop(self, key: object, default: object = None) -> object:
            return lambda w: replace(w, replicas=(w.replicas or 0) + 1)

    fake.on_patch = AlwaysChanging()  # type: ignore[assignment]
    report = execute(plan_of(fake, Desired.DOWN), fake, max_conflicts=2)
    result = report.namespaces[0].results[0]
    assert (result.outcome, result.conflicts) == (Outcome.FAILED, 2)
    assert c.ORIGINAL_REPLICAS not in fake.workloads[ref].annotations


def test_corrupt_saved_value_is_an_error_for_that_workload_only() -> None:
    fake = FakeCluster(
        [
            workload("broken", replicas=0, annotations={c.ORIGINAL_REPLICAS: "abc"}),
            workload("fine", replicas=2),
        ]
    )
    report = run(fake, Desired.DOWN)
    assert outcomes(report, "dev-a") == {"broken": Outcome.SKIPPED, "fine": Outcome.APPLIED}
    assert fake.get("fine").replicas == 0
    assert fake.get("broken").annotations[c.ORIGINAL_REPLICAS] == "abc"  # left for a human
    assert report.errors == 1
    assert status(report, "dev-a") is NamespaceStatus.FAILED
    assert report.exit_code is ExitCode.PARTIAL

    up = run(fake, Desired.UP)
    assert fake.get("fine").replicas == 2
    assert up.errors == 1


def test_circuit_open_stops_writing_and_keeps_what_was_written() -> None:
    fake = FakeCluster([workload(f"w{i}", namespace=f"ns-{i}") for i in range(5)])
    fake.circuit_after_writes = 2
    report = execute(plan_of(fake, Desired.DOWN), fake, concurrency=1)
    assert report.circuit_open
    assert report.exit_code is ExitCode.PARTIAL
    done = [ns for ns in report.namespaces if ns.status is NamespaceStatus.CONVERGED]
    assert len(done) == 2
    assert {ns.status for ns in report.namespaces[2:]} <= {
        NamespaceStatus.FAILED,
        NamespaceStatus.NOT_ATTEMPTED,
    }
    held = [w for w in fake.workloads.values() if c.ORIGINAL_REPLICAS in w.annotations]
    assert len(held) == 2
    assert all(w.replicas == 0 and w.annotations[c.ORIGINAL_REPLICAS] == "3" for w in held)


def test_namespace_annotations_are_written_first_and_a_failure_skips_the_namespace(
    fake: FakeCluster,
) -> None:
    fake.forbidden_namespaces.add("dev-b")
    report = run(
        fake,
        Desired.DOWN,
        namespace_annotations={
            "dev-a": {c.KEEP_DOWN_UNTIL: "2026-11-27T08:00:00Z", c.KEEP_UP_UNTIL: None},
            "dev-b": {c.KEEP_DOWN_UNTIL: "2026-11-27T08:00:00Z"},
        },
    )
    assert fake.namespaces["dev-a"].annotations == {c.KEEP_DOWN_UNTIL: "2026-11-27T08:00:00Z"}
    assert status(report, "dev-b") is NamespaceStatus.FAILED
    assert outcomes(report, "dev-b") == {"web": Outcome.NOT_ATTEMPTED}
    assert fake.get("web", namespace="dev-b").replicas == 2


def test_workload_deleted_since_it_was_listed_is_skipped(fake: FakeCluster) -> None:
    plan = plan_of(fake, Desired.DOWN)
    del fake.workloads[WorkloadRef(Kind.DEPLOYMENT, "dev-a", "api")]
    report = execute(plan, fake)
    assert outcomes(report, "dev-a")["api"] is Outcome.SKIPPED
    assert report.exit_code is ExitCode.OK


def test_rollback_keeps_a_change_someone_made_after_our_write() -> None:
    fake = FakeCluster([workload("a"), workload("b")])
    b = WorkloadRef(Kind.DEPLOYMENT, "dev-a", "b")
    original_patch = fake.patch_workload

    def patch_then_someone_scales_a(wl: Workload, patch: object, *, dry_run: bool) -> Workload:
        if wl.ref == b:
            a = fake.get("a")
            fake.put(replace(a, replicas=5))
            fake.fail_writes[b] = 1
        return original_patch(wl, patch, dry_run=dry_run)  # type: ignore[arg-type]

    fake.patch_workload = patch_then_someone_scales_a  # type: ignore[method-assign]
    report = run(fake, Desired.DOWN)
    result = report.namespaces[0].results[0]
    assert result.outcome is Outcome.APPLIED
    assert "someone else" in result.error
    assert fake.get("a").replicas == 5


def test_results_keep_plan_order_across_many_concurrent_namespaces() -> None:
    fake = FakeCluster([workload(f"w{i}", namespace=f"ns-{i:03d}") for i in range(60)])
    report = execute(plan_of(fake, Desired.DOWN), fake, concurrency=8)
    assert [ns.plan.namespace for ns in report.namespaces] == sorted(fake.namespaces)
    assert all(w.replicas == 0 for w in fake.workloads.values())
    assert report.api_requests == 60


def test_holdings_count_requests_times_replicas_held() -> None:
    fake = FakeCluster([replace(workload("api", replicas=4), requests=Resources(0.5, 2**30))])
    report = run(fake, Desired.DOWN)
    (holding,) = report.holdings
    assert holding.replicas == 4
    assert holding.requests == Resources(2.0, 4 * 2**30)


def test_timing_uses_the_given_clock(fake: FakeCluster) -> None:
    ticks = iter([NOW, NOW.replace(second=3)])
    report = execute(plan_of(fake, Desired.DOWN), fake, clock=lambda: next(ticks), run_id="r1")
    assert report.duration_seconds == 3
    assert report.run_id == "r1"


def test_an_unexpected_exception_fails_only_its_namespace(fake: FakeCluster) -> None:
    original = fake.patch_workload

    def boom(wl: Workload, patch: object, *, dry_run: bool) -> Workload:
        if wl.namespace == "dev-b":
            raise RuntimeError("bug")
        return original(wl, patch, dry_run=dry_run)  # type: ignore[arg-type]

    fake.patch_workload = boom  # type: ignore[method-assign]
    report = run(fake, Desired.DOWN)
    assert status(report, "dev-b") is NamespaceStatus.FAILED
    assert "internal error" in next(ns.error for ns in report.namespaces if ns.results == ())
    assert status(report, "dev-a") is NamespaceStatus.CONVERGED


def test_keda_scaledobject_pause_and_restore_round_trip() -> None:
    so = workload(
        "worker",
        kind=Kind.SCALEDOBJECT,
        annotations={c.KEDA_PAUSED_REPLICAS: "2", "team": "x"},
        scale_target=("Deployment", "worker"),
    )
    fake = FakeCluster([so])
    before = fake.snapshot()
    run(fake, Desired.DOWN)
    paused = fake.get("worker", kind=Kind.SCALEDOBJECT)
    assert paused.annotations[c.KEDA_PAUSED_REPLICAS] == "0"
    assert paused.annotations[c.ORIGINAL_PAUSED_REPLICAS] == "2"
    run(fake, Desired.UP)
    assert fake.snapshot() == before


def test_annotations_of_others_survive(fake: FakeCluster) -> None:
    api = fake.get("api")
    fake.put(replace(api, annotations=MappingProxyType({"team": "payments"})))
    run(fake, Desired.DOWN)
    run(fake, Desired.UP)
    assert dict(fake.get("api").annotations) == {"team": "payments"}


@pytest.mark.parametrize("prior", ["abc", ""])
def test_keda_pause_value_that_is_not_a_count_is_left_for_a_human(prior: str) -> None:
    so = workload("worker", kind=Kind.SCALEDOBJECT, annotations={c.KEDA_PAUSED_REPLICAS: prior})
    fake = FakeCluster([so])
    report = run(fake, Desired.DOWN)
    (result,) = report.namespaces[0].results
    assert result.action.reason is SkipReason.CORRUPT_ANNOTATION
    assert fake.writes == []
    assert dict(fake.get("worker", kind=Kind.SCALEDOBJECT).annotations) == {
        c.KEDA_PAUSED_REPLICAS: prior
    }


# --- a kind the credentials may not list ---------------------------------------------------------

UNREADABLE_SCHEDULE = """
version: 1
defaults: {gracePeriod: 0s}
schedules:
  - name: batch
    namespaces: {names: [dev-a]}
    kinds: [Deployment, Job]
    windows: [{shutdown: "* * * * *", startup: "0 0 1 1 *"}]
  - name: web
    namespaces: {names: [dev-b]}
    windows: [{shutdown: "* * * * *", startup: "0 0 1 1 *"}]
"""


def test_a_namespace_shutting_down_an_unreadable_kind_fails_alone_and_untouched() -> None:
    fake = FakeCluster(
        [workload("api", replicas=2), workload("web", namespace="dev-b", replicas=3)]
    )
    state = replace(
        fake.observe(frozenset(Kind)),
        unreadable=(Unreadable(Kind.JOB, None, "may not list jobs.batch"),),
    )
    schedule = load_schedule_text(UNREADABLE_SCHEDULE, source="test")
    planned = plan(schedule, state, NOW)
    dev_a = next(ns for ns in planned.namespaces if ns.namespace == "dev-a")
    assert dev_a.actions == ()
    assert dev_a.error == "not shut down: may not list jobs.batch"

    report = execute(planned, fake)

    assert status(report, "dev-a") is NamespaceStatus.FAILED
    assert fake.get("api").replicas == 2
    assert status(report, "dev-b") is NamespaceStatus.CONVERGED
    assert fake.get("web", namespace="dev-b").replicas == 0
    assert report.exit_code is ExitCode.PARTIAL


def test_bringing_a_namespace_up_goes_ahead_without_the_unreadable_kind() -> None:
    held = workload("api", replicas=0, annotations={c.ORIGINAL_REPLICAS: "2"})
    fake = FakeCluster([held])
    state = replace(
        fake.observe(frozenset(Kind)),
        unreadable=(Unreadable(Kind.JOB, "dev-a", "may not list jobs.batch in dev-a"),),
    )
    wanted_up = (
        "version: 1\nschedules:\n  - name: batch\n    namespaces: {names: [dev-a]}\n"
        '    kinds: [Deployment, Job]\n    holidays: ["2001-01-01"]\n'
    )
    schedule = load_schedule_text(wanted_up, source="test")
    report = execute(plan(schedule, state, NOW), fake)
    assert fake.get("api").replicas == 2
    assert report.exit_code is ExitCode.OK


def test_a_breaker_that_opens_during_a_rollback_is_reported_open() -> None:
    fake = FakeCluster([workload("a", replicas=2), workload("b", replicas=3)])
    fake.fail_on_write = 2  # b's shutdown fails: the namespace rolls back a
    fake.circuit_on_attempt = 3  # ...and the breaker opens on that undo

    report = run(fake, Desired.DOWN)

    assert report.circuit_open
    assert status(report, "dev-a") is NamespaceStatus.FAILED
    result_a = next(r for r in report.namespaces[0].results if r.action.ref.name == "a")
    assert result_a.outcome is Outcome.APPLIED
    assert "circuit open" in result_a.error
    # left down, but with its saved count: the next run restores or finishes it
    assert fake.get("a").replicas == 0
    assert fake.get("a").annotations[c.ORIGINAL_REPLICAS] == "2"


def test_a_stop_finishes_the_namespace_in_progress_and_starts_no_other(fake: FakeCluster) -> None:
    stop = threading.Event()
    api = next(ref for ref in fake.workloads if ref.name == "api")

    def asked_to_stop(current: Workload) -> Workload:  # SIGTERM arrives during dev-a's writes
        stop.set()
        return current

    fake.on_patch[api] = asked_to_stop

    report = run(fake, Desired.DOWN, stop=stop, concurrency=1)

    assert status(report, "dev-a") is NamespaceStatus.CONVERGED  # all of it, not half
    assert {fake.get(n, kind=k).replicas for n, k in (("api", Kind.DEPLOYMENT),
            ("db", Kind.STATEFULSET))} == {0}  # fmt: skip
    assert status(report, "dev-b") is NamespaceStatus.NOT_ATTEMPTED
    assert fake.get("web", namespace="dev-b").replicas == 2
    assert report.stopped
    assert report.exit_code is ExitCode.PARTIAL
