"""Hand-built :class:`RunReport` objects for the metrics, logs and savings tests.

``scenario()`` is one run over six namespaces whose every figure is known in advance:

========== ========= ======== ============================================= ==========
namespace  schedule  desired  workloads (requests per replica)               state
========== ========= ======== ============================================= ==========
dev-a      nights    down     api 3x(500m, 1Gi) shut down; cron suspended;   down
                              legacy excluded (keeps running)
dev-b      nights    down     web 2x(250m, 512Mi) shut down; young skipped   partial
                              (grace period, keeps running)
qa         nights    up       api restored 0 -> 4                             up
kube-system            up       nothing                                       excluded
team-x                 up       nothing (no schedule)                         up
dev-c      nights    down     db 1x(1, 2Gi): the write fails  (failed only)  failed
========== ========= ======== ============================================= ==========

Next transitions (the plans'): dev-a goes up at 08:00 UTC tomorrow (:data:`MORNING`), qa goes down
at 20:00 UTC tomorrow (:data:`EVENING`); the others have none.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from nsshutdown import constants as c
from nsshutdown.model import (
    Action,
    ActionType,
    Context,
    Desired,
    Kind,
    NamespacePlan,
    Reason,
    SkipReason,
    Transition,
    Workload,
)
from nsshutdown.plan.decisions import decide
from nsshutdown.run.report import (
    ActionResult,
    Holding,
    NamespaceReport,
    NamespaceStatus,
    Outcome,
    RunReport,
)
from tests import fakes

GIB = 1024**3
MIB = 1024**2
NOW = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)
STARTED = NOW
FINISHED = NOW + timedelta(seconds=2.5)
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
#: The next transitions of the scenario's "nights" schedule (down 20:00-08:00 UTC).
MORNING = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
EVENING = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)


def workload(name: str, **kwargs: Any) -> Workload:
    """:func:`tests.fakes.workload`, with no default replica count (reports state it)."""
    return fakes.workload(name, default_replicas=None, **kwargs)


def down(w: Workload, schedule: str = "nights") -> Action:
    return decide(w, Context(Desired.DOWN, NOW, shutdown_by=schedule))


def up(w: Workload) -> Action:
    return decide(w, Context(Desired.UP, NOW))


def skip(w: Workload, reason: SkipReason) -> Action:
    return Action(ActionType.SKIP, w, reason=reason)


def result(action: Action, outcome: Outcome | None = None, error: str = "") -> ActionResult:
    if outcome is None:
        outcome = Outcome.APPLIED if action.writes else Outcome.SKIPPED
    return ActionResult(action, outcome, error)


def namespace(
    name: str,
    *,
    desired: Desired = Desired.UP,
    reason: Reason = Reason.OUTSIDE_WINDOW,
    schedule: str | None = "nights",
    results: Iterable[ActionResult] = (),
    status: NamespaceStatus | None = None,
    error: str = "",
    next_transition: Transition | None = None,
) -> NamespaceReport:
    results = tuple(results)
    if status is None:
        failed = any(r.outcome is Outcome.FAILED for r in results)
        wrote = any(r.action.writes for r in results)
        status = NamespaceStatus.FAILED if failed else NamespaceStatus.CONVERGED
        status = status if wrote or failed else NamespaceStatus.UNCHANGED
    plan = NamespacePlan(
        namespace=name,
        desired=desired,
        reason=reason,
        schedule=schedule,
        next_transition=next_transition,
        actions=tuple(r.action for r in results),
    )
    return NamespaceReport(plan, status, results, error)


def report(
    *namespaces: NamespaceReport,
    dry_run: str = "",
    circuit_open: bool = False,
    api_requests: int = 0,
    holdings: tuple[Holding, ...] = (),
) -> RunReport:
    return RunReport(
        run_id="0123456789ab",
        started=STARTED,
        finished=FINISHED,
        dry_run=dry_run,
        namespaces=namespaces,
        holdings=holdings,
        circuit_open=circuit_open,
        api_requests=api_requests,
    )


def dev_a(outcome: Outcome | None = None) -> NamespaceReport:
    api = workload("api", replicas=3, cpu=0.5, memory=GIB)
    cron = workload("nightly", kind=Kind.CRONJOB, suspend=False)
    legacy = workload("legacy", replicas=1, annotations={c.EXCLUDE: "true"}, cpu=4, memory=GIB)
    return namespace(
        "dev-a",
        desired=Desired.DOWN,
        reason=Reason.WINDOW,
        results=[result(down(api), outcome), result(down(cron), outcome), result(down(legacy))],
        next_transition=Transition(MORNING, Desired.UP),
    )


def dev_b() -> NamespaceReport:
    web = workload("web", namespace="dev-b", replicas=2, cpu=0.25, memory=512 * MIB)
    young = workload("young", namespace="dev-b", replicas=1, cpu=1, memory=GIB)
    return namespace(
        "dev-b",
        desired=Desired.DOWN,
        reason=Reason.WINDOW,
        results=[result(down(web)), result(skip(young, SkipReason.GRACE_PERIOD))],
    )


def qa() -> NamespaceReport:
    held = {c.ORIGINAL_REPLICAS: "4", c.SHUTDOWN_BY: "nights"}
    api = workload("api", namespace="qa", replicas=0, annotations=held, cpu=1, memory=GIB)
    return namespace(
        "qa", results=[result(up(api))], next_transition=Transition(EVENING, Desired.DOWN)
    )


def dev_c_failed() -> NamespaceReport:
    db = workload("db", namespace="dev-c", kind=Kind.STATEFULSET, replicas=1, cpu=1, memory=2 * GIB)
    return namespace(
        "dev-c",
        desired=Desired.DOWN,
        reason=Reason.WINDOW,
        results=[result(down(db), Outcome.FAILED, "503 Service Unavailable")],
    )


def scenario(*, failed: bool = False, api_requests: int = 42) -> RunReport:
    """The run of the module docstring; ``failed`` adds dev-c, whose write fails."""
    namespaces = [
        dev_a(),
        dev_b(),
        qa(),
        namespace("kube-system", reason=Reason.EXCLUDED, schedule=None),
        namespace("team-x", reason=Reason.NO_SCHEDULE, schedule=None),
    ]
    if failed:
        namespaces.append(dev_c_failed())
    return report(*namespaces, api_requests=api_requests)
