"""Per-workload decisions: given a workload and whether its namespace must be up or down.

Pure. The rules every kind keeps (DESIGN.md) are written once per mechanism, in
:mod:`nsshutdown.kinds`; this module adds what is the same for every kind: an excluded workload is
left alone, a workload with none of our annotations has nothing to restore, and a corrupt saved
value is an ERROR for that workload only, left in place for a human.

The executor calls :func:`decide` again after a 409 conflict, on the freshly read object.
"""

from __future__ import annotations

from dataclasses import replace

from nsshutdown import constants as c
from nsshutdown.kinds import registry
from nsshutdown.kinds.base import CorruptAnnotationError, noop, skip
from nsshutdown.model import Action, ActionType, Context, Desired, SkipReason, Workload
from nsshutdown.plan.holds import is_stamped


def decide(workload: Workload, ctx: Context) -> Action:
    """The single action to take on ``workload`` so that it matches ``ctx.desired``."""
    return replace(_decide(workload, ctx), context=ctx)


def _decide(workload: Workload, ctx: Context) -> Action:
    if workload.annotations.get(c.EXCLUDE, "").lower() in c.TRUE_VALUES:
        return skip(workload, SkipReason.EXCLUDED)
    mechanism = registry.of(workload)
    try:
        if ctx.desired is Desired.DOWN:
            return mechanism.down(workload, ctx)
        return mechanism.up(workload) if is_stamped(workload) else noop(workload)
    except CorruptAnnotationError as err:
        return Action(
            ActionType.ERROR, workload, reason=SkipReason.CORRUPT_ANNOTATION, message=str(err)
        )
