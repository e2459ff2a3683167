"""Logging for people and machines: JSON lines in a pod, rich text on a terminal.

Every JSON line is one object with ``time`` (RFC 3339, UTC), ``level``, ``logger``, ``message``,
``run_id`` and any extra fields the caller passed. Logs go to stderr: stdout belongs to
``--output json``.

Secrets are masked in every line, whatever logged them (our code, the kubernetes client, urllib3):
values of keys that name a secret (token, password, authorization, ...) and, inside any text,
bearer/basic credentials, ``password=...``-style pairs, JWTs and passwords in URLs.

Extra fields: ``logger.info("...", extra={"namespace": ns})``. ``name`` cannot be an ``extra=``
key (the standard library reserves it); pass ``extra=fields(name=..., **{"from": 3})`` instead.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import Any, Final, TextIO

from nsshutdown.kinds.registry import describe
from nsshutdown.model import ActionType
from nsshutdown.run.report import ActionResult, Outcome, RunReport


class LogFormat(StrEnum):
    AUTO = "auto"
    JSON = "json"
    TEXT = "text"


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


MASK: Final = "***"
FIELDS_ATTR: Final = "nsshutdown_fields"
_MARK = "_nsshutdown_handler"
_LEVELS: Final = {
    LogLevel.DEBUG: logging.DEBUG,
    LogLevel.INFO: logging.INFO,
    LogLevel.WARNING: logging.WARNING,
    LogLevel.ERROR: logging.ERROR,
}
_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message", "asctime", "taskName", FIELDS_ATTR,
}  # fmt: skip
#: The fields of a scaling line (DESIGN.md, Logs). Text output leaves them out: the message
#: names them.
SCALING_KEYS: Final = ("namespace", "kind", "name", "action", "from", "to", "outcome")

_SECRET_WORDS = r"pass(?:word|wd)|pwd|secret|token|authorization|bearer|api[_-]?key|credentials?"  # noqa: S105
_SECRET_KEY = re.compile(rf"(?i)({_SECRET_WORDS}|cookie|private[_-]?key)")
_PATTERNS: Final = (
    # user:password@ in URLs
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):[^@\s/]+@"), rf"\1:{MASK}@"),
    # key=value, key: value, "key": "value" (an optional Bearer/Basic scheme is kept)
    (
        re.compile(
            rf"(?i)\b([\w.-]*?(?:{_SECRET_WORDS}))(\"?'?\s*[:=]\s*\"?'?)"
            r"((?:bearer|basic|token)\s+)?(?!\*\*\*)[^\s\"',;&}\]]+"
        ),
        rf"\1\2\3{MASK}",
    ),
    # a bare "Bearer <token>" (a token has a digit or punctuation, an English word does not)
    (re.compile(r"(?i)\b(bearer)\s+(?=[\w.~+/-]*[\d.~+/=-])[\w.~+/-]{6,}=*"), rf"\1 {MASK}"),
    # a bare "Basic <base64>": base64 comes in blocks of 4 characters
    (
        re.compile(
            r"(?i)\b(basic)\s+(?:[A-Za-z0-9+/]{4}){2,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?(?![\w+/=])"
        ),
        rf"\1 {MASK}",
    ),
    # JWTs (Kubernetes service-account tokens)
    (re.compile(r"\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*"), MASK),
)
#: Each pattern above needs one of these to match, in :func:`_folded` text. Most texts (names,
#: kinds, "replicas 3 -> 0") have none: one search for the words instead of five regular
#: expressions, on every field of every line a run writes (tests/cli/test_logs.py holds both to
#: the same result).
_SUSPECT: Final = (
    "://", "pass", "pwd", "secret", "token", "authorization", "bearer", "api", "credential",
    "basic", "eyj",
)  # fmt: skip
_ANY_SUSPECT = re.compile("|".join(map(re.escape, _SUSPECT)))


def new_run_id() -> str:
    """A short id for one run (12 hex digits), to correlate its log lines and outputs."""
    return uuid.uuid4().hex[:12]


def redact(text: str) -> str:
    """``text`` with anything that looks like a credential replaced by ``***``."""
    if _ANY_SUSPECT.search(_folded(text)) is None:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _folded(text: str) -> str:
    """``text`` as case-insensitive patterns see it: case-folded (the long s is ``s``, the Kelvin
    sign ``k``), and the dotless i (U+0131), which they match as ``i``, spelt ``i``."""
    return text.casefold().replace("\u0131", "i")


def fields(values: Mapping[str, Any] | None = None, /, **more: Any) -> dict[str, Any]:
    """``extra=`` for fields the standard library would refuse (``name``) or Python can't spell."""
    return {FIELDS_ATTR: {**(values or {}), **more}}


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The extra fields of ``record``: plain ``extra=`` keys plus those given via :func:`fields`."""
    found = {k: v for k, v in record.__dict__.items() if k not in _RESERVED}
    found.update(getattr(record, FIELDS_ATTR, None) or {})
    return found


@functools.lru_cache(maxsize=256)
def _secret_key(key: str) -> bool:
    """Whether a field's name says it holds a secret (the same few names, line after line)."""
    return _SECRET_KEY.search(key) is not None


@functools.lru_cache(maxsize=1024)
def _redacted_field(text: str) -> str:
    """:func:`redact` of a field's text: the same namespaces, kinds, outcomes line after line."""
    return redact(text)


def _clean(key: str, value: Any) -> Any:
    """A JSON-ready copy of ``value``: secrets masked by key and by look, containers walked."""
    if _secret_key(key) and value not in (None, ""):
        return MASK
    if type(value) is str:  # most fields: names, kinds, actions, outcomes
        return _redacted_field(value)
    if isinstance(value, Enum):
        value = value.value
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(k): _clean(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(key, v) for v in value]
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return redact(text)


class JsonFormatter(logging.Formatter):
    """One JSON object a line, secrets masked."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id

    def format(self, record: logging.LogRecord) -> str:
        time = datetime.fromtimestamp(record.created, tz=UTC)
        doc: dict[str, Any] = {
            "time": time.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
            "run_id": self.run_id,
        }
        for key, value in record_fields(record).items():
            doc.setdefault(key, _clean(key, value))
        if record.exc_info:
            doc["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            doc["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(doc, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The message, then plain ``extra=`` keys as ``key=value``, secrets masked.

    Fields given through :func:`fields` (scaling and summary lines) are for machines: their
    message already says it all, so text leaves them out. So do the scaling keys.
    """

    def format(self, record: logging.LogRecord) -> str:
        extras = {
            k: v for k, v in record.__dict__.items() if k not in _RESERVED and k not in SCALING_KEYS
        }
        suffix = "".join(f" {k}={_clean(k, v)}" for k, v in extras.items())
        saved = record.msg, record.args
        record.msg, record.args = record.getMessage() + suffix, None
        try:
            return redact(super().format(record))
        finally:
            record.msg, record.args = saved


def configure(
    *, fmt: LogFormat, level: LogLevel, run_id: str, stream: TextIO | None = None
) -> logging.Handler:
    """Install the one handler of this process on the root logger; safe to call again.

    ``nsshutdown.*`` logs at ``level``; other libraries only from WARNING (the kubernetes client's
    debug output is request bodies). ``auto`` is text on a terminal, JSON otherwise.
    """
    stream = sys.stderr if stream is None else stream
    use_json = fmt is LogFormat.JSON or (fmt is LogFormat.AUTO and not _isatty(stream))
    handler: logging.Handler
    if use_json:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter(run_id))
    else:
        # rich only for people at a terminal: a CronJob logs JSON and never imports it
        from rich.console import Console  # noqa: PLC0415
        from rich.logging import RichHandler  # noqa: PLC0415

        console = Console(file=stream, soft_wrap=True)
        handler = RichHandler(console=console, show_path=False, markup=False, rich_tracebacks=False)
        handler.setFormatter(TextFormatter())
    setattr(handler, _MARK, True)
    global _FOR_MACHINES  # noqa: PLW0603 - one handler per process, configured once by the CLI
    _FOR_MACHINES = use_json
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("nsshutdown").setLevel(_LEVELS[level])
    logging.captureWarnings(True)
    return handler


_FOR_MACHINES = True


def lines_for_machines() -> bool:
    """Whether log lines are JSON (a pod, a pipe): then every change is logged with its fields."""
    return _FOR_MACHINES


def went_wrong(result: ActionResult) -> bool:
    return result.outcome in _WARN_OUTCOMES


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# --- the lines every run writes -----------------------------------------------------------------

_WARN_OUTCOMES = frozenset({Outcome.FAILED, Outcome.ROLLED_BACK, Outcome.NOT_ATTEMPTED})


def log_action(logger: logging.Logger, result: ActionResult) -> None:
    """The scaling line: ``dev-a: shut down Deployment api: replicas 3 → 0``, with its fields."""
    action = result.action
    text = f"{action.type} {action.ref}"
    if action.type is ActionType.SKIP:
        text += f": {action.reason or 'already converged'}"
    elif action.type is ActionType.ERROR:
        text += f": {action.message}"
    else:
        dry_run = result.outcome is Outcome.DRY_RUN
        text = f"{action.ref.namespace}: {describe(action, dry_run=dry_run)}"
        if result.outcome not in (Outcome.APPLIED, Outcome.DRY_RUN):
            text += f": {str(result.outcome).replace('-', ' ')}"
    if result.error:
        text += f": {result.error}"
    failed = result.outcome in _WARN_OUTCOMES or action.type is ActionType.ERROR
    values: dict[str, Any] = {
        "namespace": action.ref.namespace, "kind": action.ref.kind.value,
        "name": action.ref.name, "action": action.type.value,
        "from": action.from_value, "to": action.to_value, "outcome": result.outcome.value,
    }  # fmt: skip
    if action.field:
        values["field"] = action.field
    if action.reason is not None:
        values["reason"] = action.reason.value
    if result.error or action.message:
        values["error"] = result.error or action.message
    logger.log(logging.WARNING if failed else logging.INFO, text, extra=fields(values))


def log_summary(logger: logging.Logger, report: RunReport) -> None:
    """The run's last line: actions done per type, errors, failures, duration and exit code."""
    done = Counter(
        r.action.type.value
        for ns in report.namespaces
        for r in ns.results
        if r.outcome in (Outcome.APPLIED, Outcome.DRY_RUN) and r.action.writes
    )
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(done.items())) or "nothing to do"
    prefix = f"dry run ({report.dry_run}) finished" if report.dry_run else "run finished"
    failed = [ns.plan.namespace for ns in report.failed_namespaces]
    text = (
        f"{prefix}: {counts}; {report.errors} errors"
        + (f"; failed: {', '.join(failed)}" if failed else "")
        + ("; circuit breaker open" if report.circuit_open else "")
        + f"; {report.duration_seconds:.1f} s; exit {int(report.exit_code)}"
    )
    values = {
        "actions": dict(sorted(done.items())),
        "errors": report.errors,
        "failed_namespaces": failed,
        "namespaces": len(report.namespaces),
        "duration_seconds": round(report.duration_seconds, 3),
        "exit_code": int(report.exit_code),
        "dry_run": bool(report.dry_run),
        "circuit_open": report.circuit_open,
        "api_requests": report.api_requests,
    }
    level = logging.INFO if report.succeeded else logging.WARNING
    logger.log(level, text, extra=fields(values))
