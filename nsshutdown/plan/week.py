"""``plan --week``: each namespace's down and up periods over seven days, drawn in the terminal.

The quickest way for a person to check a schedule: a wrong day range or a swapped cron shows up as
a visibly wrong stripe. Periods come from the planner's own per-namespace decision, walked from one
transition to the next, so the picture cannot disagree with what ``run`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from rich.text import Text

from nsshutdown.model import Desired, Namespace
from nsshutdown.plan.planner import namespace_intent
from nsshutdown.schedule.config import Schedule
from nsshutdown.schedule.windows import wall_to_instant

DAYS = 7
Segment = tuple[datetime, datetime, Desired]
# Glyphs differ as well as colours, so the picture survives a terminal without colour.
_DOWN, _UP, _MIXED = ("█", "bold blue"), ("░", "green"), ("▒", "yellow")
_NAME_WIDTH = 28


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
    return _day_bounds(first_day, zone)[0], _day_bounds(first_day + timedelta(days=DAYS - 1), zone)[
        1
    ]


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


def week_to_dict(
    rows: Sequence[WeekRow], *, start: datetime, end: datetime, zone: ZoneInfo
) -> dict[str, Any]:
    def iso(at: datetime) -> str:
        return at.astimezone(zone).isoformat()

    return {
        "start": iso(start),
        "end": iso(end),
        "namespaces": [
            {
                "namespace": row.namespace,
                "schedule": row.schedule,
                "periods": [
                    {"from": iso(a), "to": iso(b), "desired": desired.value}
                    for a, b, desired in row.segments
                ],
            }
            for row in rows
        ],
    }


# --- drawing --------------------------------------------------------------------------------------


def render_week(
    rows: Sequence[WeekRow], *, start: datetime, zone: ZoneInfo, console: Console
) -> None:
    first_day = start.astimezone(zone).date()
    days = [first_day + timedelta(days=i) for i in range(DAYS)]
    name_width = min(_NAME_WIDTH, max([len("NAMESPACE"), *(len(r.namespace) for r in rows)]))
    slots = _slots_per_day(console.width - name_width - 1)
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 1, 0, 0))
    table.add_column("NAMESPACE", max_width=name_width, no_wrap=True, overflow="ellipsis")
    for day in days:
        table.add_column(f"{day:%a %d %b}\n{_ticks(slots)}", no_wrap=True, min_width=slots)
    for row in rows:
        cells = [_day_cells(row.segments, _day_bounds(day, zone), slots) for day in days]
        table.add_row(Text(row.namespace), *cells)
    console.print(f"Week from {first_day:%a %d %b %Y}, times in {zone.key}")
    console.print(table)
    legend = Text()
    for (glyph, style), label in ((_DOWN, "down"), (_UP, "up"), (_MIXED, "changes in the block")):
        legend.append(glyph, style).append(f" {label}   ")
    legend.append(f"(one block = {24 // slots}h)" if slots < 24 else "(one block = 1h)")
    console.print(legend)
    _print_notes(rows, console)


def _print_notes(rows: Sequence[WeekRow], console: Console) -> None:
    for row in rows:
        if row.schedule is None:
            console.print(f"{row.namespace}: {row.reason} (always up)", style="dim")


def _slots_per_day(width: int) -> int:
    """As many blocks per day as fit, from one per hour down to one per six hours."""
    for slots in (24, 12, 8, 6, 4):
        if DAYS * (slots + 1) <= width:
            return slots
    return 4


def _ticks(slots: int) -> str:
    marks = [" "] * slots
    step_hours = 6 if slots >= 8 else 12
    for hour in range(0, 24, step_hours):
        label = str(hour)
        pos = hour * slots // 24
        if pos + len(label) <= slots:
            marks[pos : pos + len(label)] = label
    return "".join(marks)


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = wall_to_instant(datetime.combine(day, time()), zone)
    return start, wall_to_instant(datetime.combine(day + timedelta(days=1), time()), zone)


def _day_cells(segments: Sequence[Segment], bounds: tuple[datetime, datetime], slots: int) -> Text:
    # Slots split the real length of the day (23 or 25 hours on a clock change) evenly, so every
    # day is drawn the same width.
    day_start, day_end = bounds
    size = (day_end - day_start) / slots
    cells = Text()
    for index in range(slots):
        lo, hi = day_start + index * size, day_start + (index + 1) * size
        states = {desired for a, b, desired in segments if a < hi and b > lo}
        glyph, style = _MIXED if len(states) > 1 else (_DOWN if Desired.DOWN in states else _UP)
        cells.append(glyph, style)
    return cells
