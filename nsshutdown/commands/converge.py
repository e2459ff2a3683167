"""``run``, ``shutdown``, ``restore``, ``wake`` and ``status``: the commands that touch a cluster.

Exit codes (DESIGN.md): 0 done, 1 bad input (nothing touched), 2 partial (some namespaces
failed, an error was reported, or the circuit breaker stopped the run), 3 cluster unreachable or
credentials refused (nothing touched), 4 internal error.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from nsshutdown import __version__, logs
from nsshutdown import constants as c
from nsshutdown.app import app, handle_errors
from nsshutdown.commands.common import (
    ClusterCommand,
    DryRunOption,
    EventsOption,
    ForOption,
    UntilOption,
    hold_until,
    with_cluster_options,
)
from nsshutdown.errors import ExitCode, UsageError
from nsshutdown.metrics import exit_code, push_report
from nsshutdown.metrics_options import CpuHourPrice, MemoryGibHourPrice, MetricsOptions
from nsshutdown.metrics_options import with_metrics_options as with_metrics
from nsshutdown.model import ActionType, ClusterState, Desired, Plan, Reason
from nsshutdown.options import (
    ConfigMapRef,
    LogFormat,
    LogFormatOption,
    LogLevel,
    LogLevelOption,
    Output,
    OutputFormat,
    ScheduleFile,
)
from nsshutdown.render_run import render_report_text, report_to_json
from nsshutdown.report import DryRun, RunReport
from nsshutdown.savings import Prices
from nsshutdown.session import ClusterOptions, ScheduleSource, Session, open_session
from nsshutdown.status import render_status_text, status_rows, status_to_json

logger = logging.getLogger(__name__)

Namespaces = Annotated[list[str], typer.Argument(metavar="NAMESPACE...", show_default=False)]
OptionalNamespaces = Annotated[
    list[str] | None, typer.Argument(metavar="[NAMESPACE...]", show_default=False)
]
AllOption = Annotated[bool, typer.Option("--all", help="Every namespace that holds anything.")]


@app.command(cls=ClusterCommand)
@handle_errors
@with_metrics
@with_cluster_options
def run(
    *,
    schedule_file: ScheduleFile = None,
    configmap: ConfigMapRef = None,
    dry_run: DryRunOption = DryRun.NONE,
    events: EventsOption = False,
    output: Output = OutputFormat.TEXT,
    log_format: LogFormatOption = LogFormat.AUTO,
    log_level: LogLevelOption = LogLevel.INFO,
    cluster: ClusterOptions,
    metrics: MetricsOptions,
) -> None:
    """Converge every namespace to what its schedule wants now (the CronJob's command)."""
    run_id = _start(log_format, log_level)
    session = _open(schedule_file, configmap, cluster, required=True)
    plan = session.plan(session.observe())
    report = session.execute(plan, dry_run=dry_run, run_id=run_id, events=events)
    pushed = push_report(report, options=metrics, version=__version__)
    code = exit_code(report, pushed=pushed, strict=metrics.strict)
    _finish(session, report, output, code)


@app.command(cls=ClusterCommand)
@handle_errors
@with_cluster_options
def shutdown(
    namespaces: Namespaces,
    *,
    for_: ForOption = None,
    until: UntilOption = None,
    schedule_file: ScheduleFile = None,
    configmap: ConfigMapRef = None,
    dry_run: DryRunOption = DryRun.NONE,
    events: EventsOption = False,
    output: Output = OutputFormat.TEXT,
    log_format: LogFormatOption = LogFormat.AUTO,
    log_level: LogLevelOption = LogLevel.INFO,
    cluster: ClusterOptions,
) -> None:
    """Scale namespaces down now. With --for/--until they stay down until then
    (nsshutdown.io/keep-down-until); without, the next scheduled run follows the schedule."""
    run_id = _start(log_format, log_level)
    now = datetime.now(UTC)
    hold = hold_until(for_, until, now=now, required=False)
    session = _open(schedule_file, configmap, cluster, required=False, now=now)
    state = session.observe()
    _require(state, namespaces)
    plan = session.plan(state, overrides=dict.fromkeys(namespaces, Desired.DOWN), only=namespaces)
    notes = _notes(state, plan, set_key=c.KEEP_DOWN_UNTIL, clear_key=c.KEEP_UP_UNTIL, hold=hold)
    report = session.execute(plan, dry_run=dry_run, run_id=run_id, annotations=notes, events=events)
    if hold is None:
        _warn_schedule_differs(session, state, namespaces, want=Desired.DOWN)
    _finish(session, report, output, report.exit_code)


@app.command(cls=ClusterCommand)
@handle_errors
@with_cluster_options
def restore(
    namespaces: OptionalNamespaces = None,
    *,
    all_: AllOption = False,
    schedule_file: ScheduleFile = None,
    configmap: ConfigMapRef = None,
    dry_run: DryRunOption = DryRun.NONE,
    events: EventsOption = False,
    output: Output = OutputFormat.TEXT,
    log_format: LogFormatOption = LogFormat.AUTO,
    log_level: LogLevelOption = LogLevel.INFO,
    cluster: ClusterOptions,
) -> None:
    """Bring namespaces (or --all) back now, and drop any keep-down-until."""
    run_id = _start(log_format, log_level)
    if bool(namespaces) == all_:
        raise UsageError("restore: give NAMESPACE... or --all (not both)")
    session = _open(schedule_file, configmap, cluster, required=False)
    state = session.observe()
    names = list(namespaces or [ns.name for ns in state.namespaces])
    _require(state, names)
    plan = session.plan(state, overrides=dict.fromkeys(names, Desired.UP), only=names)
    notes = _notes(state, plan, set_key=None, clear_key=c.KEEP_DOWN_UNTIL)
    report = session.execute(plan, dry_run=dry_run, run_id=run_id, annotations=notes, events=events)
    if namespaces:
        _warn_schedule_differs(session, state, names, want=Desired.UP)
    _finish(session, report, output, report.exit_code)


@app.command(cls=ClusterCommand)
@handle_errors
@with_cluster_options
def wake(
    namespaces: Namespaces,
    *,
    for_: ForOption = None,
    until: UntilOption = None,
    schedule_file: ScheduleFile = None,
    configmap: ConfigMapRef = None,
    dry_run: DryRunOption = DryRun.NONE,
    events: EventsOption = False,
    output: Output = OutputFormat.TEXT,
    log_format: LogFormatOption = LogFormat.AUTO,
    log_level: LogLevelOption = LogLevel.INFO,
    cluster: ClusterOptions,
) -> None:
    """Keep namespaces up for a while (nsshutdown.io/keep-up-until), restoring them now."""
    run_id = _start(log_format, log_level)
    now = datetime.now(UTC)
    hold = hold_until(for_, until, now=now, required=True)
    session = _open(schedule_file, configmap, cluster, required=False, now=now)
    state = session.observe()
    _require(state, namespaces)
    plan = session.plan(state, overrides=dict.fromkeys(namespaces, Desired.UP), only=namespaces)
    notes = _notes(state, plan, set_key=c.KEEP_UP_UNTIL, clear_key=c.KEEP_DOWN_UNTIL, hold=hold)
    report = session.execute(plan, dry_run=dry_run, run_id=run_id, annotations=notes, events=events)
    _finish(session, report, output, report.exit_code)


@app.command(cls=ClusterCommand)
@handle_errors
@with_cluster_options
def status(
    *,
    schedule_file: ScheduleFile = None,
    configmap: ConfigMapRef = None,
    output: Output = OutputFormat.TEXT,
    cpu_hour_price: CpuHourPrice = Prices.cpu_hour,
    memory_gib_hour_price: MemoryGibHourPrice = Prices.memory_gib_hour,
    log_format: LogFormatOption = LogFormat.AUTO,
    log_level: LogLevelOption = LogLevel.INFO,
    cluster: ClusterOptions,
) -> None:
    """Per namespace: up / down / partial / excluded, since when, next change, what it holds."""
    _start(log_format, log_level)
    session = _open(schedule_file, configmap, cluster, required=True)
    state = session.observe(pods=True)
    rows = status_rows(
        session.plan(state), state, prices=Prices(cpu_hour_price, memory_gib_hour_price)
    )
    if output is OutputFormat.JSON:
        typer.echo(status_to_json(rows, session.schedule, at=session.now))
    else:
        render_status_text(rows, session.schedule, Console(highlight=False))


# --- shared steps -------------------------------------------------------------------------------


def _start(log_format: LogFormat, log_level: LogLevel) -> str:
    run_id = logs.new_run_id()
    logs.configure(fmt=log_format, level=log_level, run_id=run_id)
    return run_id


def _open(
    schedule_file: Path | None,
    configmap: str | None,
    cluster: ClusterOptions,
    *,
    required: bool,
    now: datetime | None = None,
) -> Session:
    source = ScheduleSource(file=schedule_file, configmap=configmap)
    return open_session(source, cluster, now=now or datetime.now(UTC), schedule_required=required)


def _require(state: ClusterState, names: list[str]) -> None:
    missing = sorted(set(names) - {ns.name for ns in state.namespaces})
    if missing:
        raise UsageError(f"no such namespace: {', '.join(missing)}")


def _notes(
    state: ClusterState,
    plan: Plan,
    *,
    set_key: str | None,
    clear_key: str,
    hold: datetime | None = None,
) -> dict[str, dict[str, str | None]]:
    """Namespace annotations to write: ``set_key`` = ``hold``, ``clear_key`` removed if present.

    Excluded namespaces (the tool's own, ``excludeNamespaces``, ``exclude: "true"``) get none: a
    manual command leaves them alone like every run does, and says so.
    """
    current = {ns.name: ns.annotations for ns in state.namespaces}
    notes: dict[str, dict[str, str | None]] = {}
    for ns in plan.namespaces:
        if ns.reason is Reason.EXCLUDED:
            logger.warning("%s is excluded: left alone %s", ns.namespace, ns.message)
            continue
        note: dict[str, str | None] = {}
        if set_key is not None and hold is not None:
            note[set_key] = hold.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if clear_key in current[ns.namespace]:
            note[clear_key] = None
        notes[ns.namespace] = note
    return notes


def _warn_schedule_differs(
    session: Session, state: ClusterState, names: list[str], *, want: Desired
) -> None:
    plan = session.plan(state, only=names)  # the next scheduled run, without this command
    for ns in plan.namespaces:
        if ns.desired is not want:
            how = "--for/--until" if want is Desired.DOWN else "`nsshutdown wake --for`"
            logger.warning(
                "%s: the next scheduled run brings it %s again (%s); use %s to hold it %s",
                ns.namespace, ns.desired, ns.reason, how, want,
            )  # fmt: skip


def _finish(session: Session, report: RunReport, output: OutputFormat, code: ExitCode) -> None:
    for ns in report.namespaces:
        for result in ns.results:
            # skips are in the output; logging them would repeat every idle workload every run
            if result.action.writes or result.action.type is ActionType.ERROR:
                logs.log_action(logger, result)
    logs.log_summary(logger, report)
    if output is OutputFormat.JSON:
        typer.echo(report_to_json(report, session.schedule, at=session.now))
    else:
        render_report_text(report, Console(highlight=False))
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))
