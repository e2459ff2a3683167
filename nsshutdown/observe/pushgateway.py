"""Sending a registry to a Prometheus Pushgateway (options: :mod:`nsshutdown.cli.metrics_options`).

A push is best effort: it never raises. A failure is one warning line (never the password) and a
``False`` the CLI may turn into exit 2 with ``--strict-metrics``. One attempt per run, bounded by
``--pushgateway-timeout`` per socket operation; the next run pushes again anyway.

Redirects are refused on purpose: following one would send the Authorization header (and the
payload) to wherever the redirect points.
"""

from __future__ import annotations

import base64
import logging
import os
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

logger = logging.getLogger(__name__)

JOB: Final = "nsshutdown"
PASSWORD_ENV: Final = "NSSHUTDOWN_PUSHGATEWAY_PASSWORD"  # noqa: S105 - a variable name
DEFAULT_TIMEOUT: Final = 10.0
_Handler = Callable[..., Callable[[], None]]


def read_password(password_file: Path | None, environ: Mapping[str, str]) -> str | None:
    """The password from ``password_file`` (trailing newline dropped), else ``$PASSWORD_ENV``.

    Raises OSError when the file cannot be read.
    """
    if password_file is not None:
        return password_file.read_text(encoding="utf-8").rstrip("\r\n")
    return environ.get(PASSWORD_ENV)


def push(
    registry: CollectorRegistry,
    *,
    url: str,
    grouping: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    username: str | None = None,
    password: str | None = None,
    ca_file: Path | None = None,
    insecure: bool = False,
    replace: bool = False,
) -> bool:
    """Push ``registry`` to the group ``job="nsshutdown"`` + ``grouping``, gzip-compressed.

    ``replace=False`` is ``pushadd`` (POST: replaces only the metric names sent);
    ``replace=True`` is ``push`` (PUT: replaces the whole group). Returns False on any failure,
    after one warning line. Never raises.
    """
    from prometheus_client import push_to_gateway, pushadd_to_gateway  # noqa: PLC0415 - see metrics

    method = "PUT" if replace else "POST"
    send = push_to_gateway if replace else pushadd_to_gateway
    where = {"pushgateway": url, "method": method, "grouping": dict(grouping or {})}
    try:
        handler = _handler(username=username, password=password, ca_file=ca_file, insecure=insecure)
        send(
            url, job=JOB, registry=registry, grouping_key=dict(grouping or {}),
            timeout=timeout, handler=handler, compression="gzip",
        )  # fmt: skip
    except Exception as err:  # metrics must never fail the run
        logger.warning("metrics push to %s failed: %s", url, _describe(err), extra=where)
        return False
    logger.info("pushed metrics to %s (%s)", url, method, extra=where)
    return True


def ready(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    username: str | None = None,
    password: str | None = None,
    ca_file: Path | None = None,
    insecure: bool = False,
) -> str:
    """``""`` when ``GET <url>/-/ready`` answers 2xx, else why not. The same authentication, TLS
    and redirect rules as :func:`push` (``nsshutdown check``). Never raises."""
    try:
        handler = _handler(username=username, password=password, ca_file=ca_file, insecure=insecure)
        handler(f"{url}/-/ready", "GET", timeout, [], b"")()
    except Exception as err:  # reported by the caller as a failed check
        return _describe(err)
    return ""


def _describe(err: Exception) -> str:
    if isinstance(err, urllib.error.HTTPError):
        try:  # the gateway says why (e.g. inconsistent metrics); reading may fail too
            body = err.read(300).decode("utf-8", "replace").strip() if err.fp else ""
        except OSError:
            body = ""
        return f"HTTP {err.code} {err.reason}" + (f": {body}" if body else "")
    if isinstance(err, urllib.error.URLError):
        return f"{err.reason}"
    if isinstance(err, TimeoutError):
        return "timed out"
    return f"{type(err).__name__}: {err}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx surfaces as an HTTPError


def _handler(
    *, username: str | None, password: str | None, ca_file: Path | None, insecure: bool
) -> _Handler:
    """A prometheus_client push handler with basic auth, our TLS settings and no redirects."""
    context = ssl.create_default_context(cafile=os.fspath(ca_file) if ca_file else None)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    auth = None
    if username is not None:
        token = base64.b64encode(f"{username}:{password or ''}".encode()).decode("ascii")
        auth = f"Basic {token}"

    def handler(
        url: str, method: str, timeout: float | None, headers: list[tuple[str, str]], data: bytes
    ) -> Callable[[], None]:
        def send() -> None:
            request = urllib.request.Request(url, data=data or None, method=method)  # noqa: S310
            for key, value in headers:
                request.add_header(key, value)
            if auth is not None:
                request.add_header("Authorization", auth)
            opener = urllib.request.build_opener(
                _NoRedirects(), urllib.request.HTTPSHandler(context=context)
            )
            with opener.open(request, timeout=timeout) as response:
                response.read()

        return send

    return handler
