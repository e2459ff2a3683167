"""Down is ``spec.replicas: 0`` (or ``downReplicas``): Deployments, StatefulSets, Argo Rollouts,
and any custom resource that keeps its size in ``spec.replicas``.

The count it had is saved in ``nsshutdown.io/original-replicas`` in the same patch that sets 0,
and put back by a restore only while the workload is still at 0. With ``downReplicas: N`` above
0 the same patch records ``nsshutdown.io/scaled-to: N``, and "still down" means still at N.
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
    down_target,
    noop,
    parse_count,
    pod_template_spec,
    record_target,
    release,
    scaled_to,
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


def _ready(item: Mapping[str, Any]) -> int | None:
    """``status.readyReplicas`` as of the current spec: 0 while the controller has not caught up
    with the last change (``observedGeneration`` behind ``generation``), ``None`` when no
    controller has ever reported on it (nothing would ever make it ready: nothing waits on it)."""
    status = as_mapping(item.get("status"))
    seen = _as_count(status.get("observedGeneration"))
    if seen is None:
        return None
    generation = _as_count(as_mapping(item.get("metadata")).get("generation"))
    if generation is not None and seen < generation:
        return 0
    return _as_count(status.get("readyReplicas")) or 0


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
        return Observed(replicas=_as_count(spec.get("replicas")), ready=_ready(item))

    def pod_spec(self, spec: Mapping[str, Any]) -> Mapping[str, Any] | None:
        return pod_template_spec(spec)

    def down(self, workload: Workload, ctx: Context) -> Action:
        """To ``downReplicas`` (0 unless set); one already at or below it is left alone.

        Held already: scaled back to the target when someone scaled it up (or the target went
        down), left alone when it is at or below it.
        """
        current = _current(workload)
        held = c.ORIGINAL_REPLICAS in workload.annotations
        saved = parse_count(workload, c.ORIGINAL_REPLICAS)  # validates even when nothing is written
        scaled_to(workload)  # validated too: a restore will need it
        target = down_target(workload, ctx)
        if current <= target:
            if held:
                return noop(workload)
            why = SkipReason.ALREADY_AT_ZERO if current == 0 else SkipReason.AT_DOWN_REPLICAS
            return skip(workload, why)
        if not held and too_young(workload, ctx):
            return skip(workload, SkipReason.GRACE_PERIOD)
        annotations = record_target(workload, target)
        if saved is None:
            annotations |= {c.ORIGINAL_REPLICAS: str(current), **stamp(ctx)}
        return Action(
            ActionType.SHUTDOWN, workload, FIELD, current, target,
            Patch(replicas=target, annotations=annotations),
        )  # fmt: skip

    def up(self, workload: Workload) -> Action:
        """Back to the saved count, only while it is still where the shutdown left it."""
        saved = parse_count(workload, c.ORIGINAL_REPLICAS)
        left_at = scaled_to(workload)
        current = _current(workload)
        if saved is None or current != left_at:
            return release(workload, FIELD, current)
        return Action(
            ActionType.RESTORE, workload, FIELD, current, saved,
            Patch(replicas=saved, annotations=CLEAR_OWN),
        )  # fmt: skip

    def is_running(self, workload: Workload) -> bool:
        """Above what a shutdown left it at (0, or ``downReplicas``)."""
        held = c.ORIGINAL_REPLICAS in workload.annotations
        try:
            floor = scaled_to(workload) if held else 0
        except ValueError:
            floor = 0
        return _current(workload) > floor

    def is_ready(self, workload: Workload) -> bool:
        """``status.readyReplicas`` reached ``spec.replicas``, or no controller reports on it."""
        return workload.ready is None or workload.ready >= _current(workload)

    def change(self, before: FieldValue, after: FieldValue) -> str:
        return f"replicas {before} → {after}" if before != after else f"replicas kept at {after}"

    def held_replicas(self, workload: Workload) -> int:
        """Saved count minus what runs now, never negative; 0 when the saved count is corrupt."""
        try:
            saved = parse_count(workload, c.ORIGINAL_REPLICAS)
        except ValueError:
            return 0
        return 0 if saved is None else max(saved - _current(workload), 0)
