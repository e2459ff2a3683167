"""Parsing of the time values users write: durations (``15m``) and RFC 3339 instants."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"(?P<value>\d+)(?P<unit>[smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """``"15m"``, ``"2h"``, ``"1d"``, ``"1h30m"`` -> timedelta. Raises ValueError otherwise."""
    text = text.strip()
    pos, total = 0, timedelta(0)
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        total += timedelta(**{_UNITS[match["unit"]]: int(match["value"])})
        pos = match.end()
    if not text or pos != len(text):
        raise ValueError(f'invalid duration "{text}": use a number and a unit, e.g. 15m, 2h, 1d')
    return total


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


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
