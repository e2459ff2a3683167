"""Parsing of the time values users write: durations (``15m``) and RFC 3339 instants."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"(?P<value>[0-9]{1,9})(?P<unit>[smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: The longest duration any field or flag takes: a year (and a day, for leap years).
MAX_DURATION = timedelta(days=366)


def parse_duration(text: str) -> timedelta:
    """``"15m"``, ``"2h"``, ``"1d"``, ``"1h30m"`` -> timedelta, at most :data:`MAX_DURATION`.

    Raises ValueError for anything else, whatever its size.
    """
    text = text.strip()
    pos, seconds = 0, 0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        seconds += int(match["value"]) * _SECONDS[match["unit"]]
        pos = match.end()
    if not text or pos != len(text):
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise ValueError(f'invalid duration "{shown}": use a number and a unit, e.g. 15m, 2h, 1d')
    if seconds > MAX_DURATION.total_seconds():
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise ValueError(f'duration "{shown}" is longer than {format_duration(MAX_DURATION)}')
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Inverse of :func:`parse_duration`: ``timedelta(minutes=90)`` -> ``"1h30m"``."""
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 / ISO 8601 instant WITH an offset (``Z`` allowed). Naive times are refused."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f'"{text}" has no UTC offset')
    return value


#: The instants the tool computes with: wide enough for any schedule, and far from the ends of
#: ``datetime`` (a year past 9999 cannot be represented, and windows look 400 days ahead).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def in_range(value: datetime) -> bool:
    return EARLIEST <= value <= LATEST


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
