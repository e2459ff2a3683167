"""The validated value types of the schedule file: each check runs once, when the file loads.

Each type raises ``ValueError`` with a message a person can act on; the loader adds the file, the
line and the field path.
"""

from __future__ import annotations

import difflib
import functools
import zoneinfo
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

from nsshutdown import constants as c
from nsshutdown.model import Kind
from nsshutdown.schedule import cron
from nsshutdown.schedule.selection import Selector, glob_problem, parse_selector
from nsshutdown.timeutil import parse_duration

_NAME_PROBLEM = "a schedule name is 1-63 letters, digits, '-', '_' or '.', starting with a letter"
_CRON_PROBE = datetime(2000, 1, 1)  # cron fields are wall-clock times: no zone


def check_zone(name: str) -> str:
    if name in _zone_names():
        return name
    close = difflib.get_close_matches(name, _zone_names(), n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else " (use an IANA name like Europe/Madrid)"
    raise ValueError(f'unknown time zone "{name}"{hint}')


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones() - {"localtime", "posixrules", "Factory"})


def check_cron(expr: str) -> str:
    expr = " ".join(expr.split())
    fields = expr.split(" ")
    if len(fields) != 5 and not (len(fields) == 1 and expr.startswith("@")):
        raise ValueError(
            f'invalid cron expression "{expr}": use 5 fields '
            "(minute hour day-of-month month day-of-week)"
        )
    try:
        parsed = cron.parse(expr)
    except (ValueError, KeyError, TypeError, IndexError):  # croniter's errors are ValueErrors
        raise ValueError(f'invalid cron expression "{expr}"') from None
    if next(parsed.fires_after(_CRON_PROBE), None) is None:
        raise ValueError(f'cron expression "{expr}" never fires')
    return expr


def _to_duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as 15m, 2h or 1d, got {value!r}")
    return parse_duration(value)


def _check_glob(pattern: str) -> str:
    problem = glob_problem(pattern)
    if problem:
        raise ValueError(problem)
    return pattern


def to_selector(value: object) -> Selector | None:
    if value is None or isinstance(value, Selector):
        return value
    if not isinstance(value, str):
        raise ValueError('expected a label selector string such as "env in (dev,qa)"')
    return parse_selector(value)


def _check_kinds(kinds: tuple[Kind, ...]) -> tuple[Kind, ...]:
    if not kinds:
        raise ValueError("list at least one kind")
    return tuple(dict.fromkeys(kinds))


def _check_name(name: str) -> str:
    ok = 0 < len(name) <= 63 and name[0].isalpha()
    if not ok or not all(ch.isalnum() or ch in "-_." for ch in name):
        raise ValueError(f'invalid name "{name}": {_NAME_PROBLEM}')
    if name == c.MANUAL:
        raise ValueError(f'"{c.MANUAL}" is reserved for shutdowns made by hand')
    return name


TimeZoneName = Annotated[str, AfterValidator(check_zone)]
CronExpr = Annotated[str, AfterValidator(check_cron)]
Duration = Annotated[timedelta, BeforeValidator(_to_duration)]
Glob = Annotated[str, AfterValidator(_check_glob)]
Kinds = Annotated[tuple[Kind, ...], AfterValidator(_check_kinds)]
RuleName = Annotated[str, AfterValidator(_check_name)]

SelectorField = Annotated[Selector | None, BeforeValidator(to_selector)]
