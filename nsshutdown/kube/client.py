"""``KubeCluster``: the :class:`~nsshutdown.run.cluster.Cluster` backed by the Kubernetes API.

Cheap by construction (see ``observe``): one paginated cluster-wide list per kind per run, decoded
straight into small frozen objects. Writes are JSON merge patches of exactly the fields in a
:class:`~nsshutdown.model.Patch`, guarded by ``resourceVersion`` (a stale decision gets 409), with
field manager ``nsshutdown``; ``dryRun=All`` for ``--dry-run=server``; their answer is the
object's metadata alone. Every request goes through
:class:`~nsshutdown.kube.resilience.Resilience` (rate limit, retries, circuit breaker, counting).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from nsshutdown import constants as c
from nsshutdown.errors import ApiError, ClusterUnreachableError, NotFoundError
from nsshutdown.kinds.registry import mechanism
from nsshutdown.kube import wire
from nsshutdown.kube.connection import Endpoint
from nsshutdown.kube.credentials import open_endpoint
from nsshutdown.kube.events import EventSender
from nsshutdown.kube.limits import Limits
from nsshutdown.kube.observe import Observer
from nsshutdown.kube.transport import MERGE_PATCH, METADATA_ONLY, Transport
from nsshutdown.model import (
    ClusterState,
    Patch,
    Workload,
    WorkloadEvent,
    WorkloadKind,
    WorkloadRef,
)

logger = logging.getLogger(__name__)


class KubeCluster:
    """Talks to one API server. Safe to use from several threads.

    ``scope``: namespaces to confine every read to (RBAC granted per namespace); empty means the
    whole cluster.
    """

    def __init__(
        self, endpoint: Endpoint, limits: Limits | None = None, *, scope: Collection[str] = ()
    ) -> None:
        self.limits = limits or Limits()
        self._transport = Transport(endpoint, self.limits)
        self._observer = Observer(self._transport, concurrency=self.limits.concurrency, scope=scope)
        self._events = EventSender(self._transport)

    @classmethod
    def connect(
        cls,
        *,
        kubeconfig: Path | None = None,
        context: str | None = None,
        limits: Limits | None = None,
        scope: Collection[str] = (),
    ) -> KubeCluster:
        limits = limits or Limits()
        endpoint = open_endpoint(
            kubeconfig=kubeconfig, context=context, pool_size=limits.concurrency + 2
        )
        return cls(endpoint, limits, scope=scope)

    def close(self) -> None:
        self._transport.endpoint.close()

    @property
    def endpoint(self) -> Endpoint:
        """The connection: our own, or the Kubernetes client's for the credentials only it loads."""
        return self._transport.endpoint

    @property
    def api_requests(self) -> int:
        return self._transport.resilience.requests

    @property
    def circuit_open(self) -> bool:
        return self._transport.resilience.breaker.is_open

    @property
    def transport(self) -> Transport:
        """The rate-limited, counted, retrying request path (``kube.preflight`` shares it)."""
        return self._transport

    def observe(self, kinds: Collection[WorkloadKind], *, pods: bool = False) -> ClusterState:
        try:
            return self._observer.observe(kinds, pods=pods)
        except ApiError as err:
            raise _unreachable(err) from err

    def get_workload(self, ref: WorkloadRef) -> Workload:
        path = mechanism(ref.kind).api.path(ref.namespace, ref.name)
        item = self._transport.request(f"get {ref}", lambda: self._transport.send("GET", path))
        return wire.parse_workload(ref.kind, item)

    def patch_workload(self, workload: Workload, patch: Patch, *, dry_run: bool) -> Workload:
        path = mechanism(workload.kind).api.path(workload.namespace, workload.name)
        body = wire.merge_patch(patch, resource_version=workload.resource_version)
        query = {"fieldManager": c.FIELD_MANAGER, "dryRun": "All" if dry_run else None}
        item = self._transport.request(
            f"patch {workload.ref}",
            lambda: self._transport.send(
                "PATCH", path, query=query, body=body, content_type=MERGE_PATCH,
                accept=METADATA_ONLY,
            ),
        )  # fmt: skip
        return wire.written(workload, patch, item)

    def annotate_namespace(
        self, name: str, annotations: Mapping[str, str | None], *, dry_run: bool
    ) -> None:
        body = {"metadata": {"annotations": dict(annotations)}}
        query = {"fieldManager": c.FIELD_MANAGER, "dryRun": "All" if dry_run else None}
        path = f"/api/v1/namespaces/{quote(name, safe='')}"
        self._transport.request(
            f"annotate namespace {name}",
            lambda: self._transport.send(
                "PATCH", path, query=query, body=body, content_type=MERGE_PATCH
            ),
        )

    def emit_event(self, event: WorkloadEvent) -> None:
        self._events.emit(event)

    def read_configmap(self, namespace: str, name: str, key: str) -> str:
        what = f"read configmap {namespace}/{name}"
        path = f"/api/v1/namespaces/{quote(namespace, safe='')}/configmaps/{quote(name, safe='')}"
        try:
            item: Any = self._transport.request(what, lambda: self._transport.send("GET", path))
        except NotFoundError:
            raise
        except ApiError as err:
            raise _unreachable(err) from err
        data = item.get("data") or {}
        if key not in data:
            raise NotFoundError(f"{what}: no key {key!r} (keys: {', '.join(sorted(data))})")
        return str(data[key])


def _unreachable(err: ApiError) -> ClusterUnreachableError:
    """A failure of the run's first reads: nothing was written, so the run stops (exit 3)."""
    hint = {
        0: "cannot reach the API server",
        401: "the API server refused our credentials",
        403: "not allowed (check the ClusterRole)",
    }.get(err.status, "the API server failed")
    return ClusterUnreachableError(f"{hint}: {err}")
