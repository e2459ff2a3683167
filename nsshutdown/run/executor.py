"""Apply a :class:`~nsshutdown.model.Plan` to a cluster and report what became of every action.

- Namespaces are converged concurrently (bounded); one namespace's failure never stops another.
- Shutting a namespace down is all-or-nothing: when a shutdown write fails after retries, the
  namespace's remaining writes are not attempted and the shutdowns already made in this run are
  undone (``model.inverse_patch``), so the namespace is left as it was found, and reported FAILED.
  Restores are never undone: a half-restored namespace is closer to what was wanted.
- A 409 means the object changed since it was listed: read it again, decide again with the same
  :class:`~nsshutdown.plan.decisions.Context`, and try again (a bounded number of times).
- ERROR actions (a corrupt saved value) are reported and counted; the other workloads converge.
- When the circuit breaker opens, writing stops: what is left is NOT_ATTEMPTED, nothing is undone
  (every shutdown patch carried its saved count, so the next run heals).
- Client dry-run sends nothing; server dry-run sends every write with ``dryRun=All``.
- With ``events``, each namespace's writes are announced as Kubernetes Events once it is done
  (``nsshutdown.run.recorder``): best effort, never in a dry run, never changing an outcome.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime

from nsshutdown.errors import ApiError, CircuitOpenError, ConflictError, NotFoundError
from nsshutdown.model import Action, ActionType, Desired, NamespacePlan, Plan
from nsshutdown.plan.decisions import decide
from nsshutdown.run.cluster import Cluster
from nsshutdown.run.holdings import holdings_from_workloads, workloads_after
from nsshutdown.run.recorder import Recorder
from nsshutdown.run.report import (
    ActionResult,
    DryRun,
    NamespaceReport,
    NamespaceStatus,
    Outcome,
    RunReport,
)
from nsshutdown.run.rollback import Applied, undo

logger = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8
DEFAULT_MAX_CONFLICTS = 3
NamespaceAnnotations = Mapping[str, Mapping[str, str | None]]


def execute(
    plan: Plan,
    cluster: Cluster,
    *,
    dry_run: DryRun = DryRun.NONE,
    concurrency: int = DEFAULT_CONCURRENCY,
    max_conflicts: int = DEFAULT_MAX_CONFLICTS,
    namespace_annotations: NamespaceAnnotations | None = None,
    run_id: str | None = None,
    clock: Callable[[], datetime] | None = None,
    started: datetime | None = None,
    events: bool = False,
    stop: threading.Event | None = None,
) -> RunReport:
    """Converge every namespace of ``plan``; ``namespace_annotations`` are written first, per
    namespace (``None`` deletes a key), e.g. ``keep-up-until`` for ``wake``.

    ``clock`` and ``started`` only time the run (the command's start may precede the execution)
    and date its Events; decisions use ``plan.at``. Once ``stop`` is set (SIGTERM) no namespace
    is started: those in progress finish (all or nothing), the others are ``not-attempted``.
    """
    clock = clock or (lambda: plan.at)
    started = started or clock()
    run_id = run_id or uuid.uuid4().hex
    announce = events and dry_run is DryRun.NONE  # a dry run is never announced
    recorder = Recorder(cluster, run_id=run_id, clock=clock) if announce else None
    run = _Run(cluster, dry_run=dry_run, max_conflicts=max_conflicts, recorder=recorder)
    run.stop = stop or threading.Event()
    annotations = namespace_annotations or {}
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        futures = [
            pool.submit(run.namespace, ns, annotations.get(ns.namespace, {}))
            for ns in plan.namespaces
        ]
        reports = tuple(future.result() for future in futures)
    holdings = holdings_from_workloads(w for ns in reports for w in workloads_after(ns))
    return RunReport(
        run_id=run_id,
        started=started,
        finished=clock(),
        dry_run="" if dry_run is DryRun.NONE else dry_run.value,
        namespaces=reports,
        holdings=holdings,
        # the breaker itself is the truth: it may have opened where no write saw it (a rollback)
        circuit_open=run.circuit_open.is_set() or cluster.circuit_open,
        api_requests=cluster.api_requests,
        stopped=run.stop.is_set(),
    )


def merge_reports(first: RunReport, later: RunReport) -> RunReport:
    """One report for a command that converged twice (a later wake-up tier in the same command):
    for each namespace ``later`` converged again, its results replace ``first``'s for the same
    workloads; a namespace failed in either failed."""
    again = {ns.plan.namespace: ns for ns in later.namespaces}
    merged = tuple(_merged(ns, again[ns.plan.namespace]) if ns.plan.namespace in again else ns
                   for ns in first.namespaces)  # fmt: skip
    holdings = holdings_from_workloads(w for ns in merged for w in workloads_after(ns))
    return replace(
        first,
        finished=later.finished,
        namespaces=merged,
        holdings=holdings,
        circuit_open=first.circuit_open or later.circuit_open,
        api_requests=later.api_requests,
        stopped=first.stopped or later.stopped,
    )


def _merged(first: NamespaceReport, later: NamespaceReport) -> NamespaceReport:
    redone = {r.action.ref for r in later.results}
    results = (*(r for r in first.results if r.action.ref not in redone), *later.results)
    statuses = {first.status, later.status}
    if NamespaceStatus.FAILED in statuses:
        status = NamespaceStatus.FAILED
    elif NamespaceStatus.CONVERGED in statuses:
        status = NamespaceStatus.CONVERGED
    else:
        status = later.status
    error = "; ".join(e for e in (first.error, later.error) if e)
    return NamespaceReport(later.plan, status, results, error)


@dataclass
class _Progress:
    """One namespace's results so far, in plan order."""

    results: list[ActionResult]
    applied: list[Applied]
    aborted: str = ""  # why the remaining writes are not attempted
    annotated: bool = False  # the namespace's own annotations were written


class _Run:
    def __init__(
        self, cluster: Cluster, *, dry_run: DryRun, max_conflicts: int, recorder: Recorder | None
    ) -> None:
        self.cluster = cluster
        self.dry_run = dry_run
        self.max_conflicts = max_conflicts
        self.recorder = recorder
        self.circuit_open = threading.Event()
        self.stop = threading.Event()

    def namespace(
        self, plan: NamespacePlan, annotations: Mapping[str, str | None]
    ) -> NamespaceReport:
        """The per-namespace boundary: nothing raised here reaches another namespace."""
        try:
            report = self._namespace(plan, annotations)
        except Exception as err:
            logger.exception("namespace %s: internal error", plan.namespace)
            return NamespaceReport(plan, NamespaceStatus.FAILED, error=f"internal error: {err}")
        if self.recorder is not None:
            self.recorder.namespace(report)  # never raises
        return report

    def _namespace(
        self, plan: NamespacePlan, annotations: Mapping[str, str | None]
    ) -> NamespaceReport:
        if plan.error:
            return NamespaceReport(plan, NamespaceStatus.FAILED, error=plan.error)
        if not annotations and not any(a.writes for a in plan.actions):
            return _finish(plan, _Progress([_skipped(a) for a in plan.actions], []))
        if self.circuit_open.is_set():
            return _not_attempted(plan, "circuit open: not attempted")
        if self.stop.is_set():
            return _not_attempted(plan, "the run was stopped (SIGTERM) first: the next run does it")
        error = self._annotate(plan.namespace, annotations)
        if error:
            return _not_attempted(plan, error, status=NamespaceStatus.FAILED)
        progress = _Progress([], [], annotated=bool(annotations))
        for action in plan.actions:
            progress.results.append(self._one(action, progress))
            failed = progress.results[-1]
            if failed.outcome is Outcome.FAILED and not progress.aborted:
                self._on_failure(plan, failed, progress)
        return _finish(plan, progress)

    def _one(self, action: Action, progress: _Progress) -> ActionResult:
        if not action.writes:
            return _skipped(action)
        if progress.aborted:
            return ActionResult(action, Outcome.NOT_ATTEMPTED, progress.aborted)
        if self.circuit_open.is_set():
            return ActionResult(action, Outcome.NOT_ATTEMPTED, "circuit open: not attempted")
        if self.dry_run is DryRun.CLIENT:
            _log(action, "would")
            return ActionResult(action, Outcome.DRY_RUN)
        result, applied = self._write(action)
        if applied is not None:
            applied.index = len(progress.results)
            progress.applied.append(applied)
        return result

    def _on_failure(self, plan: NamespacePlan, failed: ActionResult, progress: _Progress) -> None:
        """All-or-nothing: a failed shutdown in a namespace going down undoes its shutdowns."""
        if plan.desired is not Desired.DOWN or failed.action.type is not ActionType.SHUTDOWN:
            return
        progress.aborted = f"not attempted: {failed.action.ref} failed, namespace rolled back"
        if self.circuit_open.is_set() or self.dry_run is not DryRun.NONE:
            return  # nothing to undo in a dry run; no writing once the circuit is open
        for done in reversed(progress.applied):
            if done.action.type is not ActionType.SHUTDOWN:
                continue
            if self.circuit_open.is_set():
                error = "not rolled back: circuit open (its saved count is on it)"
            else:
                error = undo(self.cluster, done, max_conflicts=self.max_conflicts)
                if self.cluster.circuit_open:
                    self.circuit_open.set()
            old = progress.results[done.index]
            outcome = Outcome.APPLIED if error else Outcome.ROLLED_BACK
            progress.results[done.index] = ActionResult(old.action, outcome, error, old.conflicts)

    def _annotate(self, namespace: str, annotations: Mapping[str, str | None]) -> str:
        if not annotations or self.dry_run is DryRun.CLIENT:
            return ""
        try:
            self.cluster.annotate_namespace(
                namespace, annotations, dry_run=self.dry_run is DryRun.SERVER
            )
        except ApiError as err:
            if isinstance(err, CircuitOpenError):
                self.circuit_open.set()
            return f"annotating namespace failed: {err}"
        said = ", ".join(
            f"{key} removed" if value is None else f"{key}={value}"
            for key, value in sorted(annotations.items())
        )
        logger.info("namespace %s: %s", namespace, said)
        return ""

    def _write(self, action: Action) -> tuple[ActionResult, Applied | None]:
        """Patch, re-reading and deciding again after each 409."""
        current, conflicts = action, 0
        while current.patch is not None:
            try:
                after = self.cluster.patch_workload(
                    current.workload, current.patch, dry_run=self.dry_run is DryRun.SERVER
                )
            except ConflictError as err:
                if conflicts >= self.max_conflicts or current.context is None:
                    return ActionResult(current, Outcome.FAILED, str(err), conflicts), None
                conflicts += 1
                logger.info("%s changed since it was read (409): deciding again", current.ref)
                try:
                    fresh = self.cluster.get_workload(current.ref)
                except ApiError as reread:
                    return self._failed(current, reread, conflicts), None
                current = decide(fresh, current.context)
                continue
            except ApiError as err:
                return self._failed(current, err, conflicts), None
            _log(current, "did")
            outcome = Outcome.APPLIED if self.dry_run is DryRun.NONE else Outcome.DRY_RUN
            applied = Applied(current, before=current.workload, after=after)
            return ActionResult(current, outcome, "", conflicts), applied
        return ActionResult(current, Outcome.SKIPPED, "", conflicts), None

    def _failed(self, action: Action, err: ApiError, conflicts: int) -> ActionResult:
        if isinstance(err, NotFoundError):
            return ActionResult(action, Outcome.SKIPPED, "deleted since it was listed", conflicts)
        if isinstance(err, CircuitOpenError):
            self.circuit_open.set()
            if err.__cause__ is None:  # refused before sending: the breaker was already open
                return ActionResult(action, Outcome.NOT_ATTEMPTED, str(err), conflicts)
        logger.error("%s: %s failed: %s", action.ref, action.type, err)
        return ActionResult(action, Outcome.FAILED, str(err), conflicts)


def _skipped(action: Action) -> ActionResult:
    return ActionResult(action, Outcome.SKIPPED, action.message)


def _not_attempted(
    plan: NamespacePlan, error: str, *, status: NamespaceStatus = NamespaceStatus.NOT_ATTEMPTED
) -> NamespaceReport:
    results = tuple(
        ActionResult(a, Outcome.NOT_ATTEMPTED) if a.writes else _skipped(a) for a in plan.actions
    )
    return NamespaceReport(plan, status, results, error)


def _finish(plan: NamespacePlan, progress: _Progress) -> NamespaceReport:
    results = tuple(progress.results)
    failed = [
        r for r in results if r.outcome is Outcome.FAILED or r.action.type is ActionType.ERROR
    ]
    if failed:
        status, error = NamespaceStatus.FAILED, "; ".join(_describe(r) for r in failed)
    elif progress.annotated or any(
        r.outcome in (Outcome.APPLIED, Outcome.DRY_RUN) for r in results
    ):
        status, error = NamespaceStatus.CONVERGED, ""
    elif any(r.outcome is Outcome.NOT_ATTEMPTED for r in results):
        status, error = NamespaceStatus.NOT_ATTEMPTED, progress.aborted
    else:
        status, error = NamespaceStatus.UNCHANGED, ""
    return NamespaceReport(plan, status, results, error)


def _describe(result: ActionResult) -> str:
    return f"{result.action.ref}: {result.error or result.action.message or result.action.type}"


def _log(action: Action, verb: str) -> None:
    """A debug line at write time; the command logs each outcome with its fields afterwards."""
    prefix = "" if verb == "did" else "(dry run) "
    logger.debug(
        "%s%s %s: %s -> %s", prefix, action.type, action.ref, action.from_value, action.to_value
    )
