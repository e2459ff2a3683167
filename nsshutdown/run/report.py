"""What a run did: the executor fills a :class:`RunReport`; metrics, logs and the CLI read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from nsshutdown.errors import ExitCode
from nsshutdown.model import Action, ActionType, NamespacePlan, Resources


class Outcome(StrEnum):
    APPLIED = "applied"  # written to the API server
    DRY_RUN = "dry-run"  # would have been written (client dry-run) / accepted with dryRun=All
    FAILED = "failed"  # the write failed after retries
    ROLLED_BACK = "rolled-back"  # applied, then undone because its namespace failed
    NOT_ATTEMPTED = "not-attempted"  # the circuit breaker opened first, or the namespace failed
    SKIPPED = "skipped"  # nothing to write: SKIP and ERROR actions (see the action's reason)


class NamespaceStatus(StrEnum):
    CONVERGED = "converged"
    FAILED = "failed"
    UNCHANGED = "unchanged"
    NOT_ATTEMPTED = "not-attempted"  # the circuit breaker opened before it was processed


class DryRun(StrEnum):
    """``--dry-run``: NONE writes; CLIENT sends nothing; SERVER sends writes with ``dryRun=All``."""

    NONE = "none"
    CLIENT = "client"
    SERVER = "server"


@dataclass(frozen=True)
class ActionResult:
    """What became of one action. After a 409 ``action`` is the one decided again on the re-read
    workload, and ``conflicts`` counts the re-reads."""

    action: Action
    outcome: Outcome
    error: str = ""
    conflicts: int = 0


@dataclass(frozen=True)
class NamespaceReport:
    plan: NamespacePlan
    status: NamespaceStatus
    results: tuple[ActionResult, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class Holding:
    """Replicas a namespace has held down right now, and the requests they would use."""

    namespace: str
    replicas: int = 0
    requests: Resources = field(default_factory=Resources)  # total over all held replicas


@dataclass(frozen=True)
class RunReport:
    run_id: str
    started: datetime
    finished: datetime
    dry_run: str = ""  # "", "client" or "server"
    namespaces: tuple[NamespaceReport, ...] = ()
    holdings: tuple[Holding, ...] = field(default=())
    circuit_open: bool = False
    api_requests: int = 0
    #: The run was asked to stop (SIGTERM, e.g. at the CronJob's deadline): namespaces not started
    #: by then are ``not-attempted``, and the next run does them.
    stopped: bool = False

    @property
    def duration_seconds(self) -> float:
        return (self.finished - self.started).total_seconds()

    @property
    def failed_namespaces(self) -> tuple[NamespaceReport, ...]:
        return tuple(ns for ns in self.namespaces if ns.status is NamespaceStatus.FAILED)

    @property
    def errors(self) -> int:
        """Failed writes plus workloads with an ERROR decision (e.g. corrupt annotations)."""
        failed = sum(
            1
            for ns in self.namespaces
            for r in ns.results
            if r.outcome is Outcome.FAILED or r.action.type is ActionType.ERROR
        )
        return failed + sum(1 for ns in self.namespaces if ns.error and not ns.results)

    @property
    def succeeded(self) -> bool:
        return (
            self.errors == 0
            and not self.failed_namespaces
            and not self.circuit_open
            and not self.stopped
        )

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.succeeded else ExitCode.PARTIAL
