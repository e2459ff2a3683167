"""``validate``: check a schedule, for CI (a file) or as installed (``--configmap``).

A file is checked without a cluster, and then this module imports nothing of the session, the
planner or the views: ``validate`` runs in every pipeline that changes a schedule, and its
start-up is most of what it costs (docs/performance.md, "Start-up"). ``--configmap`` and
``--cluster`` import the session when they connect.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

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
from nsshutdown.errors import ExitCode
from nsshutdown.schedule.config import DEFAULT_WAKE_ORDER, Rule, Schedule, load_schedule
from nsshutdown.timeutil import format_duration

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
@with_cluster_args
def validate(
    schedule_file: ScheduleFile = None,
    *,
    configmap: ConfigMapRef = None,
    check_cluster: ClusterFlag = False,
    strict: StrictFlag = False,
    output: Output = OutputFormat.TEXT,
    cluster: ClusterArgs,
) -> None:
    """Check a schedule file (for CI), or the one installed (--configmap): exit 0 when valid, 1
    with every problem otherwise.

    With --cluster, also against the live namespaces; warnings exit 0 unless --strict."""
    if configmap is None:
        path: Path | str = require_schedule(schedule_file)
        schedule = load_schedule(Path(path))
    else:
        path, schedule = f"configmap {configmap}", _installed(schedule_file, configmap, cluster)
    warnings, lines, report = _check_cluster(schedule, cluster) if check_cluster else ([], [], None)
    code = ExitCode.BAD_INPUT if strict and warnings else ExitCode.OK
    if output is OutputFormat.JSON:
        document = {
            "file": str(path),
            "valid": True,
            "schedules": [rule.name for rule in schedule.schedules],
            "cluster": report,
            "warnings": warnings,
            "exit_code": int(code),
        }
        typer.echo(json.dumps(document, indent=2))
    else:
        typer.echo(f"{path}: valid, {_count(len(schedule.schedules), 'schedule')}")
        for rule in schedule.schedules:
            typer.echo("\n".join(f"  {line}" for line in _describe(rule)))
        if check_cluster:
            typer.echo("\n".join(lines))
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))


def _installed(schedule_file: Path | None, configmap: str, cluster: ClusterArgs) -> Schedule:
    from nsshutdown.session import session  # noqa: PLC0415 - only when it connects
    from nsshutdown.session.sources import ScheduleSource  # noqa: PLC0415

    source = ScheduleSource(file=schedule_file, configmap=configmap)
    opened = session.open_session(
        source, cluster.options(), now=datetime.now(UTC), schedule_required=True
    )
    return opened.schedule


def _check_cluster(
    schedule: Schedule, cluster: ClusterArgs
) -> tuple[list[str], list[str], dict[str, Any]]:
    """``--cluster``: the warnings, the text lines and the JSON of the schedule's coverage."""
    from nsshutdown.schedule import coverage  # noqa: PLC0415 - only with --cluster
    from nsshutdown.session import session  # noqa: PLC0415

    own = os.environ.get(c.POD_NAMESPACE_ENV) or None
    found = coverage.coverage(
        schedule, session.live_namespaces(cluster.options()), own_namespace=own
    )
    return found.warnings, coverage.coverage_lines(found), coverage.coverage_to_json(found)


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
