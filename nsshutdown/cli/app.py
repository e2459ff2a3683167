"""The Typer application object and the one place that maps errors to exit codes."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from nsshutdown.errors import ExitCode, NsShutdownError

logger = logging.getLogger(__name__)

app = typer.Typer(
    name="nsshutdown",
    help="Scale whole namespaces down outside working hours and bring them back on time.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: Rich's boxed help cuts option names and env vars at 80 columns.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "NSSHUTDOWN"},
)

P = ParamSpec("P")
R = TypeVar("R")


def error_document(err: NsShutdownError | Exception, code: ExitCode | None = None) -> str:
    """The one JSON document a failed command prints with ``--output json``.

    ``errors`` lists the problems; a schedule's each carry ``file``, ``line`` and ``field``.
    """
    exit_code = code if code is not None else getattr(err, "exit_code", ExitCode.INTERNAL)
    details = getattr(err, "details", None) or [{"message": str(err)}]
    return json.dumps({"exit_code": int(exit_code), "errors": details}, indent=2)


def _wants_json(kwargs: dict[str, object]) -> bool:
    """Whether the command was asked for ``--output json`` (directly, or in its options)."""
    output = kwargs.get("output", getattr(kwargs.get("opts"), "output", None))
    return str(output) == "json"


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn our exceptions into a one-line message on stderr and the documented exit code.

    Anything unexpected is exit 4 with the traceback in the log (never a bare traceback to users
    unless ``--log-level debug``).
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except NsShutdownError as err:
            print(f"error: {err}", file=sys.stderr)  # noqa: T201 - the CLI's user-facing channel
            if _wants_json(kwargs):
                print(error_document(err))  # noqa: T201 - stdout is the JSON document's
            raise typer.Exit(int(err.exit_code)) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)  # noqa: T201
            raise typer.Exit(int(ExitCode.INTERNAL)) from None
        except Exception as err:
            logger.debug("internal error", exc_info=True)
            print(f"internal error: {type(err).__name__}: {err}", file=sys.stderr)  # noqa: T201
            raise typer.Exit(int(ExitCode.INTERNAL)) from None

    return wrapper
