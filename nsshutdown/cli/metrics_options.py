"""The command-line options of metrics: where to push, how to authenticate, what prices to use.

Either declare the ``Annotated`` aliases below on a Typer command and build
:meth:`MetricsOptions.from_cli` from them, or decorate the command with
:func:`with_metrics_options` and take a single ``metrics: MetricsOptions`` parameter.
Every option also reads an ``NSSHUTDOWN_*`` environment variable; the password is only read from
a file or ``$NSSHUTDOWN_PUSHGATEWAY_PASSWORD``, never from a flag (it would show in ``ps``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Final, TypeVar

import typer

from nsshutdown.cli.options import bundle_options
from nsshutdown.observe.push_options import DEFAULT_TEAM_LABEL, MetricsOptions
from nsshutdown.observe.pushgateway import DEFAULT_TIMEOUT, PASSWORD_ENV
from nsshutdown.observe.savings import Prices

R = TypeVar("R")


# --- Typer options ------------------------------------------------------------------------------

PushgatewayUrl = Annotated[
    str | None,
    typer.Option(
        "--pushgateway",
        envvar="NSSHUTDOWN_PUSHGATEWAY",
        metavar="URL",
        help="Push metrics to this Pushgateway once per run (e.g. http://pushgateway:9091).",
    ),
]
PushgatewayGrouping = Annotated[
    list[str] | None,
    typer.Option(
        "--pushgateway-grouping",
        envvar="NSSHUTDOWN_PUSHGATEWAY_GROUPING",
        metavar="LABEL=VALUE",
        help="Extra grouping-key label, e.g. cluster=prod-eu (repeatable; space-separated in env).",
    ),
]
PushgatewayTimeout = Annotated[
    float,
    typer.Option(
        "--pushgateway-timeout",
        envvar="NSSHUTDOWN_PUSHGATEWAY_TIMEOUT",
        metavar="SECONDS",
        help="Timeout of each network operation of the push.",
    ),
]
PushgatewayUsername = Annotated[
    str | None,
    typer.Option(
        "--pushgateway-username",
        envvar="NSSHUTDOWN_PUSHGATEWAY_USERNAME",
        help=f"Basic auth user; password from --pushgateway-password-file or ${PASSWORD_ENV}.",
    ),
]
PushgatewayPasswordFile = Annotated[
    Path | None,
    typer.Option(
        "--pushgateway-password-file",
        envvar="NSSHUTDOWN_PUSHGATEWAY_PASSWORD_FILE",
        dir_okay=False,
        help="File holding the basic auth password (e.g. a mounted Secret).",
    ),
]
PushgatewayCaFile = Annotated[
    Path | None,
    typer.Option(
        "--pushgateway-ca-file",
        envvar="NSSHUTDOWN_PUSHGATEWAY_CA_FILE",
        dir_okay=False,
        help="CA bundle to verify an https Pushgateway with (default: the system's).",
    ),
]
PushgatewayInsecure = Annotated[
    bool,
    typer.Option(
        "--pushgateway-insecure",
        envvar="NSSHUTDOWN_PUSHGATEWAY_INSECURE",
        help="Do not verify the Pushgateway's TLS certificate (testing only).",
    ),
]
StrictMetrics = Annotated[
    bool,
    typer.Option(
        "--strict-metrics",
        envvar="NSSHUTDOWN_STRICT_METRICS",
        help="Exit 2 when the metrics push fails (default: a warning only).",
    ),
]
CpuHourPrice = Annotated[
    float,
    typer.Option(
        "--cpu-hour-price",
        envvar="NSSHUTDOWN_CPU_HOUR_PRICE",
        metavar="PRICE",
        help="Price of one requested vCPU for an hour, for savings estimates (OpenCost default).",
    ),
]
MemoryGibHourPrice = Annotated[
    float,
    typer.Option(
        "--memory-gib-hour-price",
        envvar="NSSHUTDOWN_MEMORY_GIB_HOUR_PRICE",
        metavar="PRICE",
        help="Price of one requested GiB of memory for an hour (OpenCost default).",
    ),
]
TeamLabel = Annotated[
    str,
    typer.Option(
        "--team-label",
        envvar="NSSHUTDOWN_TEAM_LABEL",
        metavar="KEY",
        help="Namespace label whose value is the team label of the next-transition metric.",
    ),
]

#: (parameter name, annotation, default) of every option :func:`with_metrics_options` adds.
OPTION_PARAMETERS: Final[tuple[tuple[str, object, object], ...]] = (
    ("pushgateway", PushgatewayUrl, None),
    ("pushgateway_grouping", PushgatewayGrouping, None),
    ("pushgateway_timeout", PushgatewayTimeout, DEFAULT_TIMEOUT),
    ("pushgateway_username", PushgatewayUsername, None),
    ("pushgateway_password_file", PushgatewayPasswordFile, None),
    ("pushgateway_ca_file", PushgatewayCaFile, None),
    ("pushgateway_insecure", PushgatewayInsecure, False),
    ("strict_metrics", StrictMetrics, False),
    ("cpu_hour_price", CpuHourPrice, Prices.cpu_hour),
    ("memory_gib_hour_price", MemoryGibHourPrice, Prices.memory_gib_hour),
    ("team_label", TeamLabel, DEFAULT_TEAM_LABEL),
)


#: The options that say where and how to reach the Pushgateway (``nsshutdown check``).
PUSHGATEWAY_PARAMETERS: Final = tuple(
    p
    for p in OPTION_PARAMETERS
    if p[0].startswith("pushgateway") and p[0] != "pushgateway_grouping"
)


def with_metrics_options(command: Callable[..., R]) -> Callable[..., R]:
    """Give a Typer command every metrics option in one line.

    The command declares ``metrics: MetricsOptions``; the decorator replaces that parameter by the
    options above and passes the validated :class:`MetricsOptions` in.
    """
    return bundle_options("metrics", OPTION_PARAMETERS, MetricsOptions.from_cli)(command)


def with_pushgateway_options(command: Callable[..., R]) -> Callable[..., R]:
    """Like :func:`with_metrics_options`, with only the options to reach the Pushgateway."""
    return bundle_options("metrics", PUSHGATEWAY_PARAMETERS, MetricsOptions.from_cli)(command)
