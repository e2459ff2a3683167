"""Every kind the tool scales, and the mechanism that scales it: the one table to extend.

A new kind is one entry here, with an existing mechanism (a CRD that keeps its size in
``spec.replicas`` is a :class:`~nsshutdown.kinds.replicas.ReplicaCount`) or a new module beside
this one, plus its member of :class:`~nsshutdown.model.Kind`. Lists, patches, Events, the RBAC
table, ``check``, the savings estimate and the docs all read this table.

Users add custom resources without a release: a :class:`~nsshutdown.model.CustomKind` declared in
the schedule is scaled by :class:`~nsshutdown.kinds.replicas.ReplicaCount` at the API coordinates
it carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Final

from nsshutdown.kinds.api import KindApi
from nsshutdown.kinds.base import Mechanism
from nsshutdown.kinds.keda import KedaPause
from nsshutdown.kinds.replicas import ReplicaCount
from nsshutdown.kinds.suspend import Suspend
from nsshutdown.model import Action, ActionType, CustomKind, Kind, Workload, WorkloadKind

_ALL: tuple[Mechanism, ...] = (
    ReplicaCount(Kind.DEPLOYMENT, KindApi("apps", "v1", "deployments")),
    ReplicaCount(Kind.STATEFULSET, KindApi("apps", "v1", "statefulsets")),
    Suspend(
        Kind.CRONJOB,
        KindApi("batch", "v1", "cronjobs"),
        template_path=("jobTemplate", "spec"),
        note="Running Jobs finish; no new ones start.",
    ),
    Suspend(
        Kind.JOB,
        KindApi("batch", "v1", "jobs"),
        finishes=True,
        note="Its running pods stop; resumed, it starts them again. A finished Job is skipped.",
    ),
    KedaPause(
        Kind.SCALEDOBJECT,
        KindApi("keda.sh", "v1alpha1", "scaledobjects"),
        note="The workload it drives is skipped (`keda-managed`): KEDA would scale it back.",
    ),
    ReplicaCount(
        Kind.ROLLOUT,
        KindApi("argoproj.io", "v1alpha1", "rollouts"),
        note="Its ReplicaSets follow.",
    ),
)

MECHANISMS: Final[Mapping[Kind, Mechanism]] = MappingProxyType(
    {m.kind: m for m in _ALL if isinstance(m.kind, Kind)}
)

#: Annotations owned by other projects that some mechanism reads: kept when objects are decoded.
FOREIGN_KEYS: Final = frozenset().union(*(m.foreign_keys for m in _ALL))


def mechanism(kind: WorkloadKind) -> Mechanism:
    if isinstance(kind, CustomKind):
        return _custom(kind)
    return MECHANISMS[kind]


def of(workload: Workload) -> Mechanism:
    return mechanism(workload.kind)


#: What each action does, for people: (done, in a dry run).
_VERBS = {
    ActionType.SHUTDOWN: ("shut down", "would shut down"),
    ActionType.RESTORE: ("restored", "would restore"),
    ActionType.RELEASE: ("released", "would release"),
}


def describe(action: Action, *, dry_run: bool = False) -> str:
    """``shut down Deployment api: replicas 3 → 0`` (``would shut down ...`` in a dry run)."""
    ref = action.ref
    verbs = _VERBS.get(action.type)
    if verbs is None:  # a skip or an error: no change to describe
        return f"{action.type} {ref.kind} {ref.name}"
    change = mechanism(ref.kind).change(action.from_value, action.to_value)
    return f"{verbs[dry_run]} {ref.kind} {ref.name}: {change}"


@cache
def _custom(kind: CustomKind) -> Mechanism:
    return ReplicaCount(kind, KindApi(kind.group, kind.version, kind.resource))
