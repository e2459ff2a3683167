"""Down is ``spec.replicas: 0``: Deployments, StatefulSets, Argo Rollouts, and any custom resource
that keeps its size in ``spec.replicas``.

The count it had is saved in ``nsshutdown.io/original-replicas`` in the same patch that sets 0,
and put back by a restore only while the workload is still at 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nsshutdown import constants as c
from nsshutdown.kinds.api import KindApi
from nsshutdown.kinds.base import (
    CLEAR_OWN,
    Observed,
    as_mapping,
    noop,
    parse_count,
    pod_template_spec,
    release,
    skip,
    stamp,
    too_young,
)
from nsshutdown.model import (
    Action,
    ActionType,
    Context,
    FieldValue,
    Patch,
    SkipReason,
    Workload,
    WorkloadKind,
)

FIELD = "spec.replicas"


def _current(workload: Workload) -> int:
    # An absent spec.replicas means the API server's default, 1.
    return 1 if workload.replicas is None else workload.replicas


def _as_count(raw: Any) -> int | None:
    """``spec.replicas`` as the API returns it; anything that is not a count reads as absent."""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return raw
    return None


@dataclass(frozen=True)
class ReplicaCount:
    kind: WorkloadKind
    api: KindApi
    note: str = ""
    field: str = FIELD
    saved_key: str = c.ORIGINAL_REPLICAS
    down_means: str = "`spec.replicas: 0`"
    foreign_keys: frozenset[str] = frozenset()

    def observe(self, item: Mapping[str, Any]) -> Observed:
        spec = as_mapping(item.get("spec"))
        return Observed(replicas=_as_count(spec.get("replicas")))

    def pod_spec(self, spec: Mapping[str, Any]) -> Mapping[str, Any] | None:
        return pod_template_spec(spec)

    def down(self, workload: Workload, ctx: Context) -> Action:
        current = _current(workload)
        held = c.ORIGINAL_REPLICAS in workload.annotations
        saved = parse_count(workload, c.ORIGINAL_REPLICAS)  # validates even when nothing is written
        if current == 0:
            return noop(workload) if held else skip(workload, SkipReason.ALREADY_AT_ZERO)
        if not held and too_young(workload, ctx):
            return skip(workload, SkipReason.GRACE_PERIOD)
        annotations = {} if saved is not None else {c.ORIGINAL_REPLICAS: str(current), **stamp(ctx)}
        return Action(
            ActionType.SHUTDOWN, workload, FIELD, current, 0,
            Patch(replicas=0, annotations=annotations),
        )  # fmt: skip

    def up(self, workload: Workload) -> Action:
        saved = parse_count(workload, c.ORIGINAL_REPLICAS)
        current = _current(workload)
        if saved is None or current != 0:
            return release(workload, FIELD, current)
        return Action(
            ActionType.RESTORE, workload, FIELD, 0, saved,
            Patch(replicas=saved, annotations=CLEAR_OWN),
        )  # fmt: skip

    def is_running(self, workload: Workload) -> bool:
        return _current(workload) > 0

    def change(self, before: FieldValue, after: FieldValue) -> str:
        return f"replicas {before} → {after}" if before != after else f"replicas kept at {after}"

    def held_replicas(self, workload: Workload) -> int:
        """Saved count minus what runs now, never negative; 0 when the saved count is corrupt."""
        try:
            saved = parse_count(workload, c.ORIGINAL_REPLICAS)
        except ValueError:
            return 0
        return 0 if saved is None else max(saved - _current(workload), 0)
