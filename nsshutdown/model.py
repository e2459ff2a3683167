"""The data the planner reads and writes: observed cluster state in, a plan of frozen actions out.

Everything here is plain, immutable data with no I/O, so the planner stays a pure function and the
same objects serve the CLI's JSON output, the executor and the tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from nsshutdown import constants as c
from nsshutdown.targets import CustomKind, Kind, Namespace, WorkloadKind, empty_mapping

#: What a schedule names (the kinds, the namespaces) lives in :mod:`nsshutdown.targets`, which
#: ``validate`` imports without the rest; every other layer imports it from here.
__all__ = [
    "Action",
    "ActionType",
    "ClusterState",
    "Context",
    "CustomKind",
    "Desired",
    "FieldValue",
    "Kind",
    "Namespace",
    "NamespacePlan",
    "Patch",
    "PinningPod",
    "Plan",
    "Reason",
    "Resources",
    "SkipReason",
    "Transition",
    "Unreadable",
    "Workload",
    "WorkloadEvent",
    "WorkloadKind",
    "WorkloadRef",
]


class Desired(StrEnum):
    UP = "up"
    DOWN = "down"


class Reason(StrEnum):
    """Why a namespace is desired up or down (``reason`` in ``plan --output json``)."""

    WINDOW = "window"
    HOLIDAY = "holiday"
    OUTSIDE_WINDOW = "outside-window"
    KEEP_UP_UNTIL = "keep-up-until"
    KEEP_DOWN_UNTIL = "keep-down-until"
    EXCLUDED = "excluded"
    NO_SCHEDULE = "no-schedule"
    MANUAL = "manual"
    INVALID_ANNOTATION = "invalid-annotation"
    UNREADABLE = "unreadable"


class SkipReason(StrEnum):
    """Why a workload was left alone: "why nothing happened" is first-class output."""

    EXCLUDED = "excluded"
    GRACE_PERIOD = "grace-period"
    ALREADY_AT_ZERO = "already-at-zero"
    AT_DOWN_REPLICAS = "at-or-below-down-replicas"
    ALREADY_SUSPENDED = "already-suspended"
    ALREADY_PAUSED = "already-paused"
    KEDA_MANAGED = "keda-managed"
    CORRUPT_ANNOTATION = "corrupt-annotation"
    KIND_NOT_SCHEDULED = "kind-not-scheduled"
    FINISHED = "finished"
    WAITING_FOR_TIER = "waiting-for-tier"


@dataclass(frozen=True)
class Resources:
    """Resource requests of ONE replica (sum over the pod template's containers)."""

    cpu_cores: float = 0.0
    memory_bytes: float = 0.0


@dataclass(frozen=True)
class WorkloadRef:
    kind: WorkloadKind
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class Workload:
    """One workload as observed. Only the fields the tool decides on are kept.

    Which fields a kind fills is its mechanism's business (:mod:`nsshutdown.kinds`): ``replicas``
    is ``spec.replicas``, ``suspend`` is ``spec.suspend``, ``scale_target`` is the
    ``(kind, name)`` a ScaledObject drives, ``finished`` marks a Job that has completed or failed.
    """

    ref: WorkloadRef
    created: datetime
    resource_version: str = ""
    uid: str = ""  # metadata.uid: what an Event's ``regarding`` names
    replicas: int | None = None
    suspend: bool | None = None
    annotations: Mapping[str, str] = field(default_factory=empty_mapping, hash=False)
    requests: Resources = Resources()
    scale_target: tuple[str, str] | None = None
    finished: bool = False
    #: ``status.readyReplicas`` (kinds that report it) as of the current spec: what a later wake-up
    #: tier waits for; ``None`` when no controller reports on it (nothing waits on it then).
    ready: int | None = None
    #: When this tool last wrote to it (its ``managedFields`` entry): when it was restored.
    written_at: datetime | None = None

    @property
    def kind(self) -> WorkloadKind:
        return self.ref.kind

    @property
    def namespace(self) -> str:
        return self.ref.namespace

    @property
    def name(self) -> str:
        return self.ref.name


@dataclass(frozen=True)
class PinningPod:
    """A running pod annotated ``karpenter.sh/do-not-disrupt``: it keeps its node alive."""

    namespace: str
    name: str
    node: str = ""


@dataclass(frozen=True)
class Unreadable:
    """A kind the run may not list (403): everywhere (``namespace=None``) or in one namespace."""

    kind: WorkloadKind
    namespace: str | None
    reason: str


@dataclass(frozen=True)
class ClusterState:
    """What ``kube.observe()`` saw; ``kinds`` lists the kinds served (CRDs may be absent).

    ``unreadable`` names the kinds the credentials may not list: a namespace that would shut one
    of them down fails alone instead of the whole run.
    """

    namespaces: tuple[Namespace, ...]
    workloads: tuple[Workload, ...]
    kinds: frozenset[WorkloadKind] = frozenset(Kind)
    pinning_pods: tuple[PinningPod, ...] = ()
    unreadable: tuple[Unreadable, ...] = ()

    def unreadable_in(self, namespace: str) -> dict[WorkloadKind, str]:
        """The kinds that cannot be listed in ``namespace``, with why."""
        return {u.kind: u.reason for u in self.unreadable if u.namespace in (None, namespace)}


# --- What the planner decides ------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What a workload decision needs to know besides the workload itself."""

    desired: Desired
    now: datetime
    shutdown_by: str = c.MANUAL
    grace_period: timedelta = timedelta(0)
    #: Replicas that stay up while down (``downReplicas``; a workload annotation may say otherwise).
    down_replicas: int = 0


#: A field value as shown in ``from``/``to``:
#: replicas (int), suspend (bool), or KEDA paused-replicas (int, None when not paused).
FieldValue = int | bool | None


@dataclass(frozen=True)
class Patch:
    """The exact change to send: a JSON merge patch of ``spec`` fields and annotations.

    ``annotations`` maps key -> new value, or ``None`` to delete the key. Only the keys named are
    touched; the rest of the annotations map is left as it is.
    """

    replicas: int | None = None
    suspend: bool | None = None
    annotations: Mapping[str, str | None] = field(default_factory=empty_mapping, hash=False)


class ActionType(StrEnum):
    SHUTDOWN = "shutdown"  # scale to zero / suspend / pause, saving the prior value
    RESTORE = "restore"  # put the saved value back and remove our annotations
    RELEASE = "release"  # someone already brought it back: keep their value, remove our annotations
    SKIP = "skip"  # leave alone, with a reason
    ERROR = "error"  # cannot decide (e.g. corrupt annotation): reported, left for a human


@dataclass(frozen=True)
class Action:
    """One decision about one workload. ``patch`` is ``None`` for SKIP and ERROR."""

    type: ActionType
    workload: Workload
    field: str = ""  # "spec.replicas", "spec.suspend" or the KEDA annotation key
    from_value: FieldValue = None
    to_value: FieldValue = None
    patch: Patch | None = None
    reason: SkipReason | None = None
    message: str = ""
    #: What it was decided with, so the executor can decide again on a re-read object after a
    #: 409 (``None`` for actions made outside :func:`nsshutdown.plan.decisions.decide`).
    context: Context | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def ref(self) -> WorkloadRef:
        return self.workload.ref

    @property
    def writes(self) -> bool:
        return self.patch is not None


@dataclass(frozen=True)
class WorkloadEvent:
    """A Kubernetes Event about one workload (``--events``), so ``kubectl describe`` says why.

    ``reason`` is CamelCase (``ScaledDown``), ``action`` what was done (``ScaleDown``), ``at`` the
    event time; ``warning`` makes it type Warning instead of Normal.
    """

    workload: Workload
    reason: str
    action: str
    note: str
    at: datetime
    warning: bool = False


@dataclass(frozen=True)
class Transition:
    at: datetime
    to: Desired


@dataclass(frozen=True)
class NamespacePlan:
    namespace: str
    desired: Desired
    reason: Reason
    schedule: str | None = None
    next_transition: Transition | None = None
    actions: tuple[Action, ...] = ()
    #: How it came to ``schedule``: ``label``, ``annotation`` (its own choice), ``match`` (the
    #: schedule file's first match) or ``none``.
    schedule_from: str = "none"
    #: Replicas kept up while down (``downReplicas`` of its schedule, else of ``defaults``).
    down_replicas: int = 0
    message: str = ""
    #: Why the namespace cannot be converged at all: it is left untouched and reported failed.
    error: str = ""


@dataclass(frozen=True)
class Plan:
    at: datetime
    namespaces: tuple[NamespacePlan, ...] = ()

    def actions(self) -> tuple[Action, ...]:
        return tuple(a for ns in self.namespaces for a in ns.actions)


def apply_patch(workload: Workload, patch: Patch) -> Workload:
    """The workload as it is after ``patch``: what the API server does with our merge patch."""
    annotations = dict(workload.annotations)
    for key, value in patch.annotations.items():
        if value is None:
            annotations.pop(key, None)
        else:
            annotations[key] = value
    return Workload(
        ref=workload.ref,
        created=workload.created,
        resource_version=workload.resource_version,
        uid=workload.uid,
        replicas=workload.replicas if patch.replicas is None else patch.replicas,
        suspend=workload.suspend if patch.suspend is None else patch.suspend,
        annotations=MappingProxyType(annotations),
        requests=workload.requests,
        scale_target=workload.scale_target,
        finished=workload.finished,
        ready=workload.ready,
        written_at=workload.written_at,
    )


def inverse_patch(workload: Workload, patch: Patch) -> Patch:
    """The patch that puts ``workload`` back exactly as observed, undoing ``patch`` (rollback)."""
    return Patch(
        replicas=None if patch.replicas is None else workload.replicas,
        suspend=None if patch.suspend is None else workload.suspend,
        annotations={key: workload.annotations.get(key) for key in patch.annotations},
    )
