"""Reading the cluster: namespaces, every workload kind, and (for ``status``) pinning pods.

Cluster-wide by default: one paginated list per kind per run, never one per namespace, all kinds
at once on a bounded thread pool. A kind the cluster does not serve (a CRD that is not installed)
answers 404 and is left out of ``ClusterState.kinds``.

With a *scope* (``--scope-namespaces``, for RBAC granted per namespace) nothing is listed
cluster-wide, which such a ServiceAccount may not do: each listed Namespace is read with ``get``
and each kind is listed in each of those namespaces.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from nsshutdown.errors import ForbiddenError, NotFoundError
from nsshutdown.kinds.registry import mechanism
from nsshutdown.kube import wire
from nsshutdown.kube.transport import Transport, page_query
from nsshutdown.model import ClusterState, Namespace, PinningPod, Unreadable, Workload, WorkloadKind

logger = logging.getLogger(__name__)

_LIVE_PODS = "status.phase!=Succeeded,status.phase!=Failed"


@dataclass(frozen=True)
class _Forbidden:
    reason: str


class Observer:
    def __init__(self, transport: Transport, *, concurrency: int, scope: Collection[str]) -> None:
        self._transport = transport
        self._concurrency = max(1, concurrency)
        self._scope = tuple(scope)

    def observe(self, kinds: Collection[WorkloadKind], *, pods: bool) -> ClusterState:
        wanted = sorted(set(kinds), key=lambda k: k.value)
        places: tuple[str | None, ...] = self._scope or (None,)
        with ThreadPoolExecutor(max_workers=self._concurrency) as pool:
            namespaces = pool.submit(self._namespaces)
            pinning = pool.submit(lambda: list(self._pinning_pods(places))) if pods else None
            lists = {
                (kind, where): pool.submit(self._list_kind, kind, where)
                for kind in wanted
                for where in places
            }
            found = {key: future.result() for key, future in lists.items()}
            return ClusterState(
                namespaces=tuple(namespaces.result()),
                workloads=tuple(w for ws in found.values() if isinstance(ws, list) for w in ws),
                kinds=frozenset(k for k in wanted if found[(k, places[0])] is not None),
                pinning_pods=tuple(pinning.result()) if pinning else (),
                unreadable=tuple(
                    Unreadable(kind, where, ws.reason)
                    for (kind, where), ws in found.items()
                    if isinstance(ws, _Forbidden)
                ),
            )

    def _list_kind(
        self, kind: WorkloadKind, namespace: str | None
    ) -> list[Workload] | _Forbidden | None:
        """Every ``kind`` (in ``namespace``, or cluster-wide); ``None`` when it is not served.

        A 403 is not the end of the run: only the namespaces that need the kind fail (the planner
        decides which), so a role that lacks a kind no schedule uses still converges the rest.
        """
        api = mechanism(kind).api
        path = api.path(namespace)

        def fetch(token: str | None) -> Any:
            return self._transport.send("GET", path, query=page_query(token))

        where = f" in {namespace}" if namespace else ""
        try:
            items = self._transport.pages(f"list {api.plural}.{api.group}{where}", fetch)
            return [wire.parse_workload(kind, item) for item in items]
        except NotFoundError:
            logger.info("%s is not served by this cluster (no CRD?): skipped", kind)
            return None
        except ForbiddenError as err:
            logger.warning("may not list %s%s: %s", api.qualified, where, err)
            return _Forbidden(f"may not list {api.qualified}{where} (check the ClusterRole)")

    def _namespaces(self) -> list[Namespace]:
        if not self._scope:
            items = self._transport.pages(
                "list namespaces",
                lambda token: self._transport.send(
                    "GET", "/api/v1/namespaces", query=page_query(token)
                ),
            )
            return [wire.parse_namespace(item) for item in items]
        return [ns for name in self._scope if (ns := self._get_namespace(name)) is not None]

    def _get_namespace(self, name: str) -> Namespace | None:
        path = f"/api/v1/namespaces/{quote(name, safe='')}"
        try:
            item = self._transport.request(
                f"get namespace {name}", lambda: self._transport.send("GET", path)
            )
        except NotFoundError:
            logger.warning("namespace %s (--scope-namespaces) does not exist: skipped", name)
            return None
        except ForbiddenError as err:
            logger.warning("may not read namespace %s: %s", name, err)
            return Namespace(name, unreadable=f"may not get namespace {name} (check the Role)")
        return wire.parse_namespace(item)

    def _pinning_pods(self, places: tuple[str | None, ...]) -> Iterator[PinningPod]:
        for where in places:
            path = "/api/v1/pods" if where is None else f"/api/v1/namespaces/{quote(where)}/pods"

            def fetch(token: str | None, path: str = path) -> Any:
                query = page_query(token, fieldSelector=_LIVE_PODS)
                return self._transport.send("GET", path, query=query)

            for item in self._transport.pages(f"list pods{f' in {where}' if where else ''}", fetch):
                if (pod := wire.pinning_pod(item)) is not None:
                    yield pod
