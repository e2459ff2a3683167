"""Cron expressions as wall-clock calendars: on which local dates, at which local times, they fire.

croniter parses and expands the expression (so the syntax is exactly croniter's: ranges, steps,
lists, month and day names, ``L`` for the last day of the month, ``weekday#n``); the matching here
is plain calendar arithmetic on naive dates. Walking day by day is what the window engine needs
(fire times near an instant, in both directions) and is far cheaper than building an iterator for
every question.

Day matching is that of Kubernetes CronJobs and croniter: when both day-of-month and day-of-week
are restricted (not ``*``; note ``*/2`` counts as restricted), a day matches if EITHER does;
otherwise both must.
"""

from __future__ import annotations

import calendar
import functools
import platform
import struct
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta


def _pointer_size(
    executable: str = sys.executable, bits: str = "", linkage: str = ""
) -> tuple[str, str]:
    return bits or f"{struct.calcsize('P') * 8}bit", linkage


@contextmanager
def _architecture_from_pointer_size() -> Iterator[None]:
    """Importing croniter calls :func:`platform.architecture`, only to tell a 32-bit Python.

    That runs ``file -b`` on the interpreter in a subprocess (10 to 40 ms, most of croniter's
    import time, on every command that reads a schedule); the size of a pointer, which it also
    looks at, answers the question alone.
    """
    real = platform.architecture
    platform.architecture = _pointer_size
    try:
        yield
    finally:
        platform.architecture = real


with _architecture_from_pointer_size():
    from croniter import croniter

#: Enough days to find the next 29 February even across a skipped leap year (2100).
MAX_DAYS = 8 * 366 + 1
_ANY = "*"
_LAST = "l"


@dataclass(frozen=True)
class Cron:
    expr: str
    times: tuple[time, ...]  # sorted
    days: frozenset[int] | None  # day of month; None = any
    last_day: bool  # "L": the month's last day
    months: frozenset[int] | None
    weekdays: frozenset[int] | None  # 0 = Sunday, as in cron
    nth_weekday: frozenset[tuple[int, int]]  # "5#2" -> (5, 2): Friday only in its 2nd week
    either_day: bool  # both day fields restricted: one matching is enough

    def runs_on(self, day: date) -> bool:
        if self.months is not None and day.month not in self.months:
            return False
        by_month_day = self._month_day_matches(day)
        by_weekday = self._weekday_matches(day)
        if self.either_day:
            return by_month_day or by_weekday
        return by_month_day and by_weekday

    def _month_day_matches(self, day: date) -> bool:
        if self.days is None and not self.last_day:
            return True
        if self.last_day and day.day == calendar.monthrange(day.year, day.month)[1]:
            return True
        return self.days is not None and day.day in self.days

    def _weekday_matches(self, day: date) -> bool:
        if self.weekdays is None:
            return True
        weekday = (day.weekday() + 1) % 7
        if weekday not in self.weekdays:
            return False
        if not any(constrained == weekday for constrained, _ in self.nth_weekday):
            return True
        return (weekday, (day.day - 1) // 7 + 1) in self.nth_weekday

    def fires_back_from(self, wall: datetime) -> Iterator[datetime]:
        """Wall-clock fire times at or before ``wall``, latest first."""
        day = wall.date()
        for _ in range(MAX_DAYS):
            if self.runs_on(day):
                for at in reversed(self.times):
                    fire = datetime.combine(day, at)
                    if fire <= wall:
                        yield fire
            day -= timedelta(days=1)

    def fires_after(self, wall: datetime) -> Iterator[datetime]:
        """Wall-clock fire times strictly after ``wall``, earliest first."""
        day = wall.date()
        for _ in range(MAX_DAYS):
            if self.runs_on(day):
                for at in self.times:
                    fire = datetime.combine(day, at)
                    if fire > wall:
                        yield fire
            day += timedelta(days=1)


@functools.lru_cache(maxsize=1024)
def parse(expr: str) -> Cron:
    """Parse a 5-field (or ``@daily``-style) expression. Raises ValueError (croniter's errors are
    ValueErrors) for anything croniter rejects or this engine cannot evaluate."""
    fields, nth = croniter.expand(expr)
    minutes, hours, days, months, weekdays = fields
    return Cron(
        expr=expr,
        times=tuple(
            sorted(time(h, m) for h in _every(hours, range(24)) for m in _every(minutes, range(60)))
        ),
        days=_numbers(days, allow_last=True),
        last_day=_LAST in days,
        months=_numbers(months),
        weekdays=_numbers(weekdays),
        nth_weekday=frozenset((int(day), int(n)) for day, weeks in nth.items() for n in weeks),
        either_day=days != [_ANY] and weekdays != [_ANY],
    )


def _every(values: list[int | str], full: range) -> list[int]:
    numbers = _numbers(values)
    return list(full) if numbers is None else sorted(numbers)


def _numbers(values: list[int | str], *, allow_last: bool = False) -> frozenset[int] | None:
    if values == [_ANY]:
        return None
    numbers = set()
    for value in values:
        if isinstance(value, int):
            numbers.add(value)
        elif not (allow_last and value == _LAST):
            raise ValueError(f"unsupported cron field value {value!r}")
    return frozenset(numbers)
