"""``validate`` and ``plan``: check a schedule and see what it does.

Both work without a cluster: ``plan --namespace NAME[=labels]`` plans for the namespaces named on
the command line (no workloads, so no actions); without ``--namespace`` it reads the live cluster.

``plan --at`` accepts ``now`` (the default), an RFC 3339 instant (``2026-11-26T21:00:00+01:00``,
``...Z``), or a local date-time without an offset (``2026-11-26T21:00``, or a date for midnight),
read in the schedule's ``defaults.timezone``. A local time skipped by a clock change means the
moment of the jump, as in schedules.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer

from nsshutdown import constants as c
from nsshutdown.cli.app import app, handle_errors
from nsshutdown.cli.common import with_cluster_options
from nsshutdown.cli.options import ConfigMapRef, Output, OutputFormat, ScheduleFile
from nsshutdown.errors import ExitCode, UsageError
from nsshutdown.model import ClusterState, Namespace
from nsshutdown.plan import planner, week
from nsshutdown.schedule.config import DEFAULT_WAKE_ORDER, Rule, Schedule, load_schedule
from nsshutdown.schedule.coverage import Coverage, coverage, coverage_lines, coverage_to_json
from nsshutdown.schedule.selection import label_key_problem, label_value_problem
from nsshutdown.schedule.windows import wall_to_instant
from nsshutdown.session import session
from nsshutdown.session.session import ClusterOptions
from nsshutdown.session.sources import ScheduleSource
from nsshutdown.timeutil import EARLIEST, LATEST, format_duration, in_range
from nsshutdown.views import plan as render
from nsshutdown.views import week as week_view

if TYPE_CHECKING:
    from rich.console import Console

logger = logging.getLogger(__name__)

NamespaceArgs = Annotated[
    list[str] | None,
    typer.Option(
        "--namespace",
        "-n",
        metavar="NAME[=KEY=VALUE,...]",
        help="A namespace to plan for, with its labels (repeatable). Offline: no workloads.",
    ),
]
AtOption = Annotated[
    str,
    typer.Option(
        "--at",
        metavar="TIME",
        help="When to plan for: now, RFC 3339, or a local date-time in the schedule's zone.",
    ),
]
WeekOption = Annotated[
    bool, typer.Option("--week", help="Draw each namespace's down/up periods over 7 days.")
]


ClusterFlag = Annotated[
    bool,
    typer.Option(
        "--cluster",
        envvar="NSSHUTDOWN_VALIDATE_CLUSTER",
        help="Also check the schedule against the live namespaces: what each schedule matches, "
        "namespaces matched twice, schedules that match nothing.",
    ),
]
StrictFlag = Annotated[
    bool,
    typer.Option(
        "--strict",
        envvar="NSSHUTDOWN_STRICT",
        help="Exit 1 on warnings too (overlaps, schedules matching no namespace).",
    ),
]


@app.command()
@handle_errors
@with_cluster_options
def validate(
    schedule_file: ScheduleFile = None,
    *,
    configmap: ConfigMapRef = None,
    check_cluster: ClusterFlag = False,
    strict: StrictFlag = False,
    output: Output = OutputFormat.TEXT,
    cluster: ClusterOptions,
) -> None:
    """Check a schedule file (for CI), or the one installed (--configmap): exit 0 when valid, 1
    with every problem otherwise.

    With --cluster, also against the live namespaces; warnings exit 0 unless --strict."""
    source = ScheduleSource(file=schedule_file, configmap=configmap)
    if configmap is None:
        path: Path | str = _require_schedule(schedule_file)
        schedule = load_schedule(Path(path))
    else:
        opened = session.open_session(
            source, cluster, now=datetime.now(UTC), schedule_required=True
        )
        path, schedule = f"configmap {configmap}", opened.schedule
    found = None
    if check_cluster:
        own = os.environ.get(c.POD_NAMESPACE_ENV) or None
        found = coverage(schedule, session.live_namespaces(cluster), own_namespace=own)
    code = ExitCode.BAD_INPUT if strict and found is not None and found.warnings else ExitCode.OK
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(_validate_json(path, schedule, found, code), indent=2))
    else:
        typer.echo(f"{path}: valid, {_count(len(schedule.schedules), 'schedule')}")
        for rule in schedule.schedules:
            typer.echo("\n".join(f"  {line}" for line in _describe(rule)))
        if found is not None:
            typer.echo("\n".join(coverage_lines(found)))
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))


def _validate_json(
    path: Path | str, schedule: Schedule, found: Coverage | None, code: ExitCode
) -> dict[str, Any]:
    return {
        "file": str(path),
        "valid": True,
        "schedules": [rule.name for rule in schedule.schedules],
        "cluster": None if found is None else coverage_to_json(found),
        "warnings": [] if found is None else found.warnings,
        "exit_code": int(code),
    }


OnlyNamespaces = Annotated[
    list[str] | None,
    typer.Argument(metavar="[NAMESPACE...]", show_default=False, help="Only these namespaces."),
]


@app.command()
@handle_errors
@with_cluster_options
def plan(
    only: OnlyNamespaces = None,
    *,
    schedule_file: ScheduleFile = None,
    at: AtOption = "now",
    namespace: NamespaceArgs = None,
    output: Output = OutputFormat.TEXT,
    show_week: WeekOption = False,
    configmap: ConfigMapRef = None,
    cluster: ClusterOptions,
) -> None:
    """What `run` would do at a time, and when each namespace next changes.

    Offline with --namespace; otherwise against the live cluster, with its workloads' actions,
    through the same session as `run` (schedule, scope, own namespace): the two never disagree."""
    now = datetime.now(UTC).replace(microsecond=0)
    parse_at(at, now=now, zone=ZoneInfo("UTC"))  # bad input stops us before connecting
    own = os.environ.get(c.POD_NAMESPACE_ENV) or None
    if namespace:
        if configmap is not None:
            raise UsageError("--namespace plans offline: give the schedule with --schedule FILE")
        schedule = load_schedule(_require_schedule(schedule_file))
        state = build_offline_state(namespace)
    else:
        source = ScheduleSource(file=schedule_file, configmap=configmap)
        opened = session.open_session(source, cluster, now=now, schedule_required=True)
        schedule, own = opened.schedule, opened.own_namespace
        state = opened.observe()
    when = parse_at(at, now=now, zone=ZoneInfo(schedule.defaults.timezone))
    if show_week:
        _print_week(schedule, state, at=when, output=output)
        return
    if only:
        missing = sorted(set(only) - {ns.name for ns in state.namespaces})
        if missing:
            raise UsageError(f"no such namespace: {', '.join(missing)}")
    result = planner.plan(schedule, state, when, own_namespace=own, only=only or None)
    if output is OutputFormat.JSON:
        typer.echo(render.plan_to_json(result, schedule))
    else:
        render.render_text(result, schedule, _console())


def _console() -> Console:
    # rich only to print for people: validate and --output json never load it
    from rich.console import Console  # noqa: PLC0415

    return Console(highlight=False)


def _print_week(schedule: Schedule, state: ClusterState, *, at: datetime, output: Output) -> None:
    zone = ZoneInfo(schedule.defaults.timezone)
    start, end = week.week_bounds(at, zone)
    rows = week.week_rows(schedule, state.namespaces, start=start, end=end)
    if output is OutputFormat.JSON:
        typer.echo(
            json.dumps(week_view.week_to_dict(rows, start=start, end=end, zone=zone), indent=2)
        )
    else:
        week_view.render_week(rows, start=start, zone=zone, console=_console())


def build_offline_state(namespace_args: list[str]) -> ClusterState:
    """Namespaces from ``--namespace NAME[=k=v,...]`` flags, with no workloads."""
    namespaces: dict[str, Namespace] = {}
    for arg in namespace_args:
        ns = parse_namespace_arg(arg)
        if ns.name in namespaces:
            raise UsageError(f'--namespace: "{ns.name}" is given twice')
        namespaces[ns.name] = ns
    return ClusterState(namespaces=tuple(namespaces.values()), workloads=())


def parse_namespace_arg(arg: str) -> Namespace:
    """``dev-a=env=dev,team=payments`` -> namespace ``dev-a`` with two labels."""
    name, _, label_text = arg.partition("=")
    if not name:
        raise UsageError(f'--namespace "{arg}": expected NAME[=KEY=VALUE,...]')
    labels: dict[str, str] = {}
    for pair in filter(None, label_text.split(",")):
        key, sep, value = pair.partition("=")
        problem = label_key_problem(key) or label_value_problem(value)
        if not sep or problem:
            raise UsageError(f'--namespace "{arg}": {problem or f"label {pair!r} needs KEY=VALUE"}')
        labels[key] = value
    return Namespace(name=name, labels=labels)


def parse_at(text: str, *, now: datetime, zone: ZoneInfo) -> datetime:
    """``--at``: ``now``, an instant with an offset, or a local date-time read in ``zone``."""
    if text.strip().lower() == "now":
        return now
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(
            f'--at "{text}": expected now, 2026-11-26T21:00:00+01:00 or 2026-11-26T21:00'
        ) from None
    value = wall_to_instant(value, zone) if value.tzinfo is None else value
    if not in_range(value):
        raise UsageError(f'--at "{text}": give a time between {EARLIEST.year} and {LATEST.year}')
    return value


def _require_schedule(schedule_file: Path | None) -> Path:
    if schedule_file is None:
        raise UsageError("give --schedule FILE (or set NSSHUTDOWN_SCHEDULE)")
    return schedule_file


def _describe(rule: Rule) -> list[str]:
    match = rule.namespaces
    covers = []
    if match is not None:
        covers += [f"names {', '.join(match.names)}"] if match.names else []
        covers += [f'selector "{match.selector}"'] if match.selector is not None else []
        covers += [f"except {', '.join(match.exclude)}"] if match.exclude else []
    else:
        covers = [f"only the namespaces that choose it ({c.SCHEDULE_CHOICE}: {rule.name})"]
    lines = [
        f"{rule.name} ({rule.timezone}): {_count(len(rule.windows), 'window')}, "
        f"{_count(len(rule.holidays), 'holiday')}",
        f"  covers {'; '.join(covers)}",
        f"  kinds {', '.join(k.value for k in rule.kinds)}; "
        f"grace period {format_duration(rule.grace_period)}",
    ]
    if rule.down_replicas:
        lines.append(f"  keeps {_count(rule.down_replicas, 'replica')} up while down")
    if rule.wake_order != DEFAULT_WAKE_ORDER:  # the default goes without saying
        tiers = " -> ".join("/".join(tier) for tier in rule.wake_order) or "all at once"
        lines.append(
            f"  wakes up in tiers {tiers}, each within {format_duration(rule.wake_timeout)}"
        )
    return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
