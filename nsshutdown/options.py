"""Options shared by several commands, declared once. Each also reads ``NSSHUTDOWN_<NAME>``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class LogFormat(StrEnum):
    AUTO = "auto"
    JSON = "json"
    TEXT = "text"


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


ScheduleFile = Annotated[
    Path | None,
    typer.Option(
        "--schedule",
        "-s",
        envvar="NSSHUTDOWN_SCHEDULE",
        help="Schedule YAML file.",
        dir_okay=False,
    ),
]
ConfigMapRef = Annotated[
    str | None,
    typer.Option(
        "--configmap",
        envvar="NSSHUTDOWN_CONFIGMAP",
        metavar="NAMESPACE/NAME[:KEY]",
        help="Read the schedule from a ConfigMap key (default key: schedule.yaml).",
    ),
]
Kubeconfig = Annotated[
    Path | None,
    typer.Option(
        "--kubeconfig",
        envvar="NSSHUTDOWN_KUBECONFIG",
        help="kubeconfig file (default: in-cluster config, then $KUBECONFIG, then ~/.kube/config).",
        dir_okay=False,
    ),
]
Context = Annotated[
    str | None,
    typer.Option("--context", envvar="NSSHUTDOWN_CONTEXT", help="kubeconfig context to use."),
]
Output = Annotated[
    OutputFormat,
    typer.Option(
        "--output", "-o", envvar="NSSHUTDOWN_OUTPUT", help="text for people, json for scripts."
    ),
]
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
