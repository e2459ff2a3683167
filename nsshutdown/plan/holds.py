"""What the tool holds: workloads carrying its saved state, and namespaces with something to bring
back. One answer, used by the planner, ``status``, the savings figures and the manual commands.

Pure functions of observed objects.
"""

from __future__ import annotations

from nsshutdown import constants as c
from nsshutdown.model import ClusterState, Namespace, Workload


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
