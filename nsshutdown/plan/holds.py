"""What the tool holds: workloads carrying its saved state, and namespaces with something to bring
back. One answer, used by the planner, ``status``, the savings figures and the manual commands.

Pure functions of observed objects.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType

from nsshutdown import constants as c
from nsshutdown.model import ClusterState, Desired, Namespace, Plan, Reason, Workload


def is_held(workload: Workload) -> bool:
    """True when the workload carries state saved by a shutdown: it is "held down" by us."""
    return any(key in workload.annotations for key in c.SAVED_STATE_KEYS)


def is_stamped(workload: Workload) -> bool:
    """True when the workload carries any key the tool writes: a restore has something to do."""
    return any(key in workload.annotations for key in c.OWN_WORKLOAD_KEYS)


def is_held_down(namespace: Namespace) -> bool:
    """A manual ``shutdown --for/--until`` holds the namespace down (whatever has expired)."""
    return c.KEEP_DOWN_UNTIL in namespace.annotations


def holding_namespaces(state: ClusterState) -> list[str]:
    """Namespaces with anything to bring back: a workload carrying our keys, or a down hold."""
    stamped = {w.namespace for w in state.workloads if is_stamped(w)}
    return [ns.name for ns in state.namespaces if ns.name in stamped or is_held_down(ns)]


#: Both holds a namespace can carry: what ``resume`` removes.
HOLD_ANNOTATIONS = (c.KEEP_UP_UNTIL, c.KEEP_DOWN_UNTIL)

#: (annotation to set, annotation to clear) when a manual command holds a namespace ``want``.
HOLD_KEYS = {
    Desired.DOWN: (c.KEEP_DOWN_UNTIL, c.KEEP_UP_UNTIL),
    Desired.UP: (c.KEEP_UP_UNTIL, c.KEEP_DOWN_UNTIL),
}


def has_a_hold(state: ClusterState, namespace: str) -> bool:
    """The namespace carries a ``keep-up-until`` or a ``keep-down-until``, expired or not."""
    return any(
        key in ns.annotations
        for ns in state.namespaces
        if ns.name == namespace
        for key in HOLD_ANNOTATIONS
    )


def without_holds(state: ClusterState, names: Collection[str]) -> ClusterState:
    """``state`` as it is once the holds on ``names`` are removed: what ``resume`` plans with."""
    namespaces = tuple(
        replace(ns, annotations=_dropped(ns.annotations, HOLD_ANNOTATIONS))
        if ns.name in names
        else ns
        for ns in state.namespaces
    )
    return replace(state, namespaces=namespaces)


def with_annotations(
    state: ClusterState, notes: Mapping[str, Mapping[str, str | None]]
) -> ClusterState:
    """``state`` once the namespace annotations ``notes`` are written (``None`` deletes a key)."""
    return replace(
        state,
        namespaces=tuple(
            replace(ns, annotations=_applied(ns.annotations, notes[ns.name]))
            if notes.get(ns.name)
            else ns
            for ns in state.namespaces
        ),
    )


def _applied(
    annotations: Mapping[str, str], changes: Mapping[str, str | None]
) -> Mapping[str, str]:
    kept = {k: v for k, v in annotations.items() if k not in changes}
    return MappingProxyType(kept | {k: v for k, v in changes.items() if v is not None})


def _dropped(annotations: Mapping[str, str], keys: Collection[str]) -> Mapping[str, str]:
    return MappingProxyType({k: v for k, v in annotations.items() if k not in keys})


def hold_annotations(
    state: ClusterState, plan: Plan, *, want: Desired, until: datetime | None
) -> dict[str, dict[str, str | None]]:
    """Namespace annotations a manual command writes to hold each namespace of ``plan`` ``want``.

    With ``until``, the matching ``keep-*-until`` is set to it; the opposite hold is removed where
    present (``None`` deletes a key). Excluded namespaces (the tool's own, ``excludeNamespaces``,
    ``exclude: "true"``) get none: a manual command leaves them alone like every run does.
    """
    set_key, clear_key = HOLD_KEYS[want]
    current = {ns.name: ns.annotations for ns in state.namespaces}
    notes: dict[str, dict[str, str | None]] = {}
    for ns in plan.namespaces:
        if ns.reason is Reason.EXCLUDED:
            continue
        note: dict[str, str | None] = {}
        if until is not None:
            note[set_key] = until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if clear_key in current.get(ns.namespace, {}):
            note[clear_key] = None
        notes[ns.namespace] = note
    return notes
