"""The ``nsshutdown`` console script: the Typer app with every command module registered."""

from __future__ import annotations

import gc
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
from nsshutdown.cli.app import app


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
    app()
