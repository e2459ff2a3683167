"""Kubernetes Events for what a run did to each workload (``--events``), best effort.

Once a namespace is converged, each workload the run wrote gets one Event with the *final*
outcome: a shutdown that was then rolled back gets ``RolledBack``, never ``ScaledDown``. So
``kubectl describe deployment api`` tells the people who own it why their pods are gone, by which
schedule and which run. Only real writes are announced: never a dry run, never a skip.

| outcome | reason | type |
|---|---|---|
| shutdown applied | ``ScaledDown`` | Normal |
| restore applied | ``Restored`` | Normal |
| release applied (someone already brought it back) | ``Released`` | Normal |
| shutdown failed | ``ScaleDownFailed`` | Warning |
| restore or release failed | ``RestoreFailed`` | Warning |
| shutdown undone (its namespace failed) | ``RolledBack`` | Warning |
| shutdown whose undo failed | ``RollbackFailed`` | Warning |

An Event that cannot be created never changes an outcome, the report or the exit code: the first
failure of a run is a warning line, later ones are debug lines.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime

from nsshutdown.errors import CircuitOpenError
from nsshutdown.model import Action, ActionType, Reason, WorkloadEvent
from nsshutdown.run.cluster import Cluster
from nsshutdown.run.report import ActionResult, NamespaceReport, Outcome

logger = logging.getLogger(__name__)

#: (action type, outcome) -> (reason, action, warning)
_EVENTS: dict[tuple[ActionType, Outcome], tuple[str, str, bool]] = {
    (ActionType.SHUTDOWN, Outcome.APPLIED): ("ScaledDown", "ScaleDown", False),
    (ActionType.RESTORE, Outcome.APPLIED): ("Restored", "Restore", False),
    (ActionType.RELEASE, Outcome.APPLIED): ("Released", "Release", False),
    (ActionType.SHUTDOWN, Outcome.FAILED): ("ScaleDownFailed", "ScaleDown", True),
    (ActionType.RESTORE, Outcome.FAILED): ("RestoreFailed", "Restore", True),
    (ActionType.RELEASE, Outcome.FAILED): ("RestoreFailed", "Release", True),
    (ActionType.SHUTDOWN, Outcome.ROLLED_BACK): ("RolledBack", "RollBack", True),
}
_ROLLBACK_FAILED = ("RollbackFailed", "RollBack", True)


def events_for(report: NamespaceReport, *, run_id: str, at: datetime) -> Iterator[WorkloadEvent]:
    """The Events announcing ``report``'s writes (pure)."""
    plan = report.plan
    why = plan.reason.value
    if plan.schedule and plan.reason is not Reason.MANUAL:
        why = f"schedule {plan.schedule}"
    for result in report.results:
        kind = _EVENTS.get((result.action.type, result.outcome))
        if kind is None:
            continue
        if result.outcome is Outcome.APPLIED and result.error:
            kind = _ROLLBACK_FAILED  # applied, then its namespace failed and the undo failed too
        reason, verb, warning = kind
        note = f"nsshutdown: {_change(reason, result)} ({why}, run {run_id})"
        yield WorkloadEvent(result.action.workload, reason, verb, note, at, warning=warning)


def _change(reason: str, result: ActionResult) -> str:
    action = result.action
    if reason == "Released":
        now = _show(action.to_value)
        now = f"{now} replicas" if action.field == "spec.replicas" else f"{action.field} {now}"
        return f"released {action.ref}: left at {now} as someone set it; saved state removed"
    if reason.endswith("Failed") and reason != "RollbackFailed":
        return f"could not {_what(action, done=False)}: {result.error}"
    change = _what(action, done=True)
    if reason == "RolledBack":
        return f"{change}, then rolled it back: {result.error or 'its namespace failed'}"
    if reason == "RollbackFailed":
        return f"{change}; its namespace failed and the roll-back failed: {result.error}"
    return change


def _what(action: Action, *, done: bool) -> str:
    """``scaled Deployment dev-a/api from 3 to 0`` (or, not ``done``, ``scale ...``)."""
    before, after = _show(action.from_value), _show(action.to_value)
    if action.field == "spec.suspend":
        verb = "suspend" if action.to_value else "resume"
        return f"{verb}{('ed' if action.to_value else 'd') if done else ''} {action.ref}"
    verb = "restore" if action.type is ActionType.RESTORE else "scale"
    verb += "d" if done else ""
    if action.field == "spec.replicas":
        return f"{verb} {action.ref} from {before} to {after}"
    verb = "set" if action.type is ActionType.SHUTDOWN else verb
    return f"{verb} {action.field} of {action.ref} from {before} to {after}"


def _show(value: object) -> str:
    return "unset" if value is None else str(value).lower()


class Recorder:
    """Sends the Events of each namespace as soon as it is done. Never raises."""

    def __init__(self, cluster: Cluster, *, run_id: str, clock: Callable[[], datetime]) -> None:
        self._cluster = cluster
        self._run_id = run_id
        self._clock = clock
        self._lock = threading.Lock()
        self.sent = 0
        self.failed = 0

    def namespace(self, report: NamespaceReport) -> None:
        try:
            for event in events_for(report, run_id=self._run_id, at=self._clock()):
                self._emit(event)
        except Exception:  # an Event must never change what the run did
            logger.warning("events for namespace %s: internal error", report.plan.namespace,
                           exc_info=True)  # fmt: skip

    def _emit(self, event: WorkloadEvent) -> None:
        try:
            self._cluster.emit_event(event)
        except Exception as err:  # best effort: logged, counted, never raised
            with self._lock:
                self.failed += 1
                first = self.failed == 1
            quiet = isinstance(err, CircuitOpenError) or not first
            logger.log(
                logging.DEBUG if quiet else logging.WARNING,
                "event %s on %s not created: %s%s", event.reason, event.workload.ref, err,
                "" if quiet else " (later event failures of this run are logged at debug)",
            )  # fmt: skip
            return
        with self._lock:
            self.sent += 1
        logger.debug("event %s on %s created", event.reason, event.workload.ref)
