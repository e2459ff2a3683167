"""Options of the commands that read a schedule and write to a cluster, declared once.

``--dry-run`` follows kubectl: ``--dry-run`` alone (or ``--dry-run=client``) sends nothing,
``--dry-run=server`` sends every write with the API's ``dryRun=All``. Click cannot have an
option that is both a flag and takes ``=value``, so :class:`ClusterCommand` rewrites a bare
``--dry-run`` to ``--dry-run=client`` before parsing; the value must be attached with ``=``.

The connection and politeness options (``--kubeconfig``, ``--qps``, ...) are in
``cli/cluster_options.py``: ``validate`` and ``plan`` take them too, without importing this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand

from nsshutdown.cli.options import (
    ConfigMapRef,
    OptionSpec,
    Output,
    OutputFormat,
    ScheduleFile,
    bundle_options,
)
from nsshutdown.errors import UsageError
from nsshutdown.observe.logs import LogFormat, LogLevel
from nsshutdown.run.report import DryRun
from nsshutdown.session.sources import ScheduleSource
from nsshutdown.timeutil import MAX_DURATION, format_duration, parse_duration, parse_timestamp

MAX_HOLD = format_duration(MAX_DURATION)
#: How long a command waits, by default, for a wake-up tier to be ready before leaving the rest
#: to the next run: most databases are ready well within it, and the CronJob's deadline is 4m.
DEFAULT_WAKE_WAIT = timedelta(minutes=1)
MAX_WAKE_WAIT = timedelta(hours=1)

R = TypeVar("R")


def normalize_dry_run(args: list[str]) -> list[str]:
    """A bare ``--dry-run`` means ``--dry-run=client`` (everything after ``--`` is left alone)."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        out.append("--dry-run=client" if arg == "--dry-run" else arg)
    return out


class ClusterCommand(TyperCommand):
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # ctx: typer's click Context
        return super().parse_args(ctx, normalize_dry_run(list(args)))


LogFormatOption = Annotated[
    LogFormat,
    typer.Option(
        "--log-format",
        envvar="NSSHUTDOWN_LOG_FORMAT",
        help="json (one object a line) or text; auto = text on a terminal, json otherwise.",
    ),
]
LogLevelOption = Annotated[
    LogLevel,
    typer.Option("--log-level", envvar="NSSHUTDOWN_LOG_LEVEL", help="Log verbosity."),
]
DryRunOption = Annotated[
    DryRun,
    typer.Option(
        "--dry-run",
        envvar="NSSHUTDOWN_DRY_RUN",
        metavar="[=client|server]",
        help="Write nothing. --dry-run (=client) sends no write at all; "
        "--dry-run=server sends every write with dryRun=All so the API server checks it.",
        show_default=False,
    ),
]
EventsOption = Annotated[
    bool,
    typer.Option(
        "--events/--no-events",
        envvar="NSSHUTDOWN_EVENTS",
        help="Create a Kubernetes Event on each workload scaled, restored, rolled back or failed, "
        "so kubectl describe says why (best effort; never in a dry run).",
    ),
]
WakeWaitOption = Annotated[
    str,
    typer.Option(
        "--wake-wait",
        envvar="NSSHUTDOWN_WAKE_WAIT",
        metavar="DURATION",
        help="With wake-up tiers (wakeOrder), how long this command may wait for a tier to be "
        "ready before it stops and leaves the next tiers to a later run (0s: never wait).",
    ),
]
ForOption = Annotated[
    str | None,
    typer.Option(
        "--for",
        envvar="NSSHUTDOWN_FOR",
        metavar="DURATION",
        help="How long to hold it, e.g. 3h, 1d, 1h30m.",
    ),
]
UntilOption = Annotated[
    str | None,
    typer.Option(
        "--until",
        envvar="NSSHUTDOWN_UNTIL",
        metavar="TIME",
        help="Hold it until this RFC 3339 time.",
    ),
]


def hold_until(
    for_: str | None, until: str | None, *, now: datetime, required: bool
) -> datetime | None:
    """``--for D`` / ``--until T`` as an instant in the future (``None`` when neither is given)."""
    if for_ is not None and until is not None:
        raise UsageError("give --for or --until, not both")
    if for_ is None and until is None:
        if required:
            raise UsageError("give --for DURATION or --until TIME")
        return None
    try:
        at = now + parse_duration(for_) if for_ is not None else parse_timestamp(str(until))
    except ValueError as err:
        raise UsageError(f"--for/--until: {err}") from None
    if at <= now:
        raise UsageError(f"--for/--until: {at.isoformat()} is not in the future")
    if at - now > MAX_DURATION:
        raise UsageError(f"--for/--until: {at.isoformat()} is more than {MAX_HOLD} away")
    return at


# --- the options of every command that reads a schedule and a cluster ---------------------


@dataclass(frozen=True)
class CommandOptions:
    """The options every command here shares, bundled by :func:`with_command_options`."""

    schedule: ScheduleSource
    output: OutputFormat = OutputFormat.TEXT
    log_format: LogFormat = LogFormat.AUTO
    log_level: LogLevel = LogLevel.INFO
    dry_run: DryRun = DryRun.NONE
    events: bool = False
    wake_wait: timedelta = DEFAULT_WAKE_WAIT


def _command_options(
    *, schedule_file: Path | None, configmap: str | None, **rest: Any
) -> CommandOptions:
    if "wake_wait" in rest:
        try:
            rest["wake_wait"] = parse_duration(rest["wake_wait"])
        except ValueError as err:
            raise UsageError(f"--wake-wait: {err}") from None
        if rest["wake_wait"] > MAX_WAKE_WAIT:
            raise UsageError(f"--wake-wait: at most {format_duration(MAX_WAKE_WAIT)}")
    return CommandOptions(ScheduleSource(file=schedule_file, configmap=configmap), **rest)


_READ_OPTIONS: tuple[OptionSpec, ...] = (
    ("schedule_file", ScheduleFile, None),
    ("configmap", ConfigMapRef, None),
    ("output", Output, OutputFormat.TEXT),
    ("log_format", LogFormatOption, LogFormat.AUTO),
    ("log_level", LogLevelOption, LogLevel.INFO),
)
_WRITE_OPTIONS = (
    *_READ_OPTIONS,
    ("dry_run", DryRunOption, DryRun.NONE),
    ("events", EventsOption, False),
    ("wake_wait", WakeWaitOption, format_duration(DEFAULT_WAKE_WAIT)),
)
with_read_options = bundle_options("opts", _READ_OPTIONS, _command_options)
with_command_options = bundle_options("opts", _WRITE_OPTIONS, _command_options)
