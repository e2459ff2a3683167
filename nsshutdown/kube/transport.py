"""Sending one API request: raw response, JSON decoded, errors translated, resilience applied.

Responses are read raw (``_preload_content=False``) and decoded with ``json.loads``: the client's
models are never built. Workload kinds go through ``CustomObjectsApi`` (group/version/plural, one
code path for built-in kinds and CRDs alike); the few core calls go through ``ApiClient`` directly,
because importing the generated ``CoreV1Api`` alone costs most of a second (it loads every core
model), with the same serialization, authentication and TLS.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import urllib3
from kubernetes.client.api.custom_objects_api import CustomObjectsApi
from kubernetes.client.api_client import ApiClient
from kubernetes.client.exceptions import ApiException

from nsshutdown.errors import ApiError, ConflictError, ForbiddenError, NotFoundError
from nsshutdown.kube.resilience import Limits, Resilience

PAGE_SIZE = 500
MERGE_PATCH = "application/merge-patch+json"
_ERRORS: dict[int, type[ApiError]] = {403: ForbiddenError, 404: NotFoundError, 409: ConflictError}


def translate(exc: Exception, what: str) -> ApiError:
    """A client or transport exception as one of our ``ApiError`` types."""
    if isinstance(exc, ApiException):
        status = int(exc.status or 0)
        message = _status_message(exc.body) or str(exc.reason or "").strip()
        return _ERRORS.get(status, ApiError)(
            f"{what}: {status} {message}".rstrip(),
            status=status,
            retry_after=_retry_after((exc.headers or {}).get("Retry-After")),
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
    def __init__(self, api: ApiClient, limits: Limits) -> None:
        self.api = api
        self.custom = CustomObjectsApi(api)
        self.resilience = Resilience(limits)
        self.timeout = (min(10.0, limits.timeout_seconds), limits.timeout_seconds)

    @property
    def raw(self) -> dict[str, Any]:
        """Keyword arguments that make a generated API method return the raw response."""
        return {"_preload_content": False, "_request_timeout": self.timeout}

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
            except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
                raise translate(exc, what) from exc

        return self.resilience.call(once, what=what, best_effort=best_effort)

    def core(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str | None = None,
    ) -> Any:
        """Send a core (``/api/v1``) request; return the raw response (raise on non-2xx)."""
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        request = self.api.param_serialize(
            method=method,
            resource_path=path,
            query_params=[(k, v) for k, v in (query or {}).items() if v is not None],
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self.api.call_api(*request, _request_timeout=self.timeout)
        if not 200 <= response.status <= 299:
            response.read()  # type: ignore[no-untyped-call]
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return response.response

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
