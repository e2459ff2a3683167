"""A :class:`~nsshutdown.model.Plan` for people (a rich table) and for scripts (``--output json``).

The JSON shape is the stable contract of DESIGN.md ("plan --output json"), plus these documented
additions, which scripts may ignore:

- each action carries ``field`` (``spec.replicas``, ``spec.suspend`` or the KEDA annotation key);
- ``skip`` and ``error`` actions carry ``reason`` (e.g. ``grace-period``, ``corrupt-annotation``)
  and ``message``; skips without a reason (already converged) are left out entirely;
- a namespace carries ``message`` when there is something to explain (e.g. a bad annotation, or
  an ``nsshutdown.io/schedule`` choice that was ignored, and why);
- ``schedule_from`` says how the namespace came to ``schedule``: ``label`` or ``annotation`` (its
  own ``nsshutdown.io/schedule``), ``match`` (the first schedule whose ``namespaces`` match) or
  ``none``.

Every time is ISO 8601 with the offset of the namespace's schedule zone; ``at`` and namespaces
without a schedule use ``defaults.timezone`` (UTC unless set).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from nsshutdown.kinds.registry import mechanism
from nsshutdown.model import Action, ActionType, NamespacePlan, Plan, Transition
from nsshutdown.schedule.config import Schedule
from nsshutdown.timeutil import format_duration
from nsshutdown.views.tables import escape, print_table

if TYPE_CHECKING:
    from rich.console import Console

_STYLES = {"down": "bold blue", "up": "green"}


def zone_of(schedule: Schedule, rule_name: str | None) -> ZoneInfo:
    """The zone times of a namespace are shown in: its rule's, else the schedule default."""
    for rule in schedule.schedules:
        if rule.name == rule_name:
            return ZoneInfo(rule.timezone)
    return ZoneInfo(schedule.defaults.timezone)


# --- JSON -----------------------------------------------------------------------------------------


def plan_to_dict(plan: Plan, schedule: Schedule) -> dict[str, Any]:
    default_zone = ZoneInfo(schedule.defaults.timezone)
    return {
        "at": plan.at.astimezone(default_zone).isoformat(),
        "namespaces": [
            _namespace_dict(ns, zone_of(schedule, ns.schedule)) for ns in plan.namespaces
        ],
    }


def plan_to_json(plan: Plan, schedule: Schedule) -> str:
    return json.dumps(plan_to_dict(plan, schedule), indent=2)


def _namespace_dict(ns: NamespacePlan, zone: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "namespace": ns.namespace,
        "schedule": ns.schedule,
        "schedule_from": ns.schedule_from,
        "desired": ns.desired.value,
        "reason": ns.reason.value,
        "next_transition": _transition_dict(ns.next_transition, zone),
        "actions": [_action_dict(a) for a in ns.actions if _shown(a)],
    }
    if ns.message:
        out["message"] = ns.message
    return out


def _transition_dict(transition: Transition | None, zone: ZoneInfo) -> dict[str, str] | None:
    if transition is None:
        return None
    return {"at": transition.at.astimezone(zone).isoformat(), "to": transition.to.value}


def _action_dict(action: Action) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": action.ref.kind.value,
        "name": action.ref.name,
        "action": action.type.value,
        "field": action.field or None,
        "from": action.from_value,
        "to": action.to_value,
    }
    if action.type in (ActionType.SKIP, ActionType.ERROR):
        out["reason"] = action.reason.value if action.reason else None
        out["message"] = action.message
    return out


def _shown(action: Action) -> bool:
    """Already-converged no-ops (a SKIP without a reason) are noise, not decisions."""
    return action.type is not ActionType.SKIP or action.reason is not None


# --- text -----------------------------------------------------------------------------------------


def schedule_cell(ns: NamespacePlan) -> str:
    """Its schedule, and how the namespace chose it itself: ``nights (label)``, ``none (label)``."""
    name = ns.schedule or "-"
    chosen = ns.schedule_from in ("label", "annotation")
    return f"{ns.schedule or 'none'} ({ns.schedule_from})" if chosen else name


def format_time(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%a %d %b %H:%M %Z")


def render_text(plan: Plan, schedule: Schedule, console: Console) -> None:
    default_zone = ZoneInfo(schedule.defaults.timezone)
    console.print(f"Plan at {format_time(plan.at, default_zone)} ({default_zone.key})")
    if not plan.namespaces:
        console.print("No namespaces.")
        return
    with_actions = any(_shown(a) for ns in plan.namespaces for a in ns.actions)
    headers = ["NAMESPACE", "SCHEDULE", "DESIRED", "REASON", "NEXT CHANGE"]
    headers += ["ACTIONS"] if with_actions else []
    rows = [
        [
            ns.namespace,
            schedule_cell(ns),
            ns.desired.value,
            ns.reason.value,
            _next_change(ns, plan.at, zone_of(schedule, ns.schedule)),
            *([_action_summary(ns.actions)] if with_actions else []),
        ]
        for ns in plan.namespaces
    ]
    for row in rows:
        row[2] = f"[{_STYLES[row[2]]}]{row[2]}[/]"
    print_table(console, headers, rows)
    _render_actions(plan, console)
    for ns in plan.namespaces:
        if ns.message:
            console.print(f"[yellow]{ns.namespace}[/]: {escape(ns.message)}")


def _next_change(ns: NamespacePlan, now: datetime, zone: ZoneInfo) -> str:
    if ns.next_transition is None:
        return "-"
    at = ns.next_transition.at
    return f"{ns.next_transition.to.value} {format_time(at, zone)} ({_until(now, at)})"


def _until(now: datetime, at: datetime) -> str:
    minutes = max(0, int((at - now).total_seconds() // 60))
    return format_duration(timedelta(minutes=minutes))


def _action_summary(actions: tuple[Action, ...]) -> str:
    counts = Counter(a.type.value for a in actions if _shown(a))
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "-"


def _render_actions(plan: Plan, console: Console) -> None:
    rows = [(ns.namespace, a) for ns in plan.namespaces for a in ns.actions if _shown(a)]
    if not rows:
        return
    table: list[list[str]] = []
    for namespace, action in rows:
        change = "" if action.patch is None else (
            mechanism(action.ref.kind).change(action.from_value, action.to_value)
        )  # fmt: skip
        why = ": ".join(part for part in (str(action.reason or ""), action.message) if part)
        workload = f"{action.ref.kind} {action.ref.name}"
        table.append([namespace, workload, action.type.value, change, escape(why)])
    console.print()
    print_table(console, ("NAMESPACE", "WORKLOAD", "ACTION", "CHANGE", "WHY"), table)
