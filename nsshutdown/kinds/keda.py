"""Down is KEDA's ``autoscaling.keda.sh/paused-replicas: "0"`` on a ScaledObject (or ``"N"``
with ``downReplicas: N``, recorded in ``nsshutdown.io/scaled-to`` as for replica counts).

KEDA owns the replica count of the workload it drives, so that workload is never scaled directly
(the planner skips it as ``keda-managed``); pausing the ScaledObject at 0 is how it goes down.
``nsshutdown.io/original-paused-replicas`` is always written: the prior pause value, or ``""``
when KEDA was not paused, so that every held workload carries exactly one saved-state key.
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
    Kind,
    Patch,
    SkipReason,
    Workload,
)

FIELD = c.KEDA_PAUSED_REPLICAS


def paused(workload: Workload) -> int | None:
    """The current KEDA pause value: ``None`` when not paused, -1 when KEDA would reject it."""
    raw = workload.annotations.get(c.KEDA_PAUSED_REPLICAS)
    if raw is None:
        return None
    if raw.isascii() and raw.isdigit() and len(raw) <= 10:
        return int(raw)
    return -1  # certainly not our "0"


@dataclass(frozen=True)
class KedaPause:
    kind: Kind
    api: KindApi
    note: str = ""
    field: str = FIELD
    saved_key: str = c.ORIGINAL_PAUSED_REPLICAS
    down_means: str = '`autoscaling.keda.sh/paused-replicas: "0"`'
    foreign_keys: frozenset[str] = frozenset({c.KEDA_PAUSED_REPLICAS})

    def observe(self, item: Mapping[str, Any]) -> Observed:
        target = as_mapping(as_mapping(item.get("spec")).get("scaleTargetRef"))
        if not target.get("name"):
            return Observed()
        return Observed(scale_target=(str(target.get("kind") or "Deployment"), str(target["name"])))

    def pod_spec(self, spec: Mapping[str, Any]) -> Mapping[str, Any] | None:
        return None  # the pods belong to the workload it drives

    def down(self, workload: Workload, ctx: Context) -> Action:
        """Paused at ``downReplicas`` (0 unless set)."""
        held = c.ORIGINAL_PAUSED_REPLICAS in workload.annotations
        parse_count(workload, c.ORIGINAL_PAUSED_REPLICAS, allow_empty=True)
        scaled_to(workload)  # validated: a restore will need it
        target = down_target(workload, ctx)
        current = paused(workload)
        if current == target:
            return noop(workload) if held else skip(workload, SkipReason.ALREADY_PAUSED)
        if not held:
            # A prior pause value that is not a count could not be put back by a restore (it
            # would read as corrupt and stay paused): leave it, and the workload, to a human.
            parse_count(workload, c.KEDA_PAUSED_REPLICAS)
        if not held and too_young(workload, ctx):
            return skip(workload, SkipReason.GRACE_PERIOD)
        annotations: dict[str, str | None] = {
            c.KEDA_PAUSED_REPLICAS: str(target),
            **record_target(workload, target),
        }
        if not held:
            prior = workload.annotations.get(c.KEDA_PAUSED_REPLICAS, "")
            annotations |= {c.ORIGINAL_PAUSED_REPLICAS: prior, **stamp(ctx)}
        return Action(
            ActionType.SHUTDOWN, workload, FIELD, current, target, Patch(annotations=annotations)
        )

    def up(self, workload: Workload) -> Action:
        saved_raw = workload.annotations.get(c.ORIGINAL_PAUSED_REPLICAS)
        saved = parse_count(workload, c.ORIGINAL_PAUSED_REPLICAS, allow_empty=True)
        left_at = scaled_to(workload)
        current = paused(workload)
        if saved_raw is None or current != left_at:
            return release(workload, FIELD, current)
        annotations = {**CLEAR_OWN, c.KEDA_PAUSED_REPLICAS: None if saved is None else str(saved)}
        return Action(
            ActionType.RESTORE, workload, FIELD, current, saved, Patch(annotations=annotations)
        )

    def is_running(self, workload: Workload) -> bool:
        """Not paused where a shutdown left it."""
        value = workload.annotations.get(c.KEDA_PAUSED_REPLICAS)
        if c.ORIGINAL_PAUSED_REPLICAS not in workload.annotations:
            return value != "0"
        try:
            return value != str(scaled_to(workload))
        except ValueError:
            return value != "0"

    def is_ready(self, workload: Workload) -> bool:
        """Unpaused: the workload it drives is a Deployment (or similar) with its own readiness."""
        return self.is_running(workload)

    def change(self, before: FieldValue, after: FieldValue) -> str:
        if before == after:
            return "KEDA left as it was"
        if after == 0:
            return "KEDA paused at 0"
        return "KEDA unpaused" if after is None else f"KEDA paused at {after} again"

    def held_replicas(self, workload: Workload) -> int:
        # KEDA scales the workload it drives, not us: its count is not known here (an
        # under-estimate, on purpose).
        return 0
