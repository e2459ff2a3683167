"""Per-workload decisions: given a workload and whether its namespace must be up or down.

Pure functions. These encode the rules that peers got wrong (DESIGN.md):

- scale-down saves the prior value and sets the new one in ONE patch, touching only the scaled field
  and our own annotation keys;
- a saved value is never overwritten; a workload already at zero with no saved value is left alone
  and never "restored" upward;
- restore puts the saved value back only where the workload is still down, otherwise keeps the
  current value, and always removes our annotations;
- a corrupt saved value is an ERROR for that workload only, left in place for a human.

The executor calls these again after a 409 conflict, on the freshly read object.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from nsshutdown import constants as c
from nsshutdown.model import (
    REPLICA_KINDS,
    Action,
    ActionType,
    Desired,
    Kind,
    Patch,
    SkipReason,
    Workload,
)

_CLEAR_OWN: dict[str, str | None] = dict.fromkeys(c.OWN_WORKLOAD_KEYS)


class CorruptAnnotationError(ValueError):
    """A saved-state annotation holds a value the tool could not have written."""


@dataclass(frozen=True)
class Context:
    """What a workload decision needs to know besides the workload itself."""

    desired: Desired
    now: datetime
    shutdown_by: str = c.MANUAL
    grace_period: timedelta = timedelta(0)


def decide(workload: Workload, ctx: Context) -> Action:
    """The single action to take on ``workload`` so that it matches ``ctx.desired``."""
    return replace(_decide(workload, ctx), context=ctx)


def _decide(workload: Workload, ctx: Context) -> Action:
    if workload.annotations.get(c.EXCLUDE, "").lower() in c.TRUE_VALUES:
        return _skip(workload, SkipReason.EXCLUDED)
    try:
        if ctx.desired is Desired.DOWN:
            return _down(workload, ctx)
        return _up(workload)
    except CorruptAnnotationError as err:
        return Action(
            ActionType.ERROR, workload, reason=SkipReason.CORRUPT_ANNOTATION, message=str(err)
        )


def is_held(workload: Workload) -> bool:
    """True when the workload carries state saved by a shutdown (it is "held down" by us)."""
    return any(key in workload.annotations for key in c.SAVED_STATE_KEYS)


# --- reading saved state ------------------------------------------------------------------------


def saved_replicas(workload: Workload) -> int | None:
    return _parse_int(workload, c.ORIGINAL_REPLICAS, allow_empty=False)


def saved_suspend(workload: Workload) -> bool | None:
    raw = workload.annotations.get(c.ORIGINAL_SUSPEND)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise CorruptAnnotationError(f'{c.ORIGINAL_SUSPEND}="{raw}" is not "true" or "false"')
    return raw == "true"


def keda_paused(workload: Workload) -> int | None:
    """The current KEDA pause value, ``None`` when KEDA is not paused."""
    raw = workload.annotations.get(c.KEDA_PAUSED_REPLICAS)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return -1  # a value KEDA itself rejects: certainly not our "0"


def _parse_int(workload: Workload, key: str, *, allow_empty: bool) -> int | None:
    raw = workload.annotations.get(key)
    if raw is None or (allow_empty and raw == ""):
        return None
    if not raw.isdigit():
        raise CorruptAnnotationError(f'{key}="{raw}" is not a non-negative integer')
    return int(raw)


# --- down ---------------------------------------------------------------------------------------


def _down(workload: Workload, ctx: Context) -> Action:
    if workload.kind in REPLICA_KINDS:
        return _down_replicas(workload, ctx)
    if workload.kind is Kind.CRONJOB:
        return _down_cronjob(workload, ctx)
    return _down_scaledobject(workload, ctx)


def _stamp(ctx: Context) -> dict[str, str | None]:
    return {c.SHUTDOWN_AT: ctx.now.isoformat(), c.SHUTDOWN_BY: ctx.shutdown_by}


def _too_young(workload: Workload, ctx: Context) -> bool:
    return ctx.now - workload.created < ctx.grace_period


def _down_replicas(workload: Workload, ctx: Context) -> Action:
    current = 1 if workload.replicas is None else workload.replicas
    held = c.ORIGINAL_REPLICAS in workload.annotations
    saved = saved_replicas(workload)  # validates even when we would not write
    if current == 0:
        return _noop(workload) if held else _skip(workload, SkipReason.ALREADY_AT_ZERO)
    if not held and _too_young(workload, ctx):
        return _skip(workload, SkipReason.GRACE_PERIOD)
    annotations = {} if saved is not None else {c.ORIGINAL_REPLICAS: str(current), **_stamp(ctx)}
    return Action(
        ActionType.SHUTDOWN, workload, "spec.replicas", current, 0,
        Patch(replicas=0, annotations=annotations),
    )  # fmt: skip


def _down_cronjob(workload: Workload, ctx: Context) -> Action:
    held = saved_suspend(workload) is not None
    if workload.suspend:
        return _noop(workload) if held else _skip(workload, SkipReason.ALREADY_SUSPENDED)
    if not held and _too_young(workload, ctx):
        return _skip(workload, SkipReason.GRACE_PERIOD)
    annotations = {} if held else {c.ORIGINAL_SUSPEND: "false", **_stamp(ctx)}
    return Action(
        ActionType.SHUTDOWN, workload, "spec.suspend", False, True,
        Patch(suspend=True, annotations=annotations),
    )  # fmt: skip


def _down_scaledobject(workload: Workload, ctx: Context) -> Action:
    held = c.ORIGINAL_PAUSED_REPLICAS in workload.annotations
    _parse_int(workload, c.ORIGINAL_PAUSED_REPLICAS, allow_empty=True)
    current = keda_paused(workload)
    if current == 0:
        return _noop(workload) if held else _skip(workload, SkipReason.ALREADY_PAUSED)
    if not held:
        # A prior pause value that is not a count could not be put back by a restore (it would
        # read as corrupt and stay paused at 0): leave it, and the workload, to a human.
        _parse_int(workload, c.KEDA_PAUSED_REPLICAS, allow_empty=False)
    if not held and _too_young(workload, ctx):
        return _skip(workload, SkipReason.GRACE_PERIOD)
    annotations: dict[str, str | None] = {c.KEDA_PAUSED_REPLICAS: "0"}
    if not held:
        prior = workload.annotations.get(c.KEDA_PAUSED_REPLICAS, "")
        annotations |= {c.ORIGINAL_PAUSED_REPLICAS: prior, **_stamp(ctx)}
    return Action(
        ActionType.SHUTDOWN, workload, c.KEDA_PAUSED_REPLICAS, current, 0,
        Patch(annotations=annotations),
    )  # fmt: skip


# --- up -----------------------------------------------------------------------------------------


def _up(workload: Workload) -> Action:
    if not any(key in workload.annotations for key in c.OWN_WORKLOAD_KEYS):
        return _noop(workload)
    if workload.kind in REPLICA_KINDS:
        return _up_replicas(workload)
    if workload.kind is Kind.CRONJOB:
        return _up_cronjob(workload)
    return _up_scaledobject(workload)


def _up_replicas(workload: Workload) -> Action:
    saved = saved_replicas(workload)
    current = 1 if workload.replicas is None else workload.replicas
    if saved is None or current != 0:
        return _release(workload, "spec.replicas", current)
    return Action(
        ActionType.RESTORE, workload, "spec.replicas", 0, saved,
        Patch(replicas=saved, annotations=_CLEAR_OWN),
    )  # fmt: skip


def _up_cronjob(workload: Workload) -> Action:
    saved = saved_suspend(workload)
    if saved is None or saved or not workload.suspend:
        return _release(workload, "spec.suspend", bool(workload.suspend))
    return Action(
        ActionType.RESTORE, workload, "spec.suspend", True, False,
        Patch(suspend=False, annotations=_CLEAR_OWN),
    )  # fmt: skip


def _up_scaledobject(workload: Workload) -> Action:
    saved_raw = workload.annotations.get(c.ORIGINAL_PAUSED_REPLICAS)
    saved = _parse_int(workload, c.ORIGINAL_PAUSED_REPLICAS, allow_empty=True)
    current = keda_paused(workload)
    if saved_raw is None or current != 0:
        return _release(workload, c.KEDA_PAUSED_REPLICAS, current)
    annotations = {**_CLEAR_OWN, c.KEDA_PAUSED_REPLICAS: None if saved is None else str(saved)}
    return Action(
        ActionType.RESTORE, workload, c.KEDA_PAUSED_REPLICAS, 0, saved,
        Patch(annotations=annotations),
    )  # fmt: skip


def _release(workload: Workload, field: str, current: int | bool | None) -> Action:
    """Someone already brought it back (or nothing was saved): keep their value, drop our keys."""
    present = {key: None for key in c.OWN_WORKLOAD_KEYS if key in workload.annotations}
    return Action(ActionType.RELEASE, workload, field, current, current, Patch(annotations=present))


def _skip(workload: Workload, reason: SkipReason) -> Action:
    return Action(ActionType.SKIP, workload, reason=reason)


def _noop(workload: Workload) -> Action:
    """Already converged: a SKIP with no reason, which renderers leave out."""
    return Action(ActionType.SKIP, workload)
