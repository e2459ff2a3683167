"""The validated value types of the schedule file: each check runs once, when the file loads.

Each type raises ``ValueError`` with a message a person can act on; the loader adds the file, the
line and the field path.
"""

from __future__ import annotations

import difflib
import functools
import zoneinfo
from datetime import datetime, timedelta
from importlib import resources
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

from nsshutdown import constants as c
from nsshutdown.schedule import cron
from nsshutdown.schedule.selection import Selector, glob_problem, parse_selector
from nsshutdown.timeutil import parse_duration

_NAME_PROBLEM = "a schedule name is 1-63 letters, digits, '-', '_' or '.', starting with a letter"
_CRON_PROBE = datetime(2000, 1, 1)
#: ``wakeOrder: suggested``: databases before the apps that need them, batch jobs last.
SUGGESTED_WAKE_ORDER: tuple[tuple[str, ...], ...] = (
    ("StatefulSet",),
    ("Deployment", "Rollout", "ScaledObject"),
    ("CronJob", "Job"),
)  # cron fields are wall-clock times: no zone


#: Files of a zone directory that are no time zone a schedule could mean.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


def check_zone(name: str) -> str:
    if name in _packaged_zone_names() or name in _zone_names():
        return name
    close = difflib.get_close_matches(name, _zone_names(), n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else " (use an IANA name like Europe/Madrid)"
    raise ValueError(f'unknown time zone "{name}"{hint}')


@functools.cache
def _packaged_zone_names() -> frozenset[str]:
    """The zones listed by the ``tzdata`` package (a dependency): one file to read.

    :func:`zoneinfo.available_timezones` starts from this same list, then opens every file under
    the system's zone directories (tens of ms): a name found here is valid without that walk,
    which is left to the names it does not list and to the suggestions for a mistyped one.
    """
    try:
        with resources.files("tzdata").joinpath("zones").open("r", encoding="utf-8") as lines:
            return frozenset(filter(None, (line.strip() for line in lines))) - _NOT_ZONES
    except (ImportError, OSError):
        return frozenset()


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones() - _NOT_ZONES)


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


def _check_kinds(kinds: tuple[str, ...]) -> tuple[str, ...]:
    if not kinds:
        raise ValueError("list at least one kind")
    return tuple(dict.fromkeys(kinds))


def _check_kind_name(name: str) -> str:
    """A kind as Kubernetes spells it: CamelCase ASCII letters and digits, starting upper-case."""
    if not (0 < len(name) <= 63 and name.isascii() and name.isalnum() and name[0].isupper()):
        raise ValueError(f'"{name}" is not a kind name such as "Deployment" (CamelCase letters)')
    return name


def _check_api_group(group: str) -> str:
    """A custom resource's API group: a DNS subdomain with at least one dot (``apps.kruise.io``)."""
    labels = group.split(".")
    ok = len(group) <= 253 and len(labels) > 1 and all(_is_dns_label(label) for label in labels)
    if not ok:
        raise ValueError(f'"{group}" is not an API group such as "apps.kruise.io"')
    return group


def _check_version(version: str) -> str:
    if not (_is_dns_label(version) and version[0] == "v"):
        raise ValueError(f'"{version}" is not an API version such as "v1" or "v1alpha1"')
    return version


def _check_resource(resource: str) -> str:
    if not _is_dns_label(resource):
        raise ValueError(f'"{resource}" is not a resource name such as "clonesets" (the plural)')
    return resource


def _is_dns_label(text: str) -> bool:
    return (
        0 < len(text) <= 63
        and text.isascii()
        and all(ch.islower() or ch.isdigit() or ch == "-" for ch in text)
        and text[0].isalnum()
        and text[-1].isalnum()
    )


def _check_name(name: str) -> str:
    ok = 0 < len(name) <= 63 and name[0].isalpha()
    if not ok or not all(ch.isalnum() or ch in "-_." for ch in name):
        raise ValueError(f'invalid name "{name}": {_NAME_PROBLEM}')
    if name == c.MANUAL:
        raise ValueError(f'"{c.MANUAL}" is reserved for shutdowns made by hand')
    if name == c.NO_SCHEDULE:
        raise ValueError(
            f'"{c.NO_SCHEDULE}" is reserved: "{c.SCHEDULE_CHOICE}: {c.NO_SCHEDULE}" opts a'
            " namespace out"
        )
    return name


def _check_count(value: object) -> int:
    """A replica count: an integer from 0 to the int32 ``spec.replicas`` holds (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**31 - 1:
        raise ValueError(f"expected a replica count from 0 to {2**31 - 1}, got {value!r}")
    return value


def _to_wake_order(value: object) -> object:
    """``[StatefulSet, [Deployment, Rollout], CronJob]``: a bare kind is a tier of its own;
    ``suggested`` is the order most namespaces want (see ``SUGGESTED_WAKE_ORDER``)."""
    if value == "suggested":
        return [list(tier) for tier in SUGGESTED_WAKE_ORDER]
    if not isinstance(value, list | tuple):
        raise ValueError(
            'expected "suggested" or a list of tiers: kinds, or lists of kinds woken together'
        )
    return [[tier] if isinstance(tier, str) else tier for tier in value]


def _check_tiers(order: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    if any(not tier for tier in order):
        raise ValueError("a tier lists at least one kind")
    return order


TimeZoneName = Annotated[str, AfterValidator(check_zone)]
CronExpr = Annotated[str, AfterValidator(check_cron)]
Duration = Annotated[timedelta, BeforeValidator(_to_duration)]
Glob = Annotated[str, AfterValidator(_check_glob)]
KindName = Annotated[str, AfterValidator(_check_kind_name)]
Kinds = Annotated[tuple[KindName, ...], AfterValidator(_check_kinds)]
ApiGroup = Annotated[str, AfterValidator(_check_api_group)]
ApiVersion = Annotated[str, AfterValidator(_check_version)]
ResourceName = Annotated[str, AfterValidator(_check_resource)]
RuleName = Annotated[str, AfterValidator(_check_name)]
Count = Annotated[int, BeforeValidator(_check_count)]
WakeOrder = Annotated[
    tuple[tuple[KindName, ...], ...],
    BeforeValidator(_to_wake_order),
    AfterValidator(_check_tiers),
]

SelectorField = Annotated[Selector | None, BeforeValidator(to_selector)]
