"""``plan``: what a schedule does (``validate``, which checks it, is in ``cli/validate.py``).

``plan --namespace NAME[=labels]`` works without a cluster: it plans for the namespaces named on
the command line (no workloads, so no actions), and imports nothing of the session. Without
``--namespace`` it reads the live cluster, through the session, imported then.

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
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from nsshutdown import constants as c
from nsshutdown.cli.app import app, handle_errors
from nsshutdown.cli.cluster_options import ClusterArgs, with_cluster_args
from nsshutdown.cli.options import (
    ConfigMapRef,
    Output,
    OutputFormat,
    ScheduleFile,
    require_schedule,
)
from nsshutdown.errors import UsageError
from nsshutdown.model import ClusterState, Namespace
from nsshutdown.plan import planner, week
from nsshutdown.schedule.config import Schedule, load_schedule
from nsshutdown.schedule.selection import label_key_problem, label_value_problem
from nsshutdown.schedule.windows import wall_to_instant
from nsshutdown.timeutil import EARLIEST, LATEST, in_range
from nsshutdown.views import plan as render
from nsshutdown.views import week as week_view
from nsshutdown.views.tables import text_console

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


OnlyNamespaces = Annotated[
    list[str] | None,
    typer.Argument(metavar="[NAMESPACE...]", show_default=False, help="Only these namespaces."),
]


@app.command()
@handle_errors
@with_cluster_args
def plan(
    only: OnlyNamespaces = None,
    *,
    schedule_file: ScheduleFile = None,
    at: AtOption = "now",
    namespace: NamespaceArgs = None,
    output: Output = OutputFormat.TEXT,
    show_week: WeekOption = False,
    configmap: ConfigMapRef = None,
    cluster: ClusterArgs,
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
        schedule = load_schedule(require_schedule(schedule_file))
        state = build_offline_state(namespace)
    else:
        from nsshutdown.session import session  # noqa: PLC0415 - only when it connects
        from nsshutdown.session.sources import ScheduleSource  # noqa: PLC0415

        source = ScheduleSource(file=schedule_file, configmap=configmap)
        opened = session.open_session(source, cluster.options(), now=now, schedule_required=True)
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
        render.render_text(result, schedule, text_console())


def _print_week(schedule: Schedule, state: ClusterState, *, at: datetime, output: Output) -> None:
    zone = ZoneInfo(schedule.defaults.timezone)
    start, end = week.week_bounds(at, zone)
    rows = week.week_rows(schedule, state.namespaces, start=start, end=end)
    if output is OutputFormat.JSON:
        typer.echo(
            json.dumps(week_view.week_to_dict(rows, start=start, end=end, zone=zone), indent=2)
        )
    else:
        week_view.render_week(rows, start=start, zone=zone, console=text_console())


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
