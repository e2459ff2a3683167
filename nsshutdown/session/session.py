"""The wiring every cluster command shares: schedule, connection, observation, plan, execution.

Order matters and is the same for every command: a schedule FILE is validated before anything
connects (bad input never touches the cluster); a ``--configmap`` schedule is the run's first
read; then one observation, one plan for ``now`` (read once, by the command), one execution.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from nsshutdown import constants as c
from nsshutdown.errors import ConfigError, NotFoundError, UsageError
from nsshutdown.kube.limits import Limits
from nsshutdown.model import ClusterState, Desired, Namespace, Plan
from nsshutdown.plan import planner, tiers
from nsshutdown.run.cluster import Cluster
from nsshutdown.run.executor import NamespaceAnnotations, execute, merge_reports
from nsshutdown.run.report import DryRun, RunReport
from nsshutdown.schedule.config import Schedule, load_schedule, load_schedule_text
from nsshutdown.session.sources import ScheduleSource, parse_configmap_ref

if TYPE_CHECKING:
    from nsshutdown.session.check import Preflight

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClusterOptions:
    kubeconfig: Path | None = None
    context: str | None = None
    limits: Limits = field(default_factory=Limits)
    scope: tuple[str, ...] = ()  # --scope-namespaces: confine every read and write to these


def connect(options: ClusterOptions) -> Cluster:
    """The cluster a command talks to (tests replace this function with a fake)."""
    from nsshutdown.kube.client import KubeCluster  # noqa: PLC0415 - only commands that connect

    return KubeCluster.connect(
        kubeconfig=options.kubeconfig,
        context=options.context,
        limits=options.limits,
        scope=options.scope,
    )


def connect_preflight(
    options: ClusterOptions, *, as_service_account: tuple[str, str] | None = None
) -> Preflight:
    """What ``nsshutdown check`` asks the cluster (tests replace this function with a fake)."""
    from nsshutdown.kube.client import KubeCluster  # noqa: PLC0415 - only commands that connect
    from nsshutdown.kube.preflight import KubePreflight  # noqa: PLC0415

    cluster = KubeCluster.connect(
        kubeconfig=options.kubeconfig, context=options.context, limits=options.limits
    )
    return KubePreflight(cluster, as_service_account=as_service_account)


def live_namespaces(options: ClusterOptions) -> tuple[Namespace, ...]:
    """The namespaces that exist (each of ``options.scope`` that exists, with a scope)."""
    return connect(options).observe(()).namespaces


@dataclass
class Session:
    schedule: Schedule
    cluster: Cluster
    now: datetime
    own_namespace: str | None = None
    concurrency: int = Limits.concurrency
    #: monotonic time when the command started, to time the whole run (observation included)
    started: float = field(default_factory=time.monotonic)
    #: Set when the command is asked to stop (SIGTERM): no namespace is started after it.
    stop: threading.Event = field(default_factory=threading.Event)

    def _clock(self) -> datetime:
        """Wall-clock time for the run's duration only; decisions use ``now``."""
        return self.now + timedelta(seconds=time.monotonic() - self.started)

    def observe(self, *, pods: bool = False) -> ClusterState:
        """Every kind, whatever the schedule names: a kind dropped from it must still restore."""
        return self.cluster.observe(self.schedule.kinds, pods=pods)

    def plan(
        self,
        state: ClusterState,
        *,
        overrides: Mapping[str, Desired] | None = None,
        only: Collection[str] | None = None,
        at: datetime | None = None,
    ) -> Plan:
        """The plan for ``now`` (``at``: a later pass of the same command)."""
        return planner.plan(
            self.schedule,
            state,
            at or self.now,
            own_namespace=self.own_namespace,
            overrides=overrides,
            only=only,
        )

    def converge(
        self,
        plan: Plan,
        *,
        dry_run: DryRun,
        run_id: str,
        wake_wait: timedelta,
        overrides: Mapping[str, Desired] | None = None,
        annotations: NamespaceAnnotations | None = None,
        events: bool = False,
    ) -> RunReport:
        """Execute ``plan`` (made with ``overrides``); then, while a wake-up tier holds restores
        back and ``wake_wait`` has not passed, look again every few seconds and go on with the
        namespaces that were waiting.

        Each pass is an ordinary level-triggered run (observe, plan for the time it is now,
        execute), so stopping at any point loses nothing: the next run goes on from there.
        """
        report = self.execute(
            plan, dry_run=dry_run, run_id=run_id, annotations=annotations, events=events
        )
        deadline = _monotonic() + wake_wait.total_seconds()
        waiting = tiers.waiting(plan)
        while waiting and dry_run is DryRun.NONE and not report.circuit_open:
            left = deadline - _monotonic()
            if left <= 0 or self.stop.is_set():
                break
            _sleep(min(TIER_POLL_SECONDS, left), self.stop)
            if self.stop.is_set():
                break
            plan = self.plan(self.observe(), overrides=overrides, only=waiting, at=self._clock())
            later = self.execute(plan, dry_run=dry_run, run_id=run_id, events=events)
            report = merge_reports(report, later)
            waiting = tiers.waiting(plan)
        if waiting:
            logger.info(
                "wake-up tiers still waiting in %s: the next run goes on", ", ".join(waiting)
            )
        return report

    def execute(
        self,
        plan: Plan,
        *,
        dry_run: DryRun,
        run_id: str,
        annotations: NamespaceAnnotations | None = None,
        events: bool = False,
    ) -> RunReport:
        """``events``: announce each write as a Kubernetes Event (never in a dry run)."""
        return execute(
            plan,
            self.cluster,
            dry_run=dry_run,
            concurrency=self.concurrency,
            namespace_annotations=annotations,
            run_id=run_id,
            clock=self._clock,
            started=self.now,
            events=events,
            stop=self.stop,
        )


#: How often a command waiting on a wake-up tier looks again.
TIER_POLL_SECONDS = 5.0


def _sleep(seconds: float, stop: threading.Event) -> None:
    """Wait ``seconds``, or less when the command is asked to stop."""
    stop.wait(seconds)


def _monotonic() -> float:
    return time.monotonic()


def open_session(
    source: ScheduleSource, options: ClusterOptions, *, now: datetime, schedule_required: bool
) -> Session:
    """Load the schedule (a file before connecting) and connect."""
    if source.file is not None and source.configmap is not None:
        raise UsageError("give --schedule or --configmap, not both")
    schedule = load_schedule(source.file) if source.file is not None else None
    if schedule is None and source.configmap is None:
        if schedule_required:
            raise UsageError(
                "give the schedule: --schedule FILE or --configmap NAMESPACE/NAME[:KEY]"
            )
        schedule = Schedule()  # defaults only: manual commands work without a schedule
    if source.configmap is not None:
        parse_configmap_ref(source.configmap)  # bad input stops us before connecting
    cluster = connect(options)
    if schedule is None:
        schedule = _schedule_from_configmap(cluster, str(source.configmap))
    own = os.environ.get(c.POD_NAMESPACE_ENV) or None
    return Session(
        schedule=schedule,
        cluster=cluster,
        now=now,
        own_namespace=own,
        concurrency=options.limits.concurrency,
    )


def _schedule_from_configmap(cluster: Cluster, ref: str) -> Schedule:
    namespace, name, key = parse_configmap_ref(ref)
    try:
        text = cluster.read_configmap(namespace, name, key)
    except NotFoundError as err:
        raise ConfigError(f"configmap {namespace}/{name}: {err}") from None
    return load_schedule_text(text, source=f"configmap {namespace}/{name}:{key}")
