"""Where a run left each namespace: up, down, partial, excluded or failed, and what it holds.

Pure. The metrics and ``status`` read the same figures, so a namespace's state on a dashboard is
the state ``status`` prints.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from nsshutdown.kinds import registry
from nsshutdown.model import Desired, Reason, Workload
from nsshutdown.plan.holds import is_held
from nsshutdown.run.holdings import holdings_from_workloads, workloads_after
from nsshutdown.run.report import Holding, NamespaceReport, NamespaceStatus, RunReport


class NamespaceState(StrEnum):
    """``state`` label of ``nsshutdown_namespaces`` and the state ``status`` shows."""

    UP = "up"
    DOWN = "down"
    PARTIAL = "partial"
    EXCLUDED = "excluded"
    FAILED = "failed"


def is_running(workload: Workload) -> bool:
    """The workload is active: replicas above 0, not suspended, KEDA not paused at 0."""
    return registry.of(workload).is_running(workload)


def namespace_state(
    workloads: Iterable[Workload], desired: Desired, *, down_replicas: int = 0
) -> NamespaceState:
    """UP, DOWN or PARTIAL from a namespace's workloads as they are now.

    Leave out workloads that run on purpose (excluded, or driven by a KEDA ScaledObject). With
    ``downReplicas: N`` a replica count left at or below N (never scaled, so nothing is held)
    is down too.

    - DOWN: nothing runs, and something is held or the namespace is wanted down (a namespace
      whose workloads were all at zero already is down, though nothing is held);
    - PARTIAL: something is held and something else still runs (grace period, a failed write,
      a corrupt annotation, someone scaled it back up);
    - UP: nothing held, and something runs or the namespace is wanted up.

    EXCLUDED and FAILED come from the plan and the run, not from the workloads: the caller decides
    those first.
    """
    held = running = False
    for workload in workloads:
        held = held or is_held(workload)
        running = running or (is_running(workload) and not _left_small(workload, down_replicas))
    if not running and (held or desired is Desired.DOWN):
        return NamespaceState.DOWN
    if held:
        return NamespaceState.PARTIAL
    return NamespaceState.UP


def _left_small(workload: Workload, down_replicas: int) -> bool:
    """Never scaled down because it already had no more than ``downReplicas``."""
    replicas = workload.replicas
    return replicas is not None and replicas <= down_replicas and not is_held(workload)


#: A namespace whose writes failed, or were not attempted (circuit breaker), did not converge.
_NOT_CONVERGED = frozenset({NamespaceStatus.FAILED, NamespaceStatus.NOT_ATTEMPTED})


@dataclass(frozen=True)
class NamespaceOutcome:
    """Where a run left one namespace (in a dry run: where it would have left it)."""

    namespace: str
    schedule: str  # "" when no schedule owns it
    state: NamespaceState
    desired_down: bool
    down: bool  # down or partially down, whatever FAILED/EXCLUDED label the state carries
    holding: Holding
    tracked: bool  # owned by a schedule, wanted down, held, failed or written to: one series each


def namespace_outcomes(report: RunReport) -> tuple[NamespaceOutcome, ...]:
    """One outcome per namespace of the report, in report order.

    Holdings come from ``report.holdings`` when the executor filled it, otherwise from the
    workloads as the run left them (:func:`holdings_from_workloads`).
    """
    given = {h.namespace: h for h in report.holdings}
    outcomes = []
    for ns in report.namespaces:
        name = ns.plan.namespace
        workloads = workloads_after(ns)
        if report.holdings:
            holding = given.get(name, Holding(name))
        else:
            holding = next(iter(holdings_from_workloads(workloads)), Holding(name))
        base = namespace_state(workloads, ns.plan.desired, down_replicas=ns.plan.down_replicas)
        outcomes.append(_outcome(ns, base, holding))
    return tuple(outcomes)


def _outcome(ns: NamespaceReport, base: NamespaceState, holding: Holding) -> NamespaceOutcome:
    plan = ns.plan
    state = base
    if ns.status in _NOT_CONVERGED or (ns.error and not ns.results):
        state = NamespaceState.FAILED
    elif plan.reason is Reason.EXCLUDED:
        state = NamespaceState.EXCLUDED
    down = base is not NamespaceState.UP
    desired_down = plan.desired is Desired.DOWN
    tracked = (
        plan.schedule is not None
        or desired_down
        or down
        or state is NamespaceState.FAILED
        or holding.replicas > 0
        or any(r.action.writes for r in ns.results)
    )
    return NamespaceOutcome(
        namespace=plan.namespace,
        schedule=plan.schedule or "",
        state=state,
        desired_down=desired_down,
        down=down,
        holding=holding,
        tracked=tracked,
    )
