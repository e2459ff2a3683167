"""Every API permission a run needs, in one table, and why.

This is what ``nsshutdown check`` asks the API server about (one SelfSubjectAccessReview per verb,
resource and place) and what ``manifests/base/clusterrole.yaml`` grants; a unit test keeps the two
in step. A run

- reads every Namespace (labels for selectors, annotations for overrides): ``list``, and ``get``
  for each namespace of ``--scope-namespaces``;
- lists every workload kind cluster-wide, re-reads one after a 409 (``get``) and scales it with a
  merge patch (``patch``); a kind whose CRD is absent is skipped, but the grant must still be there:
  authorization comes first, so a run without it gets 403, not 404;
- lists pods (``status`` reports pods that keep a node alive);
- with ``--events``, creates Events (events.k8s.io, and core where that is not served);
- with ``--configmap``, reads that one ConfigMap.

With ``--scope-namespaces`` nothing is needed cluster-wide: every permission is needed in each of
those namespaces instead (RoleBindings, the namespaced overlay), and Namespaces need ``get`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from nsshutdown.kinds.api import WORKLOAD_VERBS
from nsshutdown.kinds.registry import MECHANISMS
from nsshutdown.model import CustomKind


@dataclass(frozen=True)
class Need:
    """Verbs on one resource, and what a run does with them."""

    group: str  # "" is the core group
    resource: str
    verbs: tuple[str, ...]
    why: str

    @property
    def qualified(self) -> str:
        """``deployments.apps``, ``namespaces`` (kubectl's spelling)."""
        return f"{self.resource}.{self.group}" if self.group else self.resource


NAMESPACES: Final = Need("", "namespaces", ("get", "list"), "namespace labels and annotations")
WORKLOADS: Final = tuple(
    Need(m.api.group, m.api.plural, WORKLOAD_VERBS, f"list, re-read and scale {kind}s")
    for kind, m in MECHANISMS.items()
)
PODS: Final = Need("", "pods", ("list",), "status: pods that keep a node alive")
#: What every run needs.
RUN: Final = (NAMESPACES, *WORKLOADS, PODS)
#: ``--events``: events.k8s.io/v1 first, core/v1 where the cluster does not serve it.
EVENTS: Final = (
    Need("events.k8s.io", "events", ("create",), "--events: an Event on each workload written"),
    Need("", "events", ("create",), "--events on clusters without events.k8s.io/v1"),
)
#: ``--configmap``: the schedule, by name, in its own namespace.
CONFIGMAP: Final = Need("", "configmaps", ("get",), "--configmap: read the schedule")


def custom_need(kind: CustomKind) -> Need:
    """What a declared custom kind needs: the built-in kinds' verbs on its own resource."""
    return Need(kind.group, kind.resource, WORKLOAD_VERBS, f"list, re-read and scale {kind}s")


@dataclass(frozen=True)
class Permission:
    """One verb on one resource, cluster-wide (``namespace=""``) or in one namespace."""

    need: Need
    verb: str
    namespace: str = ""
    name: str = ""

    def __str__(self) -> str:
        what = f"{self.verb} {self.need.qualified}" + (f"/{self.name}" if self.name else "")
        return f"{what} in {self.namespace}" if self.namespace else what


def required(
    *,
    scope: Sequence[str] = (),
    events: bool = False,
    configmap: tuple[str, str] | None = None,
    custom_kinds: Sequence[CustomKind] = (),
) -> list[Permission]:
    """Every permission a run with these options needs; ``configmap`` is (namespace, name).

    ``custom_kinds`` (the schedule's ``customKinds``) are listed, re-read and patched like the
    built-in kinds, so each needs the same verbs on its own resource.
    """
    needs = [*RUN, *(custom_need(kind) for kind in custom_kinds), *(EVENTS if events else ())]
    wanted: list[Permission] = []
    for need in needs:
        if not scope:
            wanted += [Permission(need, verb) for verb in need.verbs]
        elif need is NAMESPACES:
            wanted += [Permission(need, "get", ns, ns) for ns in scope]
        else:
            wanted += [Permission(need, verb, ns) for ns in scope for verb in need.verbs]
    if configmap is not None:
        namespace, name = configmap
        wanted += [Permission(CONFIGMAP, verb, namespace, name) for verb in CONFIGMAP.verbs]
    return wanted
