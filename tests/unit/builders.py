"""Small builders shared by the unit tests: schedules from plain data, workloads, instants."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nsshutdown.model import Workload
from nsshutdown.schedule.config import Rule, Schedule, load_schedule_text
from tests import fakes

LONG_AGO = datetime.fromisoformat("2020-01-01T00:00:00+00:00")


def schedule(data: Mapping[str, Any]) -> Schedule:
    """A schedule from plain data, through the real loader (JSON is YAML)."""
    return load_schedule_text(json.dumps({"version": 1, **data}), source="test.yaml")


def rule(
    windows: Sequence[tuple[str, str]] = (),
    *,
    timezone: str = "Europe/Madrid",
    holidays: Sequence[str] = (),
    **extra: Any,
) -> Rule:
    spec: dict[str, Any] = {
        "name": "test",
        "namespaces": {"names": ["*"]},
        "timezone": timezone,
        "windows": [{"shutdown": s, "startup": u} for s, u in windows],
        "holidays": list(holidays),
        **extra,
    }
    return schedule({"schedules": [spec]}).schedules[0]


def local(text: str, zone: str) -> datetime:
    """``2026-11-26T21:00`` read in ``zone``; an explicit offset in ``text`` wins."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))


def workload(name: str, **kwargs: Any) -> Workload:
    """:func:`tests.fakes.workload` with one replica by default: the planner tables read better."""
    return fakes.workload(name, default_replicas=1, **kwargs)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)
