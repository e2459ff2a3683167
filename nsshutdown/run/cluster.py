"""The one narrow interface between the core and a Kubernetes API server.

The executor and the commands only ever see a :class:`Cluster`. The real implementation is
``nsshutdown.kube.KubeCluster``; unit tests use an in-memory fake with the same calls.

Errors are ``nsshutdown.errors`` types: ``ConflictError`` (409, re-read and decide again),
``ForbiddenError`` (403), ``NotFoundError`` (404), ``CircuitOpenError`` (the run stops writing),
any other ``ApiError`` after retries, and ``ClusterUnreachableError`` when the first calls of a
run (``read_configmap``, ``observe``) cannot reach or authenticate to the API server.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from nsshutdown.model import (
    ClusterState,
    Patch,
    Workload,
    WorkloadEvent,
    WorkloadKind,
    WorkloadRef,
)


class Cluster(Protocol):
    @property
    def api_requests(self) -> int:
        """HTTP requests sent so far (every attempt of every call counts)."""
        ...

    @property
    def circuit_open(self) -> bool:
        """Whether the circuit breaker has opened during this run (it does not close again)."""
        ...

    def observe(self, kinds: Collection[WorkloadKind], *, pods: bool = False) -> ClusterState:
        """Namespaces and the workloads of ``kinds`` that the cluster serves, cluster-wide.

        ``ClusterState.kinds`` says which of ``kinds`` are served (a CRD may be absent). With
        ``pods``, also the running pods annotated ``karpenter.sh/do-not-disrupt``.
        """
        ...

    def get_workload(self, ref: WorkloadRef) -> Workload:
        """Read one workload again (after a 409)."""
        ...

    def patch_workload(self, workload: Workload, patch: Patch, *, dry_run: bool) -> Workload:
        """Send ``patch`` guarded by ``workload.resource_version``; return the object as written.

        ``dry_run`` asks the API server to validate and admit the write without persisting it.
        """
        ...

    def annotate_namespace(
        self, name: str, annotations: Mapping[str, str | None], *, dry_run: bool
    ) -> None:
        """Set (or, for ``None`` values, remove) annotations on a namespace; nothing else."""
        ...

    def read_configmap(self, namespace: str, name: str, key: str) -> str:
        """The text stored under ``key`` in a ConfigMap."""
        ...

    def emit_event(self, event: WorkloadEvent) -> None:
        """Create a Kubernetes Event on ``event.workload`` (``--events``).

        Best effort: it raises ``ApiError`` when the Event cannot be created, and the caller only
        logs that. It never counts towards the circuit breaker, nor resets it.
        """
        ...
