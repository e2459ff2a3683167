"""The wiring every cluster command shares: schedule, connection, observation, plan, execution.

Order matters and is the same for every command: a schedule FILE is validated before anything
connects (bad input never touches the cluster); a ``--configmap`` schedule is the run's first
read; then one observation, one plan for ``now`` (read once, by the command), one execution.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from nsshutdown import constants as c
from nsshutdown.errors import ConfigError, NotFoundError, UsageError
from nsshutdown.kube.resilience import Limits
from nsshutdown.model import ClusterState, Desired, Namespace, Plan
from nsshutdown.plan import planner
from nsshutdown.run.cluster import Cluster
from nsshutdown.run.executor import NamespaceAnnotations, execute
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
    ) -> Plan:
        return planner.plan(
            self.schedule,
            state,
            self.now,
            own_namespace=self.own_namespace,
            overrides=overrides,
            only=only,
        )

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
        )


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
