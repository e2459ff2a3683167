"""Options of the commands that talk to a cluster, declared once.

``--dry-run`` follows kubectl: ``--dry-run`` alone (or ``--dry-run=client``) sends nothing,
``--dry-run=server`` sends every write with the API's ``dryRun=All``. Click cannot have an
option that is both a flag and takes ``=value``, so :class:`ClusterCommand` rewrites a bare
``--dry-run`` to ``--dry-run=client`` before parsing; the value must be attached with ``=``.

The connection and politeness options (``--kubeconfig``, ``--context``, ``--qps``, ``--burst``,
``--concurrency``, ``--retries``, ``--request-timeout``, ``--breaker-threshold``,
``--scope-namespaces``) are bundled into one :class:`~nsshutdown.session.session.ClusterOptions` by
:func:`with_cluster_options`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Final, TypeVar

import typer
from typer.core import TyperCommand

from nsshutdown.cli.options import (
    ConfigMapRef,
    Context,
    Kubeconfig,
    LogFormatOption,
    LogLevelOption,
    OptionSpec,
    Output,
    OutputFormat,
    ScheduleFile,
    bundle_options,
)
from nsshutdown.errors import UsageError
from nsshutdown.kube.resilience import Limits
from nsshutdown.observe.logs import LogFormat, LogLevel
from nsshutdown.run.report import DryRun
from nsshutdown.session.session import ClusterOptions
from nsshutdown.session.sources import ScheduleSource
from nsshutdown.timeutil import MAX_DURATION, format_duration, parse_duration, parse_timestamp

MAX_HOLD = format_duration(MAX_DURATION)
#: How long a command waits, by default, for a wake-up tier to be ready before leaving the rest
#: to the next run: most databases are ready well within it, and the CronJob's deadline is 4m.
DEFAULT_WAKE_WAIT = timedelta(minutes=1)
MAX_WAKE_WAIT = timedelta(hours=1)

R = TypeVar("R")
_DEFAULTS: Final = Limits()


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
Qps = Annotated[
    float,
    typer.Option("--qps", envvar="NSSHUTDOWN_QPS", help="API requests per second (0: no limit)."),
]
Burst = Annotated[
    int, typer.Option("--burst", envvar="NSSHUTDOWN_BURST", help="Requests allowed above --qps.")
]
Concurrency = Annotated[
    int,
    typer.Option(
        "--concurrency", envvar="NSSHUTDOWN_CONCURRENCY", min=1, help="Requests in flight."
    ),
]
Retries = Annotated[
    int,
    typer.Option(
        "--retries",
        envvar="NSSHUTDOWN_RETRIES",
        min=0,
        help="Retries of a request failing with 429, 5xx, a reset or a timeout.",
    ),
]
RequestTimeout = Annotated[
    float,
    typer.Option(
        "--request-timeout", envvar="NSSHUTDOWN_REQUEST_TIMEOUT", help="Seconds per API request."
    ),
]
BreakerThreshold = Annotated[
    int,
    typer.Option(
        "--breaker-threshold",
        envvar="NSSHUTDOWN_BREAKER_THRESHOLD",
        min=1,
        help="Consecutive failed API requests after which the run stops writing (exit 2).",
    ),
]

ScopeNamespaces = Annotated[
    str | None,
    typer.Option(
        "--scope-namespaces",
        envvar="NSSHUTDOWN_SCOPE_NAMESPACES",
        metavar="NS[,NS...]",
        help="Only these namespaces: each is read with get and listed on its own, nothing "
        "cluster-wide (for RBAC granted per namespace). Default: the whole cluster.",
    ),
]
_NAMESPACE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def parse_scope(text: str | None) -> tuple[str, ...]:
    """``"team-a,team-b"`` -> ``("team-a", "team-b")``; every name must be a namespace name."""
    names = tuple(dict.fromkeys(n.strip() for n in (text or "").split(",") if n.strip()))
    bad = [n for n in names if not _NAMESPACE_NAME.fullmatch(n)]
    if bad or (text is not None and not names):
        raise UsageError(f"--scope-namespaces: not namespace names: {', '.join(bad) or repr(text)}")
    return names


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


#: (parameter, annotation, default) of every option :func:`with_cluster_options` adds.
_PARAMETERS: Final[tuple[tuple[str, object, object], ...]] = (
    ("kubeconfig", Kubeconfig, None),
    ("context", Context, None),
    ("qps", Qps, _DEFAULTS.qps),
    ("burst", Burst, _DEFAULTS.burst),
    ("concurrency", Concurrency, _DEFAULTS.concurrency),
    ("retries", Retries, _DEFAULTS.attempts - 1),
    ("request_timeout", RequestTimeout, _DEFAULTS.timeout_seconds),
    ("breaker_threshold", BreakerThreshold, _DEFAULTS.breaker_threshold),
    ("scope_namespaces", ScopeNamespaces, None),
)


def cluster_options(**raw: Any) -> ClusterOptions:
    if raw["qps"] < 0 or raw["burst"] < 1 or raw["request_timeout"] <= 0:
        raise UsageError("--qps must be >= 0, --burst >= 1 and --request-timeout > 0")
    limits = Limits(
        qps=raw["qps"],
        burst=raw["burst"],
        concurrency=raw["concurrency"],
        attempts=raw["retries"] + 1,
        timeout_seconds=raw["request_timeout"],
        breaker_threshold=raw["breaker_threshold"],
    )
    return ClusterOptions(
        kubeconfig=raw["kubeconfig"],
        context=raw["context"],
        limits=limits,
        scope=parse_scope(raw["scope_namespaces"]),
    )


#: Replace the command's ``cluster: ClusterOptions`` parameter by the options above.
with_cluster_options = bundle_options("cluster", _PARAMETERS, cluster_options)


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
