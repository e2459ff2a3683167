"""An in-memory :class:`nsshutdown.run.cluster.Cluster` for unit tests, with injectable failures.

It behaves like the API server where the executor depends on it: patches are conditional on
``resource_version`` (stale -> 409), every write bumps it, a dry-run write changes nothing,
and annotations set to ``None`` are deleted.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import MappingProxyType

from nsshutdown.errors import (
    ApiError,
    CircuitOpenError,
    ClusterUnreachableError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
)
from nsshutdown.kinds import registry
from nsshutdown.model import (
    ClusterState,
    Kind,
    Namespace,
    Patch,
    PinningPod,
    Resources,
    Workload,
    WorkloadEvent,
    WorkloadKind,
    WorkloadRef,
    apply_patch,
)
from nsshutdown.run.permissions import Permission

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def workload(
    name: str,
    *,
    namespace: str = "dev-a",
    kind: Kind = Kind.DEPLOYMENT,
    replicas: int | None = None,
    suspend: bool | None = None,
    annotations: Mapping[str, str] | None = None,
    created: datetime = LONG_AGO,
    scale_target: tuple[str, str] | None = None,
    cpu: float = 0.0,
    memory: float = 0.0,
    default_replicas: int | None = 3,
    finished: bool = False,
) -> Workload:
    """The one test builder of workloads: replica kinds get ``default_replicas`` unless
    ``replicas`` is given, suspendable kinds run unless ``suspend`` is given; ``cpu`` and
    ``memory`` are the requests of one replica."""
    field = registry.mechanism(kind).field
    if field == "spec.replicas" and replicas is None:
        replicas = default_replicas
    if field == "spec.suspend" and suspend is None:
        suspend = False
    return Workload(
        ref=WorkloadRef(kind, namespace, name),
        created=created,
        resource_version="1",
        replicas=replicas,
        suspend=suspend,
        annotations=MappingProxyType(dict(annotations or {})),
        requests=Resources(cpu_cores=cpu, memory_bytes=memory),
        scale_target=scale_target,
        finished=finished,
    )


@dataclass
class Write:
    ref: WorkloadRef
    patch: Patch
    dry_run: bool


class FakeCluster:
    def __init__(
        self,
        workloads: Iterable[Workload] = (),
        *,
        namespaces: Iterable[Namespace] = (),
        kinds: Collection[WorkloadKind] = frozenset(Kind),
        configmaps: Mapping[tuple[str, str], Mapping[str, str]] | None = None,
        pinning_pods: Iterable[PinningPod] = (),
    ) -> None:
        self._versions = itertools.count(1)
        self._lock = threading.RLock()
        self.workloads: dict[WorkloadRef, Workload] = {}
        self.namespaces: dict[str, Namespace] = {ns.name: ns for ns in namespaces}
        self.kinds: frozenset[WorkloadKind] = frozenset(kinds)
        self.configmaps = dict(configmaps or {})
        self.pinning_pods = tuple(pinning_pods)
        self.writes: list[Write] = []
        self.namespace_writes: list[tuple[str, dict[str, str | None], bool]] = []
        self.events: list[WorkloadEvent] = []
        self.requests = 0
        # failure injection
        self.unreachable = False
        self.forbidden_namespaces: set[str] = set()
        self.fail_writes: dict[WorkloadRef, int] = {}  # ref -> how many writes fail (5xx)
        self.fail_on_write: int | None = None  # the k-th write (1-based) fails
        self.circuit_after_writes: int | None = None  # after k writes every call is refused
        self.circuit_on_attempt: int | None = None  # the breaker opens at the n-th write attempt
        self.write_attempts = 0
        self.breaker_opened = False
        self.on_patch: dict[WorkloadRef, Callable[[Workload], Workload]] = {}
        #: Every patched replica count is ready at once, as if healthy controllers ran (the
        #: readiness a later wake-up tier waits for); False: nothing ever becomes ready.
        self.ready_at_once = True
        self.event_error: Exception | None = None  # every emit_event raises this
        for w in workloads:
            self.put(w)

    # --- test helpers ---------------------------------------------------------------------------

    def put(self, w: Workload) -> Workload:
        """Store ``w`` (as if created or changed by someone else): a new resource version."""
        with self._lock:
            uid = w.uid or str(uuid.uuid5(uuid.NAMESPACE_URL, str(w.ref)))
            stored = replace(w, resource_version=str(next(self._versions)), uid=uid)
            self.workloads[w.ref] = stored
            self.namespaces.setdefault(w.namespace, Namespace(w.namespace))
            return stored

    def get(self, name: str, namespace: str = "dev-a", kind: Kind = Kind.DEPLOYMENT) -> Workload:
        return self.workloads[WorkloadRef(kind, namespace, name)]

    def conflict_once(self, ref: WorkloadRef, change: Callable[[Workload], Workload]) -> None:
        """Just before the next patch of ``ref``, someone else applies ``change`` (-> 409)."""
        self.on_patch[ref] = change

    def snapshot(self) -> dict[WorkloadRef, tuple[int | None, bool | None, dict[str, str]]]:
        return {
            ref: (w.replicas, w.suspend, dict(w.annotations)) for ref, w in self.workloads.items()
        }

    # --- the Cluster protocol -------------------------------------------------------------------

    @property
    def api_requests(self) -> int:
        return self.requests

    @property
    def circuit_open(self) -> bool:
        return self.breaker_opened

    def observe(self, kinds: Collection[WorkloadKind], *, pods: bool = False) -> ClusterState:
        self._request()
        if self.unreachable:
            raise ClusterUnreachableError("cannot reach the API server: fake")
        served = frozenset(kinds) & self.kinds
        return ClusterState(
            namespaces=tuple(self.namespaces.values()),
            workloads=tuple(w for w in self.workloads.values() if w.kind in served),
            kinds=served,
            pinning_pods=self.pinning_pods if pods else (),
        )

    def get_workload(self, ref: WorkloadRef) -> Workload:
        self._request()
        with self._lock:
            if ref not in self.workloads:
                raise NotFoundError(f"get {ref}: 404", status=404)
            return self.workloads[ref]

    def patch_workload(self, workload: Workload, patch: Patch, *, dry_run: bool) -> Workload:
        self._request()
        with self._lock:
            self._inject(workload)
            ref = workload.ref
            current = self.workloads.get(ref)
            if current is None:
                raise NotFoundError(f"patch {ref}: 404", status=404)
            if workload.resource_version and workload.resource_version != current.resource_version:
                raise ConflictError(f"patch {ref}: 409 object has been modified", status=409)
            self.writes.append(Write(ref, patch, dry_run))
            after = apply_patch(current, patch)
            ready = after.replicas if self.ready_at_once else 0  # a controller: at once, or never
            after = dataclasses.replace(
                after,
                ready=None if after.replicas is None else ready,
                written_at=datetime.now(UTC),  # managedFields: when the tool last wrote to it
            )
            return after if dry_run else self.put(after)

    def annotate_namespace(
        self, name: str, annotations: Mapping[str, str | None], *, dry_run: bool
    ) -> None:
        self._request()
        with self._lock:
            if name in self.forbidden_namespaces:
                raise ForbiddenError(f"annotate namespace {name}: 403", status=403)
            self.namespace_writes.append((name, dict(annotations), dry_run))
            if dry_run:
                return
            ns = self.namespaces[name]
            merged = {k: v for k, v in ns.annotations.items() if k not in annotations}
            merged |= {k: v for k, v in annotations.items() if v is not None}
            self.namespaces[name] = replace(ns, annotations=MappingProxyType(merged))

    def read_configmap(self, namespace: str, name: str, key: str) -> str:
        self._request()
        data = self.configmaps.get((namespace, name))
        if data is None or key not in data:
            raise NotFoundError(f"configmap {namespace}/{name}:{key} not found", status=404)
        return data[key]

    def emit_event(self, event: WorkloadEvent) -> None:
        self._request()
        if self.event_error is not None:
            raise self.event_error
        with self._lock:
            self.events.append(event)

    # --- internals ------------------------------------------------------------------------------

    def _request(self) -> None:
        with self._lock:
            self.requests += 1

    def _inject(self, workload: Workload) -> None:
        ref = workload.ref
        attempted = len(self.writes) + 1
        self.write_attempts += 1
        opens = (
            self.circuit_on_attempt is not None and self.write_attempts >= self.circuit_on_attempt
        )
        if opens or (
            self.circuit_after_writes is not None and attempted > self.circuit_after_writes
        ):
            self.breaker_opened = True
            raise CircuitOpenError("circuit open after 10 consecutive failed API requests")
        if workload.namespace in self.forbidden_namespaces:
            raise ForbiddenError(f"patch {ref}: 403 forbidden", status=403)
        if self.fail_on_write is not None and attempted == self.fail_on_write:
            self.fail_on_write = None
            raise ApiError(f"patch {ref}: 500 internal error", status=500)
        if self.fail_writes.get(ref, 0) > 0:
            self.fail_writes[ref] -= 1
            raise ApiError(f"patch {ref}: 503 unavailable", status=503)
        change = self.on_patch.pop(ref, None)
        if change is not None:
            self.put(change(self.workloads[ref]))


class FakePreflight:
    """What ``nsshutdown check`` asks, answered from memory (``denied``: ``str(permission)``)."""

    def __init__(
        self,
        *,
        denied: Collection[str] = (),
        kinds: Collection[WorkloadKind] = frozenset(Kind),
        identity: str | None = "system:serviceaccount:nsshutdown:nsshutdown",
        configmaps: Mapping[tuple[str, str], Mapping[str, str]] | None = None,
    ) -> None:
        self.denied = set(denied)
        self.kinds: frozenset[WorkloadKind] = frozenset(kinds)
        self.who = identity
        self.configmaps = dict(configmaps or {})
        self.asked: list[Permission] = []
        self.unreachable = False
        self.forbidden_configmaps: set[tuple[str, str]] = set()

    def server_version(self) -> str:
        if self.unreachable:
            raise ClusterUnreachableError("cannot reach the API server: fake")
        return "v1.31.0"

    def identity(self) -> str | None:
        return self.who

    def allowed(self, permission: Permission) -> tuple[bool, str]:
        self.asked.append(permission)
        return str(permission) not in self.denied, ""

    def served_kinds(self, kinds: Collection[WorkloadKind]) -> frozenset[WorkloadKind]:
        return frozenset(kinds) & self.kinds

    def read_configmap(self, namespace: str, name: str, key: str) -> str:
        if (namespace, name) in self.forbidden_configmaps:
            raise ForbiddenError(f"configmap {namespace}/{name}: 403", status=403)
        data = self.configmaps.get((namespace, name))
        if data is None or key not in data:
            raise NotFoundError(f"configmap {namespace}/{name}:{key} not found", status=404)
        return data[key]
