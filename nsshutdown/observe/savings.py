"""What a shutdown holds down, and what that is estimated to save.

The estimate is **requests-based**: a held replica is counted at the CPU and memory its pod template
*requests*, priced per vCPU-hour and per GiB-hour. It is not a bill. Real savings depend on whether
the freed requests let the autoscaler (Karpenter, cluster-autoscaler) remove nodes, on node pricing,
discounts and on what the pods actually used. Defaults are OpenCost's list prices (USD); any
currency works as long as both prices use it.

Everything here is pure: ``status`` and the metrics read the same figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from nsshutdown import constants as c
from nsshutdown.model import (
    REPLICA_KINDS,
    Action,
    ActionType,
    Desired,
    Kind,
    Reason,
    Resources,
    SkipReason,
    Workload,
    WorkloadRef,
    apply_patch,
)
from nsshutdown.plan.decisions import is_held
from nsshutdown.run.report import Holding, NamespaceReport, NamespaceStatus, Outcome, RunReport

GIB: Final = 1024**3
#: Hours in an average month (365 x 24 / 12): monthly = hourly x 730, the convention cloud
#: calculators and OpenCost use.
HOURS_PER_MONTH: Final = 730


@dataclass(frozen=True)
class Prices:
    """Price of one vCPU-hour and one GiB-hour of requested resources.

    Defaults: OpenCost's on-demand list prices. :data:`SPOT_PRICES` holds its spot ones.
    """

    cpu_hour: float = 0.031611
    memory_gib_hour: float = 0.004237

    def __post_init__(self) -> None:
        if self.cpu_hour < 0 or self.memory_gib_hour < 0:
            raise ValueError("prices must not be negative")


ON_DEMAND_PRICES: Final = Prices()
SPOT_PRICES: Final = Prices(cpu_hour=0.006655, memory_gib_hour=0.000892)


def hourly_cost(requests: Resources, prices: Prices) -> float:
    """Hourly price of ``requests`` (a TOTAL over replicas, not one replica's)."""
    memory_gib = requests.memory_bytes / GIB
    return requests.cpu_cores * prices.cpu_hour + memory_gib * prices.memory_gib_hour


def monthly_cost(hourly: float) -> float:
    """``hourly`` x :data:`HOURS_PER_MONTH`."""
    return hourly * HOURS_PER_MONTH


def held_replicas(workload: Workload) -> int:
    """Replicas this tool keeps from running: saved count minus what runs now, never negative.

    Only Deployment, StatefulSet and Rollout count. A held CronJob or ScaledObject counts 0: a
    suspended CronJob has no steady replicas, and the workload a ScaledObject drives is scaled by
    KEDA, not by us, so its saved count is not known here (an under-estimate, on purpose).
    A corrupt saved value counts 0.
    """
    if workload.kind not in REPLICA_KINDS:
        return 0
    raw = workload.annotations.get(c.ORIGINAL_REPLICAS, "")
    if not raw.isdigit():
        return 0
    running = 1 if workload.replicas is None else workload.replicas
    return max(int(raw) - running, 0)


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
        count = held_replicas(workload)
        replicas[workload.namespace] += count
        cpu[workload.namespace] += workload.requests.cpu_cores * count
        memory[workload.namespace] += workload.requests.memory_bytes * count
    return tuple(
        Holding(namespace=ns, replicas=replicas[ns], requests=Resources(cpu[ns], memory[ns]))
        for ns in sorted(replicas)
    )


# --- namespace state ----------------------------------------------------------------------------


class NamespaceState(StrEnum):
    """``state`` label of ``nsshutdown_namespaces`` and the state ``status`` shows."""

    UP = "up"
    DOWN = "down"
    PARTIAL = "partial"
    EXCLUDED = "excluded"
    FAILED = "failed"


def is_running(workload: Workload) -> bool:
    """The workload is active: replicas above 0, a CronJob not suspended, KEDA not paused at 0."""
    if workload.kind in REPLICA_KINDS:
        return workload.replicas is None or workload.replicas > 0
    if workload.kind is Kind.CRONJOB:
        return not workload.suspend
    return workload.annotations.get(c.KEDA_PAUSED_REPLICAS) != "0"


def namespace_state(workloads: Iterable[Workload], desired: Desired) -> NamespaceState:
    """UP, DOWN or PARTIAL from a namespace's workloads as they are now.

    Leave out workloads that run on purpose (excluded, or driven by a KEDA ScaledObject).

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
        running = running or is_running(workload)
    if not running and (held or desired is Desired.DOWN):
        return NamespaceState.DOWN
    if held:
        return NamespaceState.PARTIAL
    return NamespaceState.UP


# --- where a run left each namespace ------------------------------------------------------------

#: Outcomes whose patch counts as done: written, or (dry run) what would have been written.
DONE_OUTCOMES: Final = frozenset({Outcome.APPLIED, Outcome.DRY_RUN})
_RUNS_ON_PURPOSE = frozenset({SkipReason.EXCLUDED, SkipReason.KEDA_MANAGED})
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
        base = namespace_state(workloads, ns.plan.desired)
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
