"""The schedule file: its format (DESIGN.md "Schedule file"), validation and loading.

Two layers of frozen pydantic models. ``_ScheduleSpec`` and ``_RuleSpec`` are the file as written
(camelCase keys, unknown keys rejected, per-schedule settings optional). :class:`Schedule` and
:class:`Rule` are what the rest of the tool reads: every per-schedule setting resolved against
``defaults``, so the planner never has to ask "was this set?".

Everything is checked here, once, before the cluster is touched; every problem is reported as
``file:line: field.path: message`` and raised together as one :class:`ConfigError`.
"""

from __future__ import annotations

import difflib
import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from nsshutdown import constants as c
from nsshutdown.errors import ConfigError
from nsshutdown.schedule import sourcemap
from nsshutdown.schedule.fields import (
    SUGGESTED_WAKE_ORDER,
    ApiGroup,
    ApiVersion,
    Count,
    CronExpr,
    Duration,
    Glob,
    KindName,
    Kinds,
    ResourceName,
    RuleName,
    SelectorField,
    TimeZoneName,
    WakeOrder,
)
from nsshutdown.schedule.selection import matches_any
from nsshutdown.schedule.sourcemap import Problem
from nsshutdown.targets import CustomKind, Kind, Namespace, WorkloadKind

logger = logging.getLogger(__name__)

DEFAULT_KINDS: tuple[str, ...] = (Kind.DEPLOYMENT, Kind.STATEFULSET, Kind.CRONJOB)
_BUILTIN = {kind.value: kind for kind in Kind}
#: A workload younger than this is left alone: someone is probably still deploying it.
DEFAULT_GRACE_PERIOD = timedelta(minutes=15)
#: The longest ``--for``/``--until`` a manual command may hold a namespace: a forgotten
#: ``wake --for 400d`` would keep paying for it all year.
DEFAULT_MAX_HOLD = timedelta(days=7)
#: Wake-up tiers: StatefulSets, then Deployments (and Rollouts, ScaledObjects), then CronJobs and
#: Jobs. ``wakeOrder: []`` wakes everything at once.
DEFAULT_WAKE_ORDER: tuple[tuple[str, ...], ...] = SUGGESTED_WAKE_ORDER
#: How long a tier may take to become ready (or, going down, to stop) before the next one goes.
DEFAULT_WAKE_TIMEOUT = timedelta(minutes=10)


class _FileModel(BaseModel):
    """What a person writes: camelCase keys only, anything unknown is a mistake."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        arbitrary_types_allowed=True,
    )


class Defaults(_FileModel):
    timezone: TimeZoneName = "UTC"
    kinds: Kinds = DEFAULT_KINDS
    grace_period: Duration = DEFAULT_GRACE_PERIOD
    max_hold: Duration = DEFAULT_MAX_HOLD
    down_replicas: Count = 0
    wake_order: WakeOrder = DEFAULT_WAKE_ORDER
    wake_timeout: Duration = DEFAULT_WAKE_TIMEOUT


class Policy(_FileModel):
    """What a team may choose with ``nsshutdown.io/schedule`` on its own namespace.

    ``choosable``: the schedules a namespace may name (``None``: any of them; ``[]``: none, the
    label is ignored). ``optOut``: whether ``nsshutdown.io/schedule: none`` takes a namespace out
    of every schedule. A choice the policy refuses is ignored, and said so: the namespace gets
    the schedule the file gives it.
    """

    choosable: tuple[RuleName, ...] | None = None
    opt_out: bool = True


class CustomKindSpec(_FileModel):
    """A custom resource scaled through ``spec.replicas``, named in ``kinds`` by its ``kind``."""

    kind: KindName
    group: ApiGroup
    version: ApiVersion
    resource: ResourceName

    def resolved(self) -> CustomKind:
        return CustomKind(self.kind, self.group, self.version, self.resource)


class Window(_FileModel):
    """Down from each ``shutdown`` fire time until the next ``startup`` fire time."""

    shutdown: CronExpr
    startup: CronExpr


class NamespaceMatch(_FileModel):
    """Which namespaces a rule covers: names AND selector (each optional), minus ``exclude``."""

    names: tuple[Glob, ...] = ()
    selector: SelectorField = None
    exclude: tuple[Glob, ...] = ()

    def matches(self, ns: Namespace) -> bool:
        if self.names and not matches_any(ns.name, self.names):
            return False
        if self.selector is not None and not self.selector.matches(ns.labels):
            return False
        return not matches_any(ns.name, self.exclude)


class _RuleSpec(_FileModel):
    name: RuleName
    #: Omitted: the schedule owns only the namespaces that choose it (``nsshutdown.io/schedule``).
    namespaces: NamespaceMatch | None = None
    timezone: TimeZoneName | None = None
    windows: tuple[Window, ...] = ()
    holidays: tuple[date, ...] = ()
    kinds: Kinds | None = None
    grace_period: Duration | None = None
    down_replicas: Count | None = None
    wake_order: WakeOrder | None = None
    wake_timeout: Duration | None = None


class _ScheduleSpec(_FileModel):
    version: Literal[1]
    defaults: Defaults = Field(default_factory=Defaults)
    policy: Policy = Field(default_factory=Policy)
    exclude_namespaces: tuple[Glob, ...] = ()
    custom_kinds: tuple[CustomKindSpec, ...] = ()
    schedules: tuple[_RuleSpec, ...] = ()


# --- the resolved schedule ------------------------------------------------------------------------


class _Resolved(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class Rule(_Resolved):
    """One entry of ``schedules``, with every per-schedule setting resolved against defaults."""

    name: str
    namespaces: NamespaceMatch | None
    timezone: str
    windows: tuple[Window, ...]
    holidays: tuple[date, ...]
    kinds: tuple[WorkloadKind, ...]
    grace_period: timedelta
    down_replicas: int = 0
    wake_order: tuple[tuple[str, ...], ...] = DEFAULT_WAKE_ORDER
    wake_timeout: timedelta = DEFAULT_WAKE_TIMEOUT

    def matches(self, ns: Namespace) -> bool:
        """Whether its ``namespaces`` match ``ns`` (never, when it has none: chosen only)."""
        return self.namespaces is not None and self.namespaces.matches(ns)


class Schedule(_Resolved):
    defaults: Defaults = Field(default_factory=Defaults)
    policy: Policy = Field(default_factory=Policy)
    exclude_namespaces: tuple[str, ...] = ()
    schedules: tuple[Rule, ...] = ()
    #: ``defaults.kinds`` resolved: what a namespace no schedule owns is shut down as (by hand).
    default_kinds: tuple[WorkloadKind, ...] = tuple(_BUILTIN[name] for name in DEFAULT_KINDS)
    #: ``customKinds``: listed and restored by every run, like the built-in kinds.
    custom_kinds: tuple[CustomKind, ...] = ()

    @property
    def kinds(self) -> tuple[WorkloadKind, ...]:
        """Every kind a run reads: all built-in kinds and every declared custom one."""
        return (*Kind, *self.custom_kinds)

    def is_excluded(self, name: str) -> bool:
        return matches_any(name, self.exclude_namespaces)

    def rule_for(self, ns: Namespace) -> Rule | None:
        """The first rule that matches ``ns``: order in the file is precedence.

        What the file alone decides; :func:`nsshutdown.schedule.choice.owner` adds the
        namespace's own choice on top.
        """
        return next((rule for rule in self.schedules if rule.matches(ns)), None)

    def named(self, name: str) -> Rule | None:
        return next((rule for rule in self.schedules if rule.name == name), None)


def _resolve(spec: _ScheduleSpec) -> Schedule:
    defaults = spec.defaults
    known: dict[str, WorkloadKind] = {
        **_BUILTIN,
        **{custom.kind: custom.resolved() for custom in spec.custom_kinds},
    }

    def kinds(names: tuple[str, ...]) -> tuple[WorkloadKind, ...]:
        return tuple(known[name] for name in names)

    rules = tuple(
        Rule(
            name=rule.name,
            namespaces=rule.namespaces,
            timezone=rule.timezone or defaults.timezone,
            windows=rule.windows,
            holidays=tuple(sorted(set(rule.holidays))),
            kinds=kinds(rule.kinds or defaults.kinds),
            grace_period=defaults.grace_period if rule.grace_period is None else rule.grace_period,
            down_replicas=_either(rule.down_replicas, defaults.down_replicas),
            wake_order=_either(rule.wake_order, defaults.wake_order),
            wake_timeout=_either(rule.wake_timeout, defaults.wake_timeout),
        )
        for rule in spec.schedules
    )
    return Schedule(
        defaults=defaults,
        policy=spec.policy,
        exclude_namespaces=spec.exclude_namespaces,
        schedules=rules,
        default_kinds=kinds(defaults.kinds),
        custom_kinds=tuple(custom.resolved() for custom in spec.custom_kinds),
    )


_T = TypeVar("_T")


def _either(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _semantic_problems(spec: _ScheduleSpec) -> list[Problem]:
    """Checks that span several fields, which pydantic reports without a useful path."""
    problems = _kind_problems(spec)
    first_index: dict[str, int] = {}
    for i, rule in enumerate(spec.schedules):
        where: sourcemap.Path = ("schedules", i)
        if rule.name in first_index:
            message = (
                f'duplicate schedule name "{rule.name}" (also schedules[{first_index[rule.name]}])'
            )
            problems.append(Problem((*where, "name"), message))
        first_index.setdefault(rule.name, i)
        match = rule.namespaces
        if match is not None and not match.names and match.selector is None:
            message = (
                'give "names", "selector" or both (or leave "namespaces" out: then only the'
                f" namespaces that choose it with {c.SCHEDULE_CHOICE} get it)"
            )
            problems.append(Problem((*where, "namespaces"), message))
        if not rule.windows and not rule.holidays:
            message = 'give "windows", "holidays" or both; this schedule would never shut down'
            problems.append(Problem((*where, "windows"), message))
        for j, window in enumerate(rule.windows):
            if window.shutdown == window.startup:
                message = "shutdown and startup are the same, so this window never opens"
                problems.append(Problem((*where, "windows", j), message))
    return problems + _policy_problems(spec, list(first_index))


def _policy_problems(spec: _ScheduleSpec, names: list[str]) -> list[Problem]:
    """``policy.choosable`` names schedules of this file."""
    problems = []
    for i, name in enumerate(spec.policy.choosable or ()):
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            message = f'no schedule is named "{name}"{hint}'
            problems.append(Problem(("policy", "choosable", i), message))
    return problems


def _kind_problems(spec: _ScheduleSpec) -> list[Problem]:
    """Every kind named is built in or declared under ``customKinds``, and declared once."""
    problems = []
    declared: dict[str, int] = {}
    for i, custom in enumerate(spec.custom_kinds):
        where: sourcemap.Path = ("customKinds", i, "kind")
        if custom.kind in _BUILTIN:
            problems.append(Problem(where, f'"{custom.kind}" is a built-in kind: remove it here'))
        elif custom.kind in declared:
            message = (
                f'"{custom.kind}" is declared twice (also customKinds[{declared[custom.kind]}])'
            )
            problems.append(Problem(where, message))
        declared.setdefault(custom.kind, i)
    known = [*_BUILTIN, *declared]
    named: list[tuple[sourcemap.Path, tuple[str, ...] | None]] = [
        (("defaults", "kinds"), spec.defaults.kinds),
        *((("schedules", i, "kinds"), rule.kinds) for i, rule in enumerate(spec.schedules)),
    ]
    for path, names in named:
        for j, name in enumerate(names or ()):
            if name not in known:
                problems.append(Problem((*path, j), _unknown_kind(name, known)))
    orders: list[tuple[sourcemap.Path, tuple[tuple[str, ...], ...] | None]] = [
        (("defaults", "wakeOrder"), spec.defaults.wake_order),
        *(
            (("schedules", i, "wakeOrder"), rule.wake_order)
            for i, rule in enumerate(spec.schedules)
        ),
    ]
    for path, order in orders:
        problems += _wake_order_problems(path, order or (), known)
    return problems


def _wake_order_problems(
    path: sourcemap.Path, order: tuple[tuple[str, ...], ...], known: list[str]
) -> list[Problem]:
    """Every kind of a wake order is known and in one tier only."""
    problems, seen = [], set()
    for j, tier in enumerate(order):
        for name in tier:
            where = (*path, j)
            if name not in known:
                problems.append(Problem(where, _unknown_kind(name, known)))
            elif name in seen:
                problems.append(Problem(where, f'"{name}" is in two tiers: keep it in one'))
            seen.add(name)
    return problems


def _unknown_kind(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    return (
        f'unknown kind "{name}"{hint}. Built in: {", ".join(_BUILTIN)}; declare a custom'
        " resource under customKinds"
    )


# --- loading --------------------------------------------------------------------------------------


#: What a ConfigMap holds; a schedule file larger than that could never be installed.
MAX_SCHEDULE_BYTES = 1024 * 1024


def _too_large(source: str) -> ConfigError:
    message = f"larger than {MAX_SCHEDULE_BYTES // 1024} KiB, what a ConfigMap can hold"
    detail: dict[str, object] = {"file": source, "line": None, "field": "", "message": message}
    return ConfigError(f"{source}: {message}", details=[detail])


def load_schedule(path: Path) -> Schedule:
    """Load and validate a schedule file. Raises :class:`ConfigError` listing every problem."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_SCHEDULE_BYTES + 1)
        if len(raw) > MAX_SCHEDULE_BYTES:
            raise _too_large(str(path))
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        message = f"cannot read the schedule: {err}"
        detail: dict[str, object] = {
            "file": str(path),
            "line": None,
            "field": "",
            "message": message,
        }
        raise ConfigError(f"{path}: {message}", details=[detail]) from None
    return load_schedule_text(text, source=str(path))


def load_schedule_text(text: str, *, source: str) -> Schedule:
    """Load and validate a schedule held in a string (e.g. a ConfigMap key, named by ``source``).

    Bounded whatever the input: larger than :data:`MAX_SCHEDULE_BYTES`, nested too deep or
    expanding too far through aliases, it is refused before it is built.
    """
    if len(text) > MAX_SCHEDULE_BYTES or len(text.encode("utf-8", "replace")) > MAX_SCHEDULE_BYTES:
        raise _too_large(source)
    try:
        doc = sourcemap.parse(text)
    except sourcemap.YamlSyntaxError as err:
        detail: dict[str, object] = {
            "file": source,
            "line": err.line,
            "field": "",
            "message": str(err),
        }
        raise ConfigError(f"{source}:{err.line}: {err}", details=[detail]) from None
    problems = list(doc.problems)
    spec = _validate(doc.data, problems)
    if spec is not None:
        problems += _semantic_problems(spec)
    if problems or spec is None:
        ordered = _sorted(doc, problems)
        raise ConfigError(
            [sourcemap.format_problem(source, doc, p) for p in ordered],
            details=[sourcemap.problem_details(source, doc, p) for p in ordered],
        )
    schedule = _resolve(spec)
    logger.debug("loaded schedule %s: %d rules", source, len(schedule.schedules))
    return schedule


def _validate(data: Any, problems: list[Problem]) -> _ScheduleSpec | None:
    if data is None:
        problems.append(Problem((), "the schedule is empty; it needs at least `version: 1`"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem((), "the schedule must be a YAML mapping (key: value)"))
        return None
    try:
        return _ScheduleSpec.model_validate(data)
    except ValidationError as err:
        problems += sourcemap.validation_problems(err, _ScheduleSpec)
        return None


def _sorted(doc: sourcemap.Document, problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: doc.line_of(p.path) if p.line is None else p.line)
