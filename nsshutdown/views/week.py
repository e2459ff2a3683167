"""``plan --week`` for people and scripts: seven days of down and up periods per namespace.

The quickest way for a person to check a schedule: a wrong day range or a swapped cron shows up as
a visibly wrong stripe.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from nsshutdown.model import Desired
from nsshutdown.plan.week import DAYS, Segment, WeekRow, day_bounds

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

# Glyphs differ as well as colours, so the picture survives a terminal without colour.
_DOWN, _UP, _MIXED = ("█", "bold blue"), ("░", "green"), ("▒", "yellow")


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
    from rich.table import Table  # noqa: PLC0415 - rich only when printing (views/tables.py)
    from rich.text import Text  # noqa: PLC0415

    first_day = start.astimezone(zone).date()
    days = [first_day + timedelta(days=i) for i in range(DAYS)]
    # Names are never cut: the days share what the widest name leaves, down to 4 blocks a day.
    name_width = max([len("NAMESPACE"), *(len(r.namespace) for r in rows)])
    slots = _slots_per_day(console.width - name_width - 1)
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 1, 0, 0))
    table.add_column("NAMESPACE", min_width=name_width, no_wrap=True)
    label = "%a %d %b" if slots >= len("Mon 01 Jan") else "%a %d"
    for day in days:
        table.add_column(f"{day:{label}}\n{_ticks(slots)}", no_wrap=True, width=slots)
    for row in rows:
        cells = [_day_cells(row.segments, day_bounds(day, zone), slots) for day in days]
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
    step_hours = 6 if slots >= 12 else 12
    for hour in range(0, 24, step_hours):
        label = str(hour)
        pos = hour * slots // 24
        if pos + len(label) <= slots:
            marks[pos : pos + len(label)] = label
    return "".join(marks)


def _day_cells(segments: Sequence[Segment], bounds: tuple[datetime, datetime], slots: int) -> Text:
    # Slots split the real length of the day (23 or 25 hours on a clock change) evenly, so every
    # day is drawn the same width.
    from rich.text import Text  # noqa: PLC0415 - rich only when printing (views/tables.py)

    day_start, day_end = bounds
    size = (day_end - day_start) / slots
    cells = Text()
    for index in range(slots):
        lo, hi = day_start + index * size, day_start + (index + 1) * size
        states = {desired for a, b, desired in segments if a < hi and b > lo}
        glyph, style = _MIXED if len(states) > 1 else (_DOWN if Desired.DOWN in states else _UP)
        cells.append(glyph, style)
    return cells
