"""The ``nsshutdown`` console script: the Typer app with every command module registered."""

from __future__ import annotations

import gc
import os
import sys
from typing import Annotated

import typer

from nsshutdown import __version__

# Importing a command module registers its commands on the app. No guard: a broken import must
# fail loudly here, never silently drop `run` from the CronJob's command line.
from nsshutdown.cli import (
    converge,  # noqa: F401 - registers run, shutdown, restore, wake and status
    offline,  # noqa: F401 - registers validate and plan
    preflight,  # noqa: F401 - registers check
)
from nsshutdown.cli.app import app, error_document
from nsshutdown.errors import ExitCode, UsageError


def _print_version(ctx: typer.Context, value: bool) -> None:
    # Only the flag itself: an NSSHUTDOWN_VERSION variable (say, an image tag) must not hijack runs.
    source = ctx.get_parameter_source("version")
    if value and source is not None and source.name == "COMMANDLINE":
        typer.echo(f"nsshutdown {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Scale whole namespaces down outside working hours and bring them back on time."""


def main() -> None:
    # A run builds tens of thousands of small objects that live until it ends. Left at its
    # defaults, the cyclic collector rescans them, and every imported module, again and again
    # while lists are decoded: freeze what the imports made and collect far less often.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    sys.exit(run_cli())


def run_cli(argv: list[str] | None = None) -> int:
    """The command line as ``main`` runs it, returning the exit code.

    Click (which Typer vendors) exits 2 on a usage error, which this tool's contract reserves for
    "partial": an unknown flag, a bad value or a missing file is bad input, exit 1, on one line.
    """
    try:
        result = app(args=argv, standalone_mode=False)
    except typer.Abort:
        print("interrupted", file=sys.stderr)  # noqa: T201 - the CLI's user-facing channel
        return int(ExitCode.INTERNAL)
    except Exception as err:
        if not _is_click_error(err):
            raise
        return _usage_error(err, sys.argv[1:] if argv is None else argv)
    return result if isinstance(result, int) else int(ExitCode.OK)


def _is_click_error(err: Exception) -> bool:
    # Typer vendors Click under a private name: recognise its errors by their class names
    return any(cls.__name__ == "ClickException" for cls in type(err).__mro__)


def _usage_error(err: Exception, argv: list[str]) -> int:
    ctx = getattr(err, "ctx", None)
    if type(err).__name__ == "NoArgsIsHelpError" and ctx is not None:
        print(ctx.get_help())  # noqa: T201 - `nsshutdown` alone shows the help, as kubectl does
        return int(ExitCode.OK)
    message = err.format_message() if hasattr(err, "format_message") else str(err)
    command = getattr(ctx, "command_path", "") or "nsshutdown"
    print(f"error: {message} (see `{command} --help`)", file=sys.stderr)  # noqa: T201
    if _asks_for_json(argv):
        print(error_document(UsageError(message)))  # noqa: T201 - stdout is the JSON document's
    return int(ExitCode.BAD_INPUT)


def _asks_for_json(argv: list[str]) -> bool:
    """``-o json``, ``--output json`` or ``--output=json`` anywhere on the command line."""
    pairs = zip(argv, [*argv[1:], ""], strict=True)
    return (
        any(
            arg in ("--output=json", "-ojson") or (arg in ("-o", "--output") and value == "json")
            for arg, value in pairs
        )
        or os.environ.get("NSSHUTDOWN_OUTPUT") == "json"
    )
