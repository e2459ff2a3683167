"""``KubeCluster``: the :class:`~nsshutdown.cluster.Cluster` backed by the official client.

Cheap by construction: one paginated cluster-wide list per kind per run (never one per
namespace), run concurrently; responses are read raw (``_preload_content=False``) and decoded
with ``json.loads`` into small frozen objects (see ``wire``). Writes are JSON merge patches
guarded by ``resourceVersion``, with field manager ``nsshutdown``. Every request goes through
:class:`~nsshutdown.kube.resilience.Resilience`.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import urllib3
from kubernetes.client.api.custom_objects_api import CustomObjectsApi
from kubernetes.client.api_client import ApiClient
from kubernetes.client.exceptions import ApiException

from nsshutdown import constants as c
from nsshutdown.errors import (
    ApiError,
    ClusterUnreachableError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
)
from nsshutdown.kube import wire
from nsshutdown.kube.auth import build_api_client
from nsshutdown.kube.kinds import KIND_APIS
from nsshutdown.kube.resilience import Limits, Resilience
from nsshutdown.model import (
    ClusterState,
    Kind,
    Namespace,
    Patch,
    PinningPod,
    Workload,
    WorkloadRef,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 500
MERGE_PATCH = "application/merge-patch+json"
_ERRORS: dict[int, type[ApiError]] = {403: ForbiddenError, 404: NotFoundError, 409: ConflictError}
_LIVE_PODS = "status.phase!=Succeeded,status.phase!=Failed"


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


class KubeCluster:
    """Talks to one API server. Safe to use from several threads."""

    def __init__(self, api: ApiClient, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._api = api
        self._custom = CustomObjectsApi(api)
        self._resilience = Resilience(self.limits)
        timeout = self.limits.timeout_seconds
        self._timeout = (min(10.0, timeout), timeout)

    @classmethod
    def connect(
        cls,
        *,
        kubeconfig: Path | None = None,
        context: str | None = None,
        limits: Limits | None = None,
    ) -> KubeCluster:
        limits = limits or Limits()
        api = build_api_client(
            kubeconfig=kubeconfig, context=context, pool_size=limits.concurrency + 2
        )
        return cls(api, limits)

    def close(self) -> None:
        self._api.close()  # type: ignore[no-untyped-call]

    @property
    def api_requests(self) -> int:
        return self._resilience.requests

    @property
    def circuit_open(self) -> bool:
        return self._resilience.breaker.is_open

    # --- the calls --------------------------------------------------------------------------

    def _request(self, what: str, send: Callable[[], Any]) -> Any:
        """One API call (with retries): ``send`` returns the raw response; its JSON is decoded."""

        def once() -> Any:
            try:
                response = send()
                try:
                    return json.loads(response.data)
                finally:
                    response.release_conn()
            except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
                raise translate(exc, what) from exc

        return self._resilience.call(once, what=what)

    def _core(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str | None = None,
    ) -> Any:
        """A core (``/api/v1``) request without the generated ``CoreV1Api``, whose import alone
        costs most of a second (it loads every core model); same serialization and auth."""
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        request = self._api.param_serialize(
            method=method,
            resource_path=path,
            query_params=[(k, v) for k, v in (query or {}).items() if v is not None],
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self._api.call_api(*request, _request_timeout=self._timeout)
        if not 200 <= response.status <= 299:
            response.read()  # type: ignore[no-untyped-call]
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return response.response

    def _pages(self, what: str, fetch: Callable[[str | None], Any]) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list; ``fetch(token)`` sends one page request."""
        token: str | None = None
        while True:
            page = self._request(what, functools.partial(fetch, token))
            yield from page.get("items") or ()
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return

    def _list_kind(self, kind: Kind) -> list[Workload] | None:
        """Every ``kind`` in the cluster, or ``None`` when the cluster does not serve it."""
        api = KIND_APIS[kind]
        what = f"list {api.plural}.{api.group}"

        def fetch(token: str | None) -> Any:
            return self._custom.list_cluster_custom_object(
                api.group,
                api.version,
                api.plural,
                limit=PAGE_SIZE,
                _continue=token,
                _preload_content=False,
                _request_timeout=self._timeout,
            )

        try:
            items = self._pages(what, fetch)
            return [wire.parse_workload(kind, item) for item in items]
        except NotFoundError:
            logger.info("%s is not served by this cluster (no CRD?): skipped", kind)
            return None

    def observe(self, kinds: Collection[Kind], *, pods: bool = False) -> ClusterState:
        wanted = sorted(set(kinds), key=lambda k: k.value)
        try:
            with ThreadPoolExecutor(max_workers=self.limits.concurrency) as pool:
                namespaces = pool.submit(self._list_namespaces)
                pinning = pool.submit(self._list_pinning_pods) if pods else None
                lists = {kind: pool.submit(self._list_kind, kind) for kind in wanted}
                by_kind = {kind: future.result() for kind, future in lists.items()}
                return ClusterState(
                    namespaces=tuple(namespaces.result()),
                    workloads=tuple(w for ws in by_kind.values() if ws for w in ws),
                    kinds=frozenset(k for k, ws in by_kind.items() if ws is not None),
                    pinning_pods=tuple(pinning.result()) if pinning else (),
                )
        except ApiError as err:
            raise _unreachable(err) from err

    def _list_namespaces(self) -> list[Namespace]:
        def fetch(token: str | None) -> Any:
            return self._core("GET", "/api/v1/namespaces", query=_page(token))

        return [wire.parse_namespace(item) for item in self._pages("list namespaces", fetch)]

    def _list_pinning_pods(self) -> list[PinningPod]:
        def fetch(token: str | None) -> Any:
            query = {**_page(token), "fieldSelector": _LIVE_PODS}
            return self._core("GET", "/api/v1/pods", query=query)

        items = self._pages("list pods", fetch)
        return [pod for item in items if (pod := wire.pinning_pod(item)) is not None]

    def get_workload(self, ref: WorkloadRef) -> Workload:
        api = KIND_APIS[ref.kind]
        item = self._request(
            f"get {ref}",
            lambda: self._custom.get_namespaced_custom_object(
                api.group,
                api.version,
                ref.namespace,
                api.plural,
                ref.name,
                _preload_content=False,
                _request_timeout=self._timeout,
            ),
        )
        return wire.parse_workload(ref.kind, item)

    def patch_workload(self, workload: Workload, patch: Patch, *, dry_run: bool) -> Workload:
        api = KIND_APIS[workload.kind]
        body = wire.merge_patch(patch, resource_version=workload.resource_version)
        item = self._request(
            f"patch {workload.ref}",
            lambda: self._custom.patch_namespaced_custom_object(
                api.group, api.version, workload.namespace, api.plural, workload.name, body,
                field_manager=c.FIELD_MANAGER, dry_run="All" if dry_run else None,
                _content_type=MERGE_PATCH, _preload_content=False, _request_timeout=self._timeout,
            ),
        )  # fmt: skip
        return wire.parse_workload(workload.kind, item)

    def annotate_namespace(
        self, name: str, annotations: Mapping[str, str | None], *, dry_run: bool
    ) -> None:
        body = {"metadata": {"annotations": dict(annotations)}}
        query = {"fieldManager": c.FIELD_MANAGER, "dryRun": "All" if dry_run else None}
        path = f"/api/v1/namespaces/{quote(name, safe='')}"
        self._request(
            f"annotate namespace {name}",
            lambda: self._core("PATCH", path, query=query, body=body, content_type=MERGE_PATCH),
        )

    def read_configmap(self, namespace: str, name: str, key: str) -> str:
        what = f"read configmap {namespace}/{name}"
        path = f"/api/v1/namespaces/{quote(namespace, safe='')}/configmaps/{quote(name, safe='')}"
        try:
            item = self._request(what, lambda: self._core("GET", path))
        except NotFoundError:
            raise
        except ApiError as err:
            raise _unreachable(err) from err
        data = item.get("data") or {}
        if key not in data:
            raise NotFoundError(f"{what}: no key {key!r} (keys: {', '.join(sorted(data))})")
        return str(data[key])


def _page(token: str | None) -> dict[str, Any]:
    return {"limit": PAGE_SIZE, "continue": token}


def _unreachable(err: ApiError) -> ClusterUnreachableError:
    """A failure of the run's first reads: nothing was written, so the run stops (exit 3)."""
    hint = {
        0: "cannot reach the API server",
        401: "the API server refused our credentials",
        403: "not allowed (check the ClusterRole)",
    }.get(err.status, "the API server failed")
    return ClusterUnreachableError(f"{hint}: {err}")
