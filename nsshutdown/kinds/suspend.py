"""Down is ``spec.suspend: true``: CronJobs (no new Jobs start) and Jobs (running pods stop).

``nsshutdown.io/original-suspend: "false"`` is saved in the same patch; a restore resumes the
workload only while it is still suspended and was not suspended before. A Job that has already
finished is left alone: there is nothing to stop, and suspending it would only confuse whoever
reads it. Neither kind holds steady replicas, so neither counts in the savings estimate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nsshutdown import constants as c
from nsshutdown.kinds.api import KindApi
from nsshutdown.kinds.base import (
    CLEAR_OWN,
    CorruptAnnotationError,
    Observed,
    as_mapping,
    noop,
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
    Kind,
    Patch,
    SkipReason,
    Workload,
)

FIELD = "spec.suspend"
_FINISHED = frozenset({"Complete", "Failed"})


def saved_suspend(workload: Workload) -> bool | None:
    raw = workload.annotations.get(c.ORIGINAL_SUSPEND)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise CorruptAnnotationError(f'{c.ORIGINAL_SUSPEND}="{raw}" is not "true" or "false"')
    return raw == "true"


def _finished(item: Mapping[str, Any]) -> bool:
    conditions = as_mapping(item.get("status")).get("conditions")
    return isinstance(conditions, list) and any(
        isinstance(cond, Mapping) and cond.get("type") in _FINISHED and cond.get("status") == "True"
        for cond in conditions
    )


@dataclass(frozen=True)
class Suspend:
    kind: Kind
    api: KindApi
    #: Where the pod template is, below ``spec``: ``("jobTemplate", "spec")`` for a CronJob.
    template_path: tuple[str, ...] = ()
    #: Runs to completion (a Job): a finished one has nothing to suspend.
    finishes: bool = False
    note: str = ""
    field: str = FIELD
    saved_key: str = c.ORIGINAL_SUSPEND
    down_means: str = "`spec.suspend: true`"
    foreign_keys: frozenset[str] = frozenset()

    def observe(self, item: Mapping[str, Any]) -> Observed:
        spec = as_mapping(item.get("spec"))
        return Observed(
            suspend=spec.get("suspend") is True,
            finished=self.finishes and _finished(item),
        )

    def pod_spec(self, spec: Mapping[str, Any]) -> Mapping[str, Any] | None:
        for key in self.template_path:
            spec = as_mapping(spec.get(key))
        return pod_template_spec(spec)

    def down(self, workload: Workload, ctx: Context) -> Action:
        held = saved_suspend(workload) is not None
        if workload.suspend:
            return noop(workload) if held else skip(workload, SkipReason.ALREADY_SUSPENDED)
        if workload.finished and not held:
            return skip(workload, SkipReason.FINISHED)
        if not held and too_young(workload, ctx):
            return skip(workload, SkipReason.GRACE_PERIOD)
        annotations = {} if held else {c.ORIGINAL_SUSPEND: "false", **stamp(ctx)}
        return Action(
            ActionType.SHUTDOWN, workload, FIELD, False, True,
            Patch(suspend=True, annotations=annotations),
        )  # fmt: skip

    def up(self, workload: Workload) -> Action:
        saved = saved_suspend(workload)
        if saved is None or saved or not workload.suspend:
            return release(workload, FIELD, bool(workload.suspend))
        return Action(
            ActionType.RESTORE, workload, FIELD, True, False,
            Patch(suspend=False, annotations=CLEAR_OWN),
        )  # fmt: skip

    def is_running(self, workload: Workload) -> bool:
        return not workload.suspend and not workload.finished

    def is_ready(self, workload: Workload) -> bool:
        """Resumed: a CronJob or a Job has no readiness of its own to wait for."""
        return not workload.suspend

    def change(self, before: FieldValue, after: FieldValue) -> str:
        if before == after:
            return "kept suspended" if after else "kept running"
        return "suspended" if after else "resumed"

    def held_replicas(self, workload: Workload) -> int:
        return 0
