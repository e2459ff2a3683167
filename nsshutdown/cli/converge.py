"""``run``, ``shutdown``, ``restore``, ``wake`` and ``status``: the commands that touch a cluster.

Exit codes (DESIGN.md): 0 done, 1 bad input (nothing touched), 2 partial (some namespaces
failed, an error was reported, or the circuit breaker stopped the run), 3 cluster unreachable or
credentials refused (nothing touched), 4 internal error.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from nsshutdown import __version__
from nsshutdown.cli.app import app, handle_errors
from nsshutdown.cli.cluster_options import with_cluster_options
from nsshutdown.cli.common import (
    ClusterCommand,
    CommandOptions,
    ForOption,
    UntilOption,
    hold_until,
    with_command_options,
    with_read_options,
)
from nsshutdown.cli.metrics_options import CpuHourPrice, MemoryGibHourPrice
from nsshutdown.cli.metrics_options import with_metrics_options as with_metrics
from nsshutdown.cli.options import (
    OutputFormat,
)
from nsshutdown.errors import ExitCode, UsageError
from nsshutdown.model import ActionType, ClusterState, Desired, Plan, Reason
from nsshutdown.observe import logs
from nsshutdown.observe.metrics import exit_code, push_report
from nsshutdown.observe.push_options import MetricsOptions
from nsshutdown.observe.savings import Prices
from nsshutdown.plan.holds import (
    HOLD_ANNOTATIONS,
    has_a_hold,
    hold_annotations,
    holding_namespaces,
    with_annotations,
    without_holds,
)
from nsshutdown.plan.planner import protection
from nsshutdown.run.executor import NamespaceAnnotations
from nsshutdown.run.report import RunReport
from nsshutdown.session.session import ClusterOptions, Session, open_session
from nsshutdown.timeutil import format_duration
from nsshutdown.views.run import render_report_text, report_to_json
from nsshutdown.views.status import render_status_text, status_rows, status_to_json
from nsshutdown.views.tables import text_console

logger = logging.getLogger(__name__)

Namespaces = Annotated[list[str], typer.Argument(metavar="NAMESPACE...", show_default=False)]
OptionalNamespaces = Annotated[
    list[str] | None, typer.Argument(metavar="[NAMESPACE...]", show_default=False)
]
AllOption = Annotated[
    bool,
    typer.Option(
        "--all",
        envvar="NSSHUTDOWN_RESTORE_ALL",
        help="Every namespace that holds anything (saved replicas, or a keep-down-until).",
    ),
]


@app.command(cls=ClusterCommand)
@handle_errors
@with_metrics
@with_cluster_options
@with_command_options
def run(*, opts: CommandOptions, cluster: ClusterOptions, metrics: MetricsOptions) -> None:
    """Converge every namespace to what its schedule wants now (the CronJob's command)."""
    run_id = _start(opts)
    session = open_session(opts.schedule, cluster, now=datetime.now(UTC), schedule_required=True)
    state = session.observe()
    plan = session.plan(state)
    report = _converge(session, plan, opts, run_id)
    pushed = push_report(report, options=metrics, version=__version__, namespaces=state.namespaces)
    code = exit_code(report, pushed=pushed, strict=metrics.strict)
    _finish(session, report, opts.output, code)


@app.command(cls=ClusterCommand)
@handle_errors
@with_cluster_options
@with_command_options
def shutdown(
    namespaces: Namespaces,
    *,
    for_: ForOption = None,
    until: UntilOption = None,
    opts: CommandOptions,
    cluster: ClusterOptions,
) -> None:
    """Scale namespaces down now. With --for/--until they stay down until then
    (nsshutdown.io/keep-down-until); without, the next scheduled run follows the schedule."""
    hold = _hold(for_, until, required=False)
    _manual(opts, cluster, namespaces, want=Desired.DOWN, hold=hold, warn=hold.until is None)


@app.command(cls=ClusterCommand)
@handle_errors
@with_cluster_options
@with_command_options
def restore(
    namespaces: OptionalNamespaces = None,
    *,
    all_: AllOption = False,
    opts: CommandOptions,
    cluster: ClusterOptions,
) -> None:
    """Bring namespaces (or --all) back now, and drop any keep-down-until."""
    if bool(namespaces) == all_:
        raise UsageError("restore: give NAMESPACE... or --all (not both)")
    _manual(opts, cluster, namespaces, want=Desired.UP, hold=None, warn=bool(namespaces))


@app.command(cls=ClusterCommand)
@handle_errors
@with_cluster_options
@with_command_options
def resume(
    namespaces: Namespaces,
    *,
    opts: CommandOptions,
    cluster: ClusterOptions,
) -> None:
    """End any hold early (keep-up-until, keep-down-until): the namespaces follow their
    schedule again now."""
    run_id = _start(opts)
    session = open_session(opts.schedule, cluster, now=datetime.now(UTC), schedule_required=True)
    state = session.observe()
    names = list(namespaces)
    _require(state, names)
    released = without_holds(state, names)
    plan = session.plan(released, only=names)
    notes = {ns: dict.fromkeys(HOLD_ANNOTATIONS) for ns in names if has_a_hold(state, ns)}
    report = _converge(session, plan, opts, run_id, annotations=notes)
    _finish(session, report, opts.output, report.exit_code)


@app.command(cls=ClusterCommand)
@handle_errors
@with_cluster_options
@with_command_options
def wake(
    namespaces: Namespaces,
    *,
    for_: ForOption = None,
    until: UntilOption = None,
    opts: CommandOptions,
    cluster: ClusterOptions,
) -> None:
    """Keep namespaces up for a while (nsshutdown.io/keep-up-until), restoring them now."""
    hold = _hold(for_, until, required=True)
    _manual(opts, cluster, namespaces, want=Desired.UP, hold=hold, warn=False)


@app.command(cls=ClusterCommand)
@handle_errors
@with_cluster_options
@with_read_options
def status(
    namespaces: OptionalNamespaces = None,
    *,
    cpu_hour_price: CpuHourPrice = Prices.cpu_hour,
    memory_gib_hour_price: MemoryGibHourPrice = Prices.memory_gib_hour,
    opts: CommandOptions,
    cluster: ClusterOptions,
) -> None:
    """Per namespace (all, or those named): up / down / partial / excluded, since when, next
    change, what it holds."""
    _start(opts)
    session = open_session(opts.schedule, cluster, now=datetime.now(UTC), schedule_required=True)
    state = session.observe(pods=True)
    if namespaces:
        _require(state, list(namespaces))
    plan = session.plan(state, only=namespaces or None)
    rows = status_rows(plan, state, prices=Prices(cpu_hour_price, memory_gib_hour_price))
    if opts.output is OutputFormat.JSON:
        typer.echo(status_to_json(rows, session.schedule, at=session.now))
    else:
        render_status_text(rows, session.schedule, text_console())


# --- shared steps -------------------------------------------------------------------------------


def _converge(
    session: Session,
    plan: Plan,
    opts: CommandOptions,
    run_id: str,
    *,
    overrides: dict[str, Desired] | None = None,
    annotations: NamespaceAnnotations | None = None,
) -> RunReport:
    with _stop_on_sigterm(session.stop):
        return session.converge(
            plan,
            dry_run=opts.dry_run,
            run_id=run_id,
            wake_wait=opts.wake_wait,
            overrides=overrides,
            annotations=annotations,
            events=opts.events,
        )


@contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    """SIGTERM (the CronJob's deadline, a node drain) stops the run cleanly: no namespace is
    started after it, those in progress finish (all or nothing), and the command still reports,
    pushes its metrics and exits 2. The kubelet's SIGKILL after the grace period ends it anyway,
    and even that loses nothing (one patch per workload)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return

    def asked_to_stop(signum: int, frame: object) -> None:
        logger.warning("SIGTERM: finishing the namespaces in progress, starting no other")
        stop.set()

    previous = signal.signal(signal.SIGTERM, asked_to_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _start(opts: CommandOptions) -> str:
    run_id = logs.new_run_id()
    logs.configure(fmt=opts.log_format, level=opts.log_level, run_id=run_id)
    return run_id


@dataclass(frozen=True)
class _Hold:
    """``--for``/``--until`` resolved against the instant the command started."""

    now: datetime
    until: datetime | None


def _hold(for_: str | None, until: str | None, *, required: bool) -> _Hold:
    now = datetime.now(UTC)
    return _Hold(now, hold_until(for_, until, now=now, required=required))


def _manual(
    opts: CommandOptions,
    cluster: ClusterOptions,
    namespaces: list[str] | None,
    *,
    want: Desired,
    hold: _Hold | None,
    warn: bool,
) -> None:
    """shutdown / restore / wake: force ``want`` on the namespaces now, and write or clear holds.

    ``namespaces=None`` means every namespace holding anything (``restore --all``). With ``warn``,
    say where the next scheduled run would take each namespace when that differs from ``want``.
    """
    run_id = _start(opts)
    now = hold.now if hold else datetime.now(UTC)
    session = open_session(opts.schedule, cluster, now=now, schedule_required=False)
    if hold is not None and hold.until is not None:
        _within_max_hold(hold, session.schedule.defaults.max_hold)
    state = session.observe()
    names = list(namespaces) if namespaces else holding_namespaces(state)
    _require(state, names)
    if want is Desired.DOWN:
        _refuse_protected(session, names)
    plan = session.plan(state, overrides=dict.fromkeys(names, want), only=names)
    notes = hold_annotations(state, plan, want=want, until=hold.until if hold else None)
    for ns in plan.namespaces:
        if ns.reason is Reason.EXCLUDED:
            logger.warning("%s is excluded: left alone %s", ns.namespace, ns.message)
    report = _converge(
        session, plan, opts, run_id, overrides=dict.fromkeys(names, want), annotations=notes
    )
    if warn:  # the next scheduled run, once this command's annotations are written
        _warn_schedule_differs(session, with_annotations(state, notes), names, want=want)
    if hold is not None and hold.until is not None and not report.failed_namespaces:
        zone = ZoneInfo(session.schedule.defaults.timezone)
        shown = _in_the_users_zone(hold.until, zone)
        _say_until(shown, want, [ns for ns in names if ns in notes], opts.output)
    _finish(session, report, opts.output, report.exit_code)


def _in_the_users_zone(until: datetime, zone: ZoneInfo) -> datetime:
    """``--until`` with an offset of its own is shown in that offset; a ``--for`` (or a UTC
    time) in the schedule's zone (``defaults.timezone``)."""
    offset = until.utcoffset()
    return until if offset else until.astimezone(zone)


def _say_until(until: datetime, want: Desired, names: list[str], output: OutputFormat) -> None:
    """Tell when the hold ends, in the user's zone and as a delay: the first thing people ask."""
    when = until.strftime("%a %d %b %H:%M %Z")  # CET, or UTC+01:00 for a bare offset
    left = format_duration(
        timedelta(minutes=round((until - datetime.now(UTC)).total_seconds() / 60))
    )
    for name in names:
        logger.info("%s: held %s until %s (in %s)", name, want, when, left)
        if output is OutputFormat.TEXT:
            typer.echo(
                f"{name} stays {want} until {when} (in {left}); `nsshutdown resume {name}`"
                " ends it early"
            )


def _within_max_hold(hold: _Hold, max_hold: timedelta) -> None:
    if hold.until is not None and hold.until - hold.now > max_hold:
        raise UsageError(
            f"--for/--until: {hold.until.isoformat()} is more than {format_duration(max_hold)}"
            " away (defaults.maxHold in the schedule)"
        )


def _refuse_protected(session: Session, names: list[str]) -> None:
    """A namespace no command scales is bad input for ``shutdown``: nothing is touched."""
    rules = [
        rule
        for name in names
        if (rule := protection(name, session.schedule, own_namespace=session.own_namespace))
    ]
    if rules:
        raise UsageError(f"not shut down: {'; '.join(rules)}")


def _require(state: ClusterState, names: list[str]) -> None:
    missing = sorted(set(names) - {ns.name for ns in state.namespaces})
    if missing:
        raise UsageError(f"no such namespace: {', '.join(missing)}")


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
    # Skips are in the output; logging them would repeat every idle workload every run. On a
    # terminal the table below already shows each change: only what went wrong is logged too.
    every_change = logs.lines_for_machines() or output is OutputFormat.JSON
    for ns in report.namespaces:
        for result in ns.results:
            wrong = result.action.type is ActionType.ERROR or logs.went_wrong(result)
            if wrong or (every_change and result.action.writes):
                logs.log_action(logger, result)
    logs.log_summary(logger, report)
    if output is OutputFormat.JSON:
        typer.echo(report_to_json(report, session.schedule, at=session.now))
    else:
        render_report_text(report, text_console())
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))
