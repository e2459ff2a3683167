"""Wake-up tiers: databases come back before the apps that need them, and stop after them.

A namespace's workloads fall into tiers: its ``nsshutdown.io/wake-tier`` annotation (0-99) when it
has a valid one, else the position of its kind in the schedule's ``wakeOrder`` (by default
StatefulSets 0; Deployments, Rollouts and ScaledObjects 1; CronJobs and Jobs 2); a kind not listed
comes after all of them; ``wakeOrder: []`` makes everything one tier. Pure, and level-triggered
like the rest of the planner:

- **Wake-up:** a run restores tier k only when no lower tier is still *waiting*; a workload is
  waiting while this run restores it, or while it was restored less than ``wakeTimeout`` ago and
  is not ready yet (:meth:`~nsshutdown.kinds.base.Mechanism.is_ready`). A workload whose
  readiness no controller reports (no ``status.observedGeneration``, or a kind without ready
  replicas, such as a CronJob) is never waited for: nothing would ever say it is ready. When it
  was restored is the time of the tool's last write to it (its ``managedFields`` entry, field
  manager ``nsshutdown``), so the timeout needs no memory between runs and leaves nothing on the
  object. The restores it defers are SKIPs with reason ``waiting-for-tier`` that say what they
  wait for; a missed run heals (the next one sees where things are). A command may look again
  within ``--wake-wait`` (see the session), never longer.
- **Shutdown:** within a run, the highest tier goes first (CronJobs, then Deployments, then
  StatefulSets). Stopping needs nothing else to be ready, so shutdowns are never deferred.

Only what the tool holds can wait or be waited on: a workload that was never scaled down, or whose
restore cannot be decided (a corrupt annotation), never blocks a tier.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from nsshutdown import constants as c
from nsshutdown.kinds import registry
from nsshutdown.model import Action, ActionType, Desired, Plan, SkipReason, Workload
from nsshutdown.plan.holds import is_held
from nsshutdown.timeutil import format_duration

#: The highest ``nsshutdown.io/wake-tier`` accepted; anything else is ignored (the kind's tier).
MAX_TIER = 99


def tier_of(workload: Workload, order: Sequence[Sequence[str]]) -> int:
    """Its ``wake-tier`` annotation when valid, else its kind's place in ``order``."""
    raw = workload.annotations.get(c.WAKE_TIER, "")
    if raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_TIER)):
        return int(raw)
    name = workload.kind.value
    return next((i for i, tier in enumerate(order) if name in tier), len(order))


def ordered(
    actions: Iterable[Action], desired: Desired, order: Sequence[Sequence[str]]
) -> tuple[Action, ...]:
    """Lowest tier first when coming up, highest first when going down; then kind and name."""
    sign = -1 if desired is Desired.DOWN else 1
    return tuple(
        sorted(
            actions,
            key=lambda a: (sign * tier_of(a.workload, order), a.ref.kind.value, a.ref.name),
        )
    )


def gate(
    actions: Sequence[Action],
    workloads: Iterable[Workload],
    *,
    order: Sequence[Sequence[str]],
    timeout: timedelta,
    now: datetime,
) -> tuple[Action, ...]:
    """The actions of one namespace coming up (``workloads``: all of its own), with the restores
    that must wait deferred."""
    restoring = {a.ref for a in actions if a.type is ActionType.RESTORE}
    waiting: dict[int, list[Workload]] = {}
    for workload in workloads:
        reported = workload.ready is not None  # a controller reports its readiness
        if (workload.ref in restoring and reported) or _settling(workload, timeout, now):
            waiting.setdefault(tier_of(workload, order), []).append(workload)
    if not waiting:
        return tuple(actions)
    first = min(waiting)
    return tuple(
        _deferred(action, waiting[first], first, timeout, now)
        if action.type is ActionType.RESTORE and tier_of(action.workload, order) > first
        else action
        for action in actions
    )


def waiting(plan: Plan) -> list[str]:
    """Namespaces of ``plan`` with a restore held back for a lower wake-up tier."""
    return [
        ns.namespace
        for ns in plan.namespaces
        if any(a.reason is SkipReason.WAITING_FOR_TIER for a in ns.actions)
    ]


def _settling(workload: Workload, timeout: timedelta, now: datetime) -> bool:
    """Restored by a run less than ``timeout`` ago, and not ready yet."""
    restored = _restored_at(workload)
    if restored is None or now - restored >= timeout:
        return False
    return not registry.of(workload).is_ready(workload)


def _restored_at(workload: Workload) -> datetime | None:
    """When a run brought it back: the tool's last write to a workload it no longer holds."""
    return None if is_held(workload) else workload.written_at


def _deferred(
    action: Action, blockers: list[Workload], tier: int, timeout: timedelta, now: datetime
) -> Action:
    names = ", ".join(f"{b.kind} {b.name}" for b in blockers[:3])
    more = f" and {len(blockers) - 3} more" if len(blockers) > 3 else ""
    restored = [t for b in blockers if (t := _restored_at(b)) is not None]
    if len(restored) == len(blockers):
        until = max(restored) + timeout
        bound = f", at most {format_duration(until - now)} more"
    else:
        bound = f", at most {format_duration(timeout)} once restored"
    message = f"waits for wake-up tier {tier} ({names}{more}) to be ready{bound}"
    return Action(
        ActionType.SKIP,
        action.workload,
        action.field,
        action.from_value,
        action.from_value,
        reason=SkipReason.WAITING_FOR_TIER,
        message=message,
        context=action.context,
    )
