"""The window engine: is a rule's namespace down at an instant, and when does that next change?

A window is open at ``t`` when its most recent ``shutdown`` fire time at or before ``t`` is later
than its most recent ``startup`` fire time at or before ``t`` (DESIGN.md); a tie is closed. A rule
is down inside any open window and all day on its holidays (local dates).

Cron expressions are wall-clock schedules, so fire times are computed on naive local dates and
times (:mod:`nsshutdown.schedule.cron`, which never sees a daylight-saving change) and only then
turned into instants with one rule that is monotonic, so fires stay in order and none is lost
or doubled:

- a wall time that happens twice (clocks go back) fires once, at its first occurrence (``fold=0``);
- a wall time that never happens (clocks jump forward) fires at the jump, like cron does.

Results are memoized per ``(rule, instant)``: a run asks the same question for every namespace a
rule covers, and the answer depends on nothing else.
"""

from __future__ import annotations

import functools
import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from nsshutdown.model import Desired, Reason, Transition
from nsshutdown.schedule import cron

if TYPE_CHECKING:
    from nsshutdown.schedule.config import Rule, Window

#: How far ahead ``next_transition`` looks: more than a year, so yearly holidays are found.
HORIZON = timedelta(days=400)
_CACHE_SIZE = 4096


@dataclass(frozen=True)
class WindowState:
    desired: Desired
    reason: Reason


def evaluate(rule: Rule, at: datetime) -> WindowState:
    """Whether ``rule`` wants its namespaces down at ``at``, and why."""
    return _evaluate(rule, _aware(at))


def next_transition(rule: Rule, at: datetime) -> Transition | None:
    """The first instant after ``at`` at which the desired state changes (``None``: not within
    :data:`HORIZON`).

    Instants returned by this module are in UTC: an aware datetime in a zone's repeated hour
    never compares equal to the same instant in another zone (PEP 495), a trap for callers.
    Renderers convert to the rule's zone."""
    return _next_transition(rule, _aware(at))


def timeline(
    rule: Rule, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, Desired]]:
    """The desired state over ``[start, end)`` as consecutive ``(from, to, desired)`` segments."""
    segments = []
    at, desired = start, evaluate(rule, start).desired
    while at < end:
        change = next_transition(rule, at)
        until = end if change is None or change.at >= end else change.at
        segments.append((at, until, desired))
        at, desired = until, change.to if change is not None else desired
    return segments


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"{at.isoformat()} has no time zone; the window engine needs an instant")
    return at.astimezone(UTC)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _evaluate(rule: Rule, at: datetime) -> WindowState:
    zone = ZoneInfo(rule.timezone)
    if _is_holiday(rule, zone, at):
        return WindowState(Desired.DOWN, Reason.HOLIDAY)
    if any(_is_open(window, zone, at) for window in rule.windows):
        return WindowState(Desired.DOWN, Reason.WINDOW)
    return WindowState(Desired.UP, Reason.OUTSIDE_WINDOW)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _next_transition(rule: Rule, at: datetime) -> Transition | None:
    zone = ZoneInfo(rule.timezone)
    current = _evaluate(rule, at).desired
    # Each source (a window, or the holidays) yields the instants its own state flips; the rule's
    # state is the OR of them, so walk the merged stream until that OR flips.
    until = at + HORIZON
    sources = [_window_changes(w, zone, at, until) for w in rule.windows]
    sources.append(_holiday_changes(rule, zone, at))
    state = [_is_open(w, zone, at) for w in rule.windows] + [_is_holiday(rule, zone, at)]
    tagged = [_tag(index, source) for index, source in enumerate(sources)]
    merged = heapq.merge(*tagged, key=lambda item: item[0])
    for when, changes in itertools.groupby(merged, key=lambda item: item[0]):
        if when > until:
            return None
        for _, index, value in changes:
            state[index] = value
        desired = Desired.DOWN if any(state) else Desired.UP
        if desired is not current:
            return Transition(when, desired)
    return None


def _tag(
    index: int, changes: Iterator[tuple[datetime, bool]]
) -> Iterator[tuple[datetime, int, bool]]:
    for when, value in changes:
        yield when, index, value


# --- windows --------------------------------------------------------------------------------------


def _is_open(window: Window, zone: ZoneInfo, at: datetime) -> bool:
    shutdown = _last_fire(window.shutdown, zone, at)
    startup = _last_fire(window.startup, zone, at)
    return shutdown is not None and (startup is None or shutdown > startup)


def _window_changes(
    window: Window, zone: ZoneInfo, at: datetime, until: datetime
) -> Iterator[tuple[datetime, bool]]:
    """The instants in ``(at, until]`` where this one window opens (True) or closes (False)."""
    is_open = _is_open(window, zone, at)
    while at <= until:
        # Open: only the next startup can close it. Closed: the next shutdown opens it, unless a
        # startup fires at that same instant (a tie is closed).
        fire = _next_fire(window.startup if is_open else window.shutdown, zone, at)
        if fire is None:
            return
        at = fire
        if not is_open and _last_fire(window.startup, zone, fire) == fire:
            continue
        is_open = not is_open
        yield fire, is_open


def _last_fire(expr: str, zone: ZoneInfo, at: datetime) -> datetime | None:
    """The latest fire instant of ``expr`` at or before ``at``."""
    local = at.astimezone(zone)
    wall = local.replace(tzinfo=None, fold=0)
    if local.fold:
        # Second pass of a repeated hour: the first pass, and every fire in it, is already past.
        wall += _offset(local.replace(fold=0)) - _offset(local)
    for fire in cron.parse(expr).fires_back_from(wall):
        instant = wall_to_instant(fire, zone)
        if instant <= at:
            return instant
    return None


def _next_fire(expr: str, zone: ZoneInfo, at: datetime) -> datetime | None:
    """The earliest fire instant of ``expr`` strictly after ``at``."""
    wall = at.astimezone(zone).replace(tzinfo=None, fold=0)
    for fire in cron.parse(expr).fires_after(wall):
        instant = wall_to_instant(fire, zone)
        if instant > at:
            return instant
    return None


def wall_to_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """When naive wall-clock time ``wall`` happens in ``zone`` (as a UTC datetime): its first
    occurrence if it repeats, the moment of the jump if the clocks skipped it."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # In a gap: fold=1 reads the wall time with the offset after the jump (an instant before it),
    # fold=0 with the offset before (an instant after it). Find the jump between the two.
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = int(before.timestamp()), int(first.timestamp())
    offset_before = _offset(before.astimezone(zone))
    while high - low > 1:
        mid = (low + high) // 2
        if _offset(datetime.fromtimestamp(mid, zone)) == offset_before:
            low = mid
        else:
            high = mid
    return datetime.fromtimestamp(high, UTC)


def _offset(local: datetime) -> timedelta:
    offset = local.utcoffset()
    return offset if offset is not None else timedelta(0)


# --- holidays -------------------------------------------------------------------------------------


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = wall_to_instant(datetime.combine(day, time()), zone)
    return start, wall_to_instant(datetime.combine(day + timedelta(days=1), time()), zone)


def _is_holiday(rule: Rule, zone: ZoneInfo, at: datetime) -> bool:
    # Checked against the day's bounds rather than at's local date, so a repeated midnight hour
    # cannot make a holiday end, start again and end twice.
    local_day = at.astimezone(zone).date()
    for day in (local_day - timedelta(days=1), local_day, local_day + timedelta(days=1)):
        if day in rule.holidays:
            start, end = _day_bounds(day, zone)
            if start <= at < end:
                return True
    return False


def _holiday_changes(rule: Rule, zone: ZoneInfo, at: datetime) -> Iterator[tuple[datetime, bool]]:
    for day in rule.holidays:  # sorted when the schedule is loaded
        start, end = _day_bounds(day, zone)
        if start > at:
            yield start, True
        if end > at:
            yield end, _is_holiday(rule, zone, end)
