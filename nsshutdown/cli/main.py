"""The ``nsshutdown`` console script: the Typer app, with each command's module loaded on demand.

Importing a command module registers its commands on the app. A command line loads only the
module of its command (:data:`COMMAND_MODULES`): ``validate`` in a CI pipeline does not pay for
the imports of ``run`` (the cluster session, the metrics client). With no command (``--help``),
or one not in the table, every module is loaded, so the help lists every command and a command
missing from the table still runs. ``app``, imported from here, is the app with every command.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Final

import typer

from nsshutdown.cli.app import app as _app
from nsshutdown.cli.app import error_document
from nsshutdown.errors import ExitCode, UsageError

#: command -> the module of ``nsshutdown.cli`` that registers it. No guard around the import: a
#: broken module must fail its commands loudly, never let ``run`` vanish from the command line.
COMMAND_MODULES: Final = {
    "run": "converge",
    "shutdown": "converge",
    "restore": "converge",
    "resume": "converge",
    "wake": "converge",
    "status": "converge",
    "validate": "validate",
    "plan": "offline",
    "check": "preflight",
}


#: pydantic's own setting: ``__all__`` (or ``1``, ``true``) disables every plugin.
PYDANTIC_PLUGINS_ENV: Final = "PYDANTIC_DISABLE_PLUGINS"


def load_commands(argv: list[str]) -> None:
    """Register the commands ``argv`` can reach: its command's module, or every module."""
    for module in dict.fromkeys(_modules_for(argv)):
        importlib.import_module(f"nsshutdown.cli.{module}")


def _modules_for(argv: list[str]) -> list[str]:
    # The root takes only flags (--help, --version): the first other word is the command.
    leading, command = [], None
    for arg in argv:
        if arg.startswith("-"):
            leading.append(arg)
            continue
        command = arg
        break
    if command is None and leading and all(arg == "--version" for arg in leading):
        return []  # prints the version: no command needed
    if command in COMMAND_MODULES and not set(leading) - {"--version"}:
        return [COMMAND_MODULES[command]]
    return list(COMMAND_MODULES.values())


def __getattr__(name: str) -> Any:
    # `from nsshutdown.cli.main import app` (tests, the docs' CLI reference): every command
    if name == "app":
        load_commands([])
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _print_version(ctx: typer.Context, value: bool) -> None:
    # Only the flag itself: an NSSHUTDOWN_VERSION variable (say, an image tag) must not hijack runs.
    source = ctx.get_parameter_source("version")
    if value and source is not None and source.name == "COMMANDLINE":
        from nsshutdown import __version__  # noqa: PLC0415 - reads the package metadata

        typer.echo(f"nsshutdown {__version__}")
        raise typer.Exit


@_app.callback()
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
    args = sys.argv[1:]
    # A run builds tens of thousands of small objects that live until it ends, and so do the
    # imports (modules, classes, the schedule's pydantic schemas). Left at its defaults, the
    # cyclic collector rescans them again and again, from the first import on: collect far less
    # often from the start, and freeze what the imports made.
    gc.set_threshold(50_000, 20, 20)
    with _no_pydantic_plugins():
        load_commands(args)
    gc.freeze()
    sys.exit(run_cli(args))


@contextmanager
def _no_pydantic_plugins() -> Iterator[None]:
    """No pydantic plugins for the models built meanwhile (``schedule/config.py``'s, the only ones).

    Unless told ``PYDANTIC_DISABLE_PLUGINS``, pydantic looks for plugins at the first model it
    builds, in the entry points of every package installed next to it (a few ms in a small
    environment, more in a large one); nsshutdown uses none. A value the user set is left as it
    is, and ours is removed afterwards: a process started later, such as a kubeconfig's
    credential plugin, does not inherit it.
    """
    if PYDANTIC_PLUGINS_ENV in os.environ:
        yield
        return
    os.environ[PYDANTIC_PLUGINS_ENV] = "__all__"
    try:
        yield
    finally:
        del os.environ[PYDANTIC_PLUGINS_ENV]


def run_cli(argv: list[str] | None = None) -> int:
    """The command line as ``main`` runs it, returning the exit code.

    Click (which Typer vendors) exits 2 on a usage error, which this tool's contract reserves for
    "partial": an unknown flag, a bad value or a missing file is bad input, exit 1, on one line.
    """
    args = sys.argv[1:] if argv is None else argv
    load_commands(args)
    try:
        result = _app(args=args, standalone_mode=False)
    except typer.Abort:
        print("interrupted", file=sys.stderr)  # noqa: T201 - the CLI's user-facing channel
        return int(ExitCode.INTERNAL)
    except Exception as err:
        if not _is_click_error(err):
            raise
        return _usage_error(err, args)
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
