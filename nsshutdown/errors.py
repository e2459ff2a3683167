"""One exception root and the exit code each kind of failure maps to.

The CLI's error handler is the only place that turns these into exit codes (see ``cli.py``):

- 0 done (or nothing to do)
- 1 bad input (schedule, flags, annotations given on the command line); nothing was touched
- 2 partial: some namespaces failed, the rest converged
- 3 cannot reach or authenticate to the cluster; nothing was touched
- 4 internal error
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    BAD_INPUT = 1
    PARTIAL = 2
    UNREACHABLE = 3
    INTERNAL = 4


class NsShutdownError(Exception):
    """Root of every error this tool raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL


class ConfigError(NsShutdownError):
    """The schedule (or a flag, or an annotation given on the command line) is invalid.

    ``str(error)`` is one line per problem, each ``file:line: field.path: message``.
    """

    exit_code = ExitCode.BAD_INPUT

    def __init__(
        self, problems: list[str] | str, *, details: list[dict[str, object]] | None = None
    ) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        #: The same problems for machines: ``file``, ``line``, ``field`` and ``message`` each.
        self.details = details if details is not None else [{"message": p} for p in self.problems]
        super().__init__("\n".join(self.problems))


class UsageError(ConfigError):
    """A command-line flag or argument is invalid."""


class ClusterUnreachableError(NsShutdownError):
    """The API server cannot be reached, or refuses our credentials, before anything was written."""

    exit_code = ExitCode.UNREACHABLE


class ApiError(NsShutdownError):
    """An API call failed after retries. ``status`` is the HTTP status (0 when there was none)."""

    def __init__(self, message: str, *, status: int = 0, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class ConflictError(ApiError):
    """409: the object changed since we read it; re-read and decide again."""


class NotFoundError(ApiError):
    """404: the object (or its kind) does not exist."""


class ForbiddenError(ApiError):
    """403: RBAC refuses this call."""


class CircuitOpenError(ApiError):
    """Too many consecutive API failures: the run stops writing."""
