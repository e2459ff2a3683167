"""What a run leaves held down, per namespace: the replicas kept from running and what they request.

Pure. Each kind's mechanism says how many replicas a held workload keeps from running
(:meth:`~nsshutdown.kinds.base.Mechanism.held_replicas`); this module adds them up per namespace,
on the workloads as observed or as a run leaves them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Final

from nsshutdown.kinds import registry
from nsshutdown.model import (
    Action,
    ActionType,
    Resources,
    SkipReason,
    Workload,
    WorkloadRef,
    apply_patch,
)
from nsshutdown.plan.holds import is_held
from nsshutdown.run.report import Holding, NamespaceReport, Outcome


def holdings_from_workloads(workloads: Iterable[Workload]) -> tuple[Holding, ...]:
    """One :class:`Holding` per namespace that holds at least one workload, sorted by namespace.

    ``requests`` is the total over held replicas: per-replica requests x :func:`held_replicas`.
    """
    replicas: dict[str, int] = defaultdict(int)
    cpu: dict[str, float] = defaultdict(float)
    memory: dict[str, float] = defaultdict(float)
    for workload in workloads:
        if not is_held(workload):
            continue
        count = registry.of(workload).held_replicas(workload)
        replicas[workload.namespace] += count
        cpu[workload.namespace] += workload.requests.cpu_cores * count
        memory[workload.namespace] += workload.requests.memory_bytes * count
    return tuple(
        Holding(namespace=ns, replicas=replicas[ns], requests=Resources(cpu[ns], memory[ns]))
        for ns in sorted(replicas)
    )


#: Outcomes whose patch counts as done: written, or (dry run) what would have been written.
DONE_OUTCOMES: Final = frozenset({Outcome.APPLIED, Outcome.DRY_RUN})


_RUNS_ON_PURPOSE = frozenset({SkipReason.EXCLUDED, SkipReason.KEDA_MANAGED})


def workloads_after(ns: NamespaceReport) -> tuple[Workload, ...]:
    """The namespace's workloads as the run leaves them: observed, plus every patch done.

    Failed, rolled-back and not-attempted actions leave the workload as observed. Workloads that
    run on purpose (excluded, KEDA-driven) are left out unless they still hold saved state.
    """
    latest: dict[WorkloadRef, Workload] = {}
    for action in ns.plan.actions:
        if not _runs_on_purpose(action):
            latest[action.ref] = action.workload
    for result in ns.results:
        action = result.action  # after a 409 the executor re-read: prefer its fresher workload
        if _runs_on_purpose(action):
            latest.pop(action.ref, None)
            continue
        workload = action.workload
        if result.outcome in DONE_OUTCOMES and action.patch is not None:
            workload = apply_patch(workload, action.patch)
        latest[action.ref] = workload
    return tuple(latest.values())


def _runs_on_purpose(action: Action) -> bool:
    return (
        action.type is ActionType.SKIP
        and action.reason in _RUNS_ON_PURPOSE
        and not is_held(action.workload)
    )
