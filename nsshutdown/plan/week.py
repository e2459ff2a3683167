"""``plan --week``: each namespace's down and up periods over seven days (drawn by
:mod:`nsshutdown.views.week`).

Periods come from the planner's own per-namespace decision, walked from one transition to the
next, so the picture cannot disagree with what ``run`` does. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from nsshutdown.model import Desired, Namespace
from nsshutdown.plan.planner import namespace_intent
from nsshutdown.schedule.config import Schedule
from nsshutdown.schedule.windows import wall_to_instant

DAYS = 7
Segment = tuple[datetime, datetime, Desired]


@dataclass(frozen=True)
class WeekRow:
    namespace: str
    schedule: str | None
    reason: (
        str  # why at the start of the week: shows "excluded" / "no-schedule" rows for what they are
    )
    segments: tuple[Segment, ...]


def week_bounds(at: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """From local midnight of the day ``at`` falls on, in ``zone``, to midnight seven days later."""
    first_day = at.astimezone(zone).date()
    return day_bounds(first_day, zone)[0], day_bounds(first_day + timedelta(days=DAYS - 1), zone)[1]


def week_rows(
    schedule: Schedule, namespaces: Iterable[Namespace], *, start: datetime, end: datetime
) -> list[WeekRow]:
    rows = []
    for ns in sorted(namespaces, key=lambda n: n.name):
        intent = namespace_intent(schedule, ns, start)
        rows.append(
            WeekRow(
                namespace=ns.name,
                schedule=intent.rule.name if intent.rule else None,
                reason=intent.reason.value,
                segments=tuple(namespace_segments(schedule, ns, start=start, end=end)),
            )
        )
    return rows


def namespace_segments(
    schedule: Schedule, ns: Namespace, *, start: datetime, end: datetime
) -> list[Segment]:
    """Consecutive ``(from, to, desired)`` periods covering ``[start, end)``."""
    segments: list[Segment] = []
    at = start
    while at < end:
        intent = namespace_intent(schedule, ns, at)
        change = intent.next_transition
        until = end if change is None or not at < change.at < end else change.at
        if segments and segments[-1][2] is intent.desired:
            segments[-1] = (segments[-1][0], until, intent.desired)
        else:
            segments.append((at, until, intent.desired))
        at = until
    return segments


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight of ``day`` to the next one, as instants (23 or 25 h apart on DST days)."""
    start = wall_to_instant(datetime.combine(day, time()), zone)
    return start, wall_to_instant(datetime.combine(day + timedelta(days=1), time()), zone)
