"""The metrics a run pushes: a machine-readable spec (:data:`METRICS`) and a pure registry builder.

The names, labels and units are a contract (alert rules, dashboards and docs import
:data:`METRICS`). Gauges only: a job that starts fresh every run has no counters worth keeping.

Stale series. The Pushgateway keeps what it was sent until told otherwise: ``pushadd`` (POST)
replaces only the metric names it carries, and a name with no samples is not replaced at all
(measured on Pushgateway 1.5.1: the old series stay). So:

- a successful run pushes with ``push`` (PUT): the whole group is replaced by a complete
  snapshot, and a namespace or action gone from this run is gone from the gateway;
- a failed run pushes with ``pushadd`` (POST) and leaves
  ``nsshutdown_last_success_timestamp_seconds`` out, so the previous success time survives;
- to make the POST complete too, no metric name is ever pushed empty: ``nsshutdown_namespaces``
  has a series for every state, ``nsshutdown_last_run_actions`` one for every written action type
  x kind (0 included), and every per-namespace metric one per *tracked* namespace (0 included).
  A failed run always has a tracked namespace (the one that failed), so it replaces those too.

``nsshutdown_namespace_next_transition_timestamp_seconds`` is the exception: it has a series only
for a namespace whose next transition is known (:mod:`nsshutdown.observe.transitions`). A failed
run in which no namespace has one leaves the previous series until the next successful run; they
name instants that pass, and the advance-notice alert only looks at instants still ahead.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from nsshutdown.errors import ExitCode
from nsshutdown.model import ActionType, Kind, Namespace
from nsshutdown.observe.outcomes import NamespaceOutcome, NamespaceState, namespace_outcomes
from nsshutdown.observe.push_options import MetricsOptions
from nsshutdown.observe.pushgateway import JOB, push, read_password
from nsshutdown.observe.savings import Prices, hourly_cost
from nsshutdown.observe.transitions import next_transitions, teams
from nsshutdown.run.holdings import DONE_OUTCOMES
from nsshutdown.run.report import RunReport

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Gauge

__all__ = [
    "JOB",
    "METRICS",
    "METRIC_NAMES",
    "MetricSpec",
    "MetricsOptions",
    "build_registry",
    "exit_code",
    "push",
    "push_report",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MetricSpec:
    """One pushed metric. Every metric is a gauge; ``unit`` is for docs (names carry base units)."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    unit: str = ""
    success_only: bool = False  # pushed only by a run that succeeded


_NS = ("namespace",)
_NS_SCHEDULE = ("namespace", "schedule")
#: Labels of the advance-notice gauge (:mod:`nsshutdown.observe.transitions`).
TRANSITION_LABELS: Final = ("namespace", "schedule", "direction", "team")

METRICS: Final[tuple[MetricSpec, ...]] = (
    MetricSpec(
        "nsshutdown_last_run_timestamp_seconds",
        "When the last run finished (Unix time).",
        unit="seconds",
    ),
    MetricSpec(
        "nsshutdown_last_success_timestamp_seconds",
        "When the last successful run finished (Unix time). Pushed only by successful runs.",
        unit="seconds",
        success_only=True,
    ),
    MetricSpec("nsshutdown_run_duration_seconds", "How long the last run took.", unit="seconds"),
    MetricSpec(
        "nsshutdown_namespaces",
        "Namespaces by state after the last run (up, down, partial, excluded, failed).",
        ("state",),
        unit="namespaces",
    ),
    MetricSpec(
        "nsshutdown_namespace_down",
        "1 when the namespace is down or partially down after the last run, else 0.",
        _NS_SCHEDULE,
    ),
    MetricSpec(
        "nsshutdown_namespace_desired_down",
        "1 when the namespace's schedule (or an override) wants it down now, else 0.",
        _NS_SCHEDULE,
    ),
    MetricSpec(
        "nsshutdown_namespace_next_transition_timestamp_seconds",
        "When the namespace's desired state next changes (Unix time), and which way: direction"
        " is down or up. Only namespaces whose next transition is known (a schedule or a hold"
        " ends) have a series. team is the value of the namespace's --team-label label (default"
        " team), empty when it has none.",
        TRANSITION_LABELS,
        unit="seconds",
    ),
    MetricSpec(
        "nsshutdown_last_run_actions",
        "Actions done by the last run (would be done, in a dry run), by action and kind.",
        ("action", "kind"),
        unit="actions",
    ),
    MetricSpec(
        "nsshutdown_last_run_errors",
        "Failed writes and undecidable workloads in the last run.",
        unit="errors",
    ),
    MetricSpec(
        "nsshutdown_replicas_held", "Replicas held down in the namespace.", _NS, unit="replicas"
    ),
    MetricSpec(
        "nsshutdown_cpu_cores_saved",
        "CPU requests of the replicas held down (requests-based estimate).",
        _NS,
        unit="cores",
    ),
    MetricSpec(
        "nsshutdown_memory_bytes_saved",
        "Memory requests of the replicas held down (requests-based estimate).",
        _NS,
        unit="bytes",
    ),
    MetricSpec(
        "nsshutdown_estimated_hourly_savings",
        "Hourly price of the held requests at the configured prices (requests-based estimate).",
        _NS,
        unit="currency per hour",
    ),
    MetricSpec(
        "nsshutdown_build_info", "Always 1; the version label tells which build ran.", ("version",)
    ),
    MetricSpec(
        "nsshutdown_circuit_breaker_open",
        "1 when the last run stopped writing after repeated API failures.",
    ),
    MetricSpec(
        "nsshutdown_last_run_api_requests", "API requests made by the last run.", unit="requests"
    ),
    MetricSpec(
        "nsshutdown_last_run_exit_code", "Exit code of the last run (0 ok, 2 partial, ...)."
    ),
    MetricSpec(
        "nsshutdown_last_run_dry_run", "1 when the last run was a dry run (nothing written)."
    ),
)

METRIC_NAMES: Final = frozenset(spec.name for spec in METRICS)
#: Action types that write, each with a series in ``nsshutdown_last_run_actions`` (0 included).
WRITE_ACTIONS: Final = (ActionType.SHUTDOWN, ActionType.RESTORE, ActionType.RELEASE)


def build_registry(
    report: RunReport,
    *,
    prices: Prices,
    version: str,
    team_of: Mapping[str, str] | None = None,
) -> CollectorRegistry:
    """A fresh registry describing ``report``. Pure: no I/O, no clock.

    ``nsshutdown_last_success_timestamp_seconds`` is registered only when the run succeeded.
    ``team_of`` maps a namespace to its team (the ``team`` label of the next-transition gauge).
    """
    # the client is imported only when there are metrics to push, never by offline commands
    from prometheus_client import CollectorRegistry, Gauge  # noqa: PLC0415

    registry = CollectorRegistry(auto_describe=True)
    gauges = {
        spec.name: Gauge(spec.name, spec.help, spec.labels, registry=registry)
        for spec in METRICS
        if report.succeeded or not spec.success_only
    }
    _run_metrics(gauges, report, version)
    outcomes = namespace_outcomes(report)
    _namespace_metrics(gauges, outcomes, prices)
    _action_metrics(gauges, report)
    for change in next_transitions(report, team_of or {}):
        gauges["nsshutdown_namespace_next_transition_timestamp_seconds"].labels(
            **change.labels
        ).set(change.at.timestamp())
    return registry


def _run_metrics(gauges: dict[str, Gauge], report: RunReport, version: str) -> None:
    finished = report.finished.timestamp()
    gauges["nsshutdown_last_run_timestamp_seconds"].set(finished)
    if report.succeeded:
        gauges["nsshutdown_last_success_timestamp_seconds"].set(finished)
    gauges["nsshutdown_run_duration_seconds"].set(report.duration_seconds)
    gauges["nsshutdown_last_run_errors"].set(report.errors)
    gauges["nsshutdown_build_info"].labels(version=version).set(1)
    gauges["nsshutdown_circuit_breaker_open"].set(int(report.circuit_open))
    gauges["nsshutdown_last_run_api_requests"].set(report.api_requests)
    gauges["nsshutdown_last_run_exit_code"].set(int(report.exit_code))
    gauges["nsshutdown_last_run_dry_run"].set(int(bool(report.dry_run)))


def _namespace_metrics(
    gauges: dict[str, Gauge], outcomes: tuple[NamespaceOutcome, ...], prices: Prices
) -> None:
    states = Counter(outcome.state for outcome in outcomes)
    for state in NamespaceState:
        gauges["nsshutdown_namespaces"].labels(state=state.value).set(states[state])
    for outcome in outcomes:
        if not outcome.tracked:
            continue
        keys = {"namespace": outcome.namespace, "schedule": outcome.schedule}
        gauges["nsshutdown_namespace_down"].labels(**keys).set(int(outcome.down))
        gauges["nsshutdown_namespace_desired_down"].labels(**keys).set(int(outcome.desired_down))
        holding, ns = outcome.holding, outcome.namespace
        gauges["nsshutdown_replicas_held"].labels(namespace=ns).set(holding.replicas)
        gauges["nsshutdown_cpu_cores_saved"].labels(namespace=ns).set(holding.requests.cpu_cores)
        gauges["nsshutdown_memory_bytes_saved"].labels(namespace=ns).set(
            holding.requests.memory_bytes
        )
        gauges["nsshutdown_estimated_hourly_savings"].labels(namespace=ns).set(
            hourly_cost(holding.requests, prices)
        )


def _action_metrics(gauges: dict[str, Gauge], report: RunReport) -> None:
    done = Counter(
        (result.action.type, result.action.ref.kind)
        for ns in report.namespaces
        for result in ns.results
        if result.outcome in DONE_OUTCOMES and result.action.type in WRITE_ACTIONS
    )
    for action in WRITE_ACTIONS:
        for kind in Kind:
            gauges["nsshutdown_last_run_actions"].labels(action=action.value, kind=kind.value).set(
                done[(action, kind)]
            )


def push_report(
    report: RunReport,
    *,
    options: MetricsOptions,
    version: str,
    namespaces: Iterable[Namespace] = (),
    environ: Mapping[str, str] | None = None,
) -> bool:
    """Build this run's registry and push it once. Never raises.

    True when pushed, or when no ``--pushgateway`` is set. A successful run replaces the whole
    group (PUT); a failed one adds to it (POST) so the previous success time survives.
    ``namespaces`` are the observed namespaces, whose ``options.team_label`` label is the team.
    """
    if options.url is None:
        return True
    try:
        password = read_password(options.password_file, os.environ if environ is None else environ)
    except (OSError, ValueError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        logger.warning("metrics not pushed: cannot read the password file: %s", reason)
        return False
    try:
        registry = build_registry(
            report,
            prices=options.prices,
            version=version,
            team_of=teams(namespaces, options.team_label),
        )
    except Exception:  # a bug here must not change what the run reports
        logger.warning("metrics not pushed: building them failed", exc_info=True)
        return False
    return push(
        registry,
        url=options.url,
        grouping=options.grouping,
        timeout=options.timeout,
        username=options.username,
        password=password,
        ca_file=options.ca_file,
        insecure=options.insecure,
        replace=report.succeeded,
    )


def exit_code(report: RunReport, *, pushed: bool, strict: bool) -> ExitCode:
    """The run's exit code, raised to 2 (partial) when ``strict`` and the push failed."""
    code = report.exit_code
    if strict and not pushed and code is ExitCode.OK:
        return ExitCode.PARTIAL
    return code
