"""What a schedule names: the kinds of workload it scales and the namespaces it matches.

The part of :mod:`nsshutdown.model` that reading a schedule needs, on its own: ``validate``
imports this and nothing of the planner's data (every class costs start-up; see
docs/performance.md, "Start-up"). :mod:`nsshutdown.model` exports the same names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

_EMPTY: Mapping[str, str] = MappingProxyType({})


def empty_mapping() -> Mapping[str, str]:
    """The one empty, read-only mapping: a default for dataclass fields (which refuse an
    unhashable default, even an immutable one)."""
    return _EMPTY


class Kind(StrEnum):
    """Workload kinds the tool scales. The value is the Kubernetes ``kind``."""

    DEPLOYMENT = "Deployment"
    STATEFULSET = "StatefulSet"
    CRONJOB = "CronJob"
    SCALEDOBJECT = "ScaledObject"
    ROLLOUT = "Rollout"
    JOB = "Job"


@dataclass(frozen=True)
class CustomKind:
    """A custom resource kind declared in the schedule (``customKinds``), scaled through the
    ``spec.replicas`` that its ``scale`` subresource maps: no release needed to add one.

    It carries its own API coordinates, so every layer can handle its workloads like a built-in
    kind's. ``value`` and ``str()`` are the kind's name, as for :class:`Kind`.
    """

    name: str
    group: str
    version: str
    resource: str  # the plural, as in the REST path and RBAC rules

    @property
    def value(self) -> str:
        return self.name

    def __str__(self) -> str:
        return self.name


#: Any kind a workload can be: built in, or declared in the schedule.
WorkloadKind = Kind | CustomKind


@dataclass(frozen=True)
class Namespace:
    name: str
    labels: Mapping[str, str] = field(default_factory=empty_mapping, hash=False)
    annotations: Mapping[str, str] = field(default_factory=empty_mapping, hash=False)
    #: Why it could not be read (``--scope-namespaces`` without ``get`` on it): it fails alone.
    unreadable: str = ""
