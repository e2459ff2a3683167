"""Sending one API request: raw response, JSON decoded, errors translated, resilience applied.

Requests are sent straight through the connection pool of an
:class:`~nsshutdown.kube.connection.Endpoint` (:meth:`Transport.send`), our own or, for the
credentials only it can load, the Kubernetes client's. The generated API methods cost a few tenths
of a millisecond of client CPU per request (argument validation, a recursive walk of the body),
10,000 writes cost seconds. Here a request is a path, a query, the body's JSON bytes and the
headers (the credentials asked for again each time, so a refreshed token is used); the response
is read raw and decoded with ``json.loads``. Every kind is addressed by group/version/plural
(:class:`~nsshutdown.kinds.api.KindApi`), one code path for built-in kinds and CRDs alike.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

import urllib3

from nsshutdown.errors import ApiError, ConflictError, ForbiddenError, NotFoundError
from nsshutdown.kube.connection import Endpoint
from nsshutdown.kube.limits import Limits
from nsshutdown.kube.resilience import Resilience

PAGE_SIZE = 500
MERGE_PATCH = "application/merge-patch+json"
JSON = "application/json"
#: Asks for the object's metadata alone (``PartialObjectMetadata``, every API server since 1.15,
#: CRDs included), else the whole object: the server encodes a quarter of the bytes and the
#: client decodes a quarter, for a write whose answer is only needed for its metadata.
METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1, application/json"
_ERRORS: dict[int, type[ApiError]] = {403: ForbiddenError, 404: NotFoundError, 409: ConflictError}


class HttpStatusError(Exception):
    """An answer outside 2xx, read whole: status, reason, body (a ``Status`` object, as a
    rule) and headers."""

    def __init__(
        self, status: int, reason: str | None, body: bytes, headers: Mapping[str, str]
    ) -> None:
        super().__init__(f"{status} {reason or ''}".rstrip())
        self.status, self.reason, self.body, self.headers = status, reason, body, headers


def translate(exc: Exception, what: str) -> ApiError:
    """An HTTP status or a transport exception as one of our ``ApiError`` types."""
    if isinstance(exc, HttpStatusError):
        status = int(exc.status or 0)
        message = _status_message(exc.body) or str(exc.reason or "").strip()
        return _ERRORS.get(status, ApiError)(
            f"{what}: {status} {message}".rstrip(),
            status=status,
            retry_after=_retry_after(exc.headers.get("Retry-After")),
        )
    return ApiError(f"{what}: {type(exc).__name__}: {exc}", status=0)


def _status_message(body: Any) -> str:
    try:
        return str(json.loads(body).get("message", ""))
    except (TypeError, ValueError, AttributeError):
        return ""


def _retry_after(raw: str | None) -> float | None:
    try:
        return None if raw is None else max(0.0, float(raw))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


class Transport:
    def __init__(self, endpoint: Endpoint, limits: Limits) -> None:
        self.endpoint = endpoint
        self.resilience = Resilience(limits)
        self.timeout = urllib3.Timeout(
            connect=min(10.0, limits.timeout_seconds), read=limits.timeout_seconds
        )

    def request(self, what: str, send: Callable[[], Any], *, best_effort: bool = False) -> Any:
        """One API call (with retries): ``send`` returns the raw response; its JSON is decoded.

        ``best_effort``: neutral to the circuit breaker, fewer attempts (``Resilience.call``).
        """

        def once() -> Any:
            try:
                response = send()
                try:
                    return json.loads(response.data)
                finally:
                    response.release_conn()
            except (HttpStatusError, urllib3.exceptions.HTTPError, OSError) as exc:
                raise translate(exc, what) from exc

        return self.resilience.call(once, what=what, best_effort=best_effort)

    def send(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str = JSON,
        accept: str = JSON,
    ) -> urllib3.BaseHTTPResponse:
        """Send one request; return the unread response (raise ``HttpStatusError`` on non-2xx).

        ``query`` values that are ``None`` are left out; ``body`` is encoded as compact JSON.
        """
        headers = {**self.endpoint.headers(), "Accept": accept}
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = content_type
        target = path
        if query and (pairs := [(k, v) for k, v in query.items() if v is not None]):
            target += "?" + urlencode(pairs)
        response = self.endpoint.request(
            method, target, body=data, headers=headers, timeout=self.timeout
        )
        if not 200 <= response.status <= 299:
            try:
                body_read = response.data
            finally:
                response.release_conn()
            raise HttpStatusError(response.status, response.reason, body_read, response.headers)
        return response

    def pages(self, what: str, fetch: Callable[[str | None], Any]) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list; ``fetch(token)`` sends one page request."""
        token: str | None = None
        while True:
            page = self.request(what, functools.partial(fetch, token))
            token = (page.get("metadata") or {}).get("continue")
            items = page.get("items") or []
            del page  # one decoded page alive at a time: drop it before fetching the next
            yield from items
            del items
            if not token:
                return


def page_query(token: str | None, **more: Any) -> dict[str, Any]:
    return {"limit": PAGE_SIZE, "continue": token, **more}
