"""Options shared by several commands, declared once. Each also reads ``NSSHUTDOWN_<NAME>``."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from nsshutdown.errors import UsageError


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


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
#: One option of a bundle: (parameter name, ``Annotated`` type, default).
OptionSpec = tuple[str, object, object]
R = TypeVar("R")


def bundle_options(
    param: str, specs: Sequence[OptionSpec], build: Callable[..., Any]
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """A decorator that gives a Typer command a group of options as ONE parameter.

    The command declares ``param`` (e.g. ``cluster: ClusterOptions``); the decorator replaces it,
    in the signature Typer reads, by the options in ``specs``, and calls the command with
    ``param=build(**values)``. Groups of options are then declared once, not on every command.
    """

    def decorate(command: Callable[..., R]) -> Callable[..., R]:
        signature = inspect.signature(command, eval_str=True)
        if param not in signature.parameters:
            raise TypeError(f"{command.__name__} must take a `{param}` parameter")
        names = [name for name, _, _ in specs]

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> R:
            values = {name: kwargs.pop(name) for name in names if name in kwargs}
            return command(*args, **{param: build(**values)}, **kwargs)

        params = [p for p in signature.parameters.values() if p.name != param]
        keyword = inspect.Parameter.KEYWORD_ONLY
        params += [
            inspect.Parameter(name, keyword, default=default, annotation=hint)
            for name, hint, default in specs
        ]
        wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper

    return decorate


def require_schedule(schedule_file: Path | None) -> Path:
    """The ``--schedule`` file of a command that reads no ConfigMap."""
    if schedule_file is None:
        raise UsageError("give --schedule FILE (or set NSSHUTDOWN_SCHEDULE)")
    return schedule_file
