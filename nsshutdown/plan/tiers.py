"""Wake-up tiers: databases come back before the apps that need them, and stop after them.

A namespace's workloads fall into tiers: its ``nsshutdown.io/wake-tier`` annotation (0-99) when it
has a valid one, else the position of its kind in the schedule's ``wakeOrder`` (``suggested``:
StatefulSets 0; Deployments, Rollouts and ScaledObjects 1; CronJobs and Jobs 2); a kind not listed
comes after all of them. Without ``wakeOrder`` and ``wake-tier`` everything is one tier: no
waiting. Pure, and level-triggered like the rest of the planner:

- **Wake-up:** a run restores tier k only when no lower tier is still *waiting*; a workload is
  waiting while this run restores it, or while it was restored less than ``wakeTimeout`` ago and
  is not ready yet (:meth:`~nsshutdown.kinds.base.Mechanism.is_ready`). A restore that others wait
  on writes ``nsshutdown.io/restored-at`` in its one patch, so the timeout needs no memory between
  runs. The restores it defers are SKIPs with reason ``waiting-for-tier`` that say what they wait
  for; a missed run heals (the next one sees where things are); no run waits.
- **Shutdown:** within a run, the highest tier goes first (CronJobs, then Deployments, then
  StatefulSets). Stopping needs nothing else to be ready, so shutdowns are never deferred.

Only what the tool holds can wait or be waited on: a workload that was never scaled down, or whose
restore cannot be decided (a corrupt annotation), never blocks a tier.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from nsshutdown import constants as c
from nsshutdown.kinds import registry
from nsshutdown.model import Action, ActionType, Desired, Plan, SkipReason, Workload
from nsshutdown.timeutil import format_duration, parse_timestamp

#: The highest ``nsshutdown.io/wake-tier`` accepted; anything else is ignored (the kind's tier).
MAX_TIER = 99


def tier_of(workload: Workload, order: Sequence[Sequence[str]]) -> int:
    """Its ``wake-tier`` annotation when valid, else its kind's place in ``order``."""
    raw = workload.annotations.get(c.WAKE_TIER, "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 2:
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
        if workload.ref in restoring or _settling(workload, timeout, now):
            waiting.setdefault(tier_of(workload, order), []).append(workload)
    if not waiting:
        return tuple(actions)
    first = min(waiting)
    later_restores = any(tier > first and any(w.ref in restoring for w in ws)
                         for tier, ws in waiting.items())  # fmt: skip
    out = []
    for action in actions:
        tier = tier_of(action.workload, order)
        if action.type is ActionType.RESTORE and tier > first:
            out.append(_deferred(action, waiting[first], first, timeout, now))
        elif action.type is ActionType.RESTORE and later_restores and action.patch is not None:
            stamped = {**action.patch.annotations, c.RESTORED_AT: now.isoformat()}
            out.append(replace(action, patch=replace(action.patch, annotations=stamped)))
        else:
            out.append(action)
    return tuple(out)


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
    raw = workload.annotations.get(c.RESTORED_AT)
    if raw is None:
        return None
    try:
        return parse_timestamp(raw)
    except ValueError:
        return None  # not ours to trust: waits on nothing


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
