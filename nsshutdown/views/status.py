"""``nsshutdown status``: where each namespace is now, read from the cluster, nothing written.

Per namespace: ``state`` (up / down / partial / excluded), ``since`` (the earliest
``shutdown-at`` of what it holds), the next scheduled transition, the replicas held and the CPU and
memory requests they free, the estimated hourly savings (requests-based, see
:mod:`nsshutdown.observe.savings`), and the pods still running with ``karpenter.sh/do-not-disrupt``,
which keep their nodes alive.

``--output json`` prints ``{"at": ..., "namespaces": [{"namespace", "schedule", "schedule_from",
"state", "desired", "reason", "since", "next_transition", "replicas_held", "cpu_cores",
"memory_bytes", "estimated_hourly_savings", "pinning_pods": [{"name", "node"}], "message"}]}``
(``message`` only when there is something to explain); times carry the offset of the
namespace's schedule zone.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from nsshutdown import constants as c
from nsshutdown.model import (
    ClusterState,
    Desired,
    NamespacePlan,
    PinningPod,
    Plan,
    Reason,
    Workload,
)
from nsshutdown.observe.outcomes import NamespaceState, namespace_state
from nsshutdown.observe.savings import GIB, Prices, hourly_cost
from nsshutdown.plan.holds import is_held
from nsshutdown.run.holdings import holdings_from_workloads, workloads_after
from nsshutdown.run.report import Holding, NamespaceReport, NamespaceStatus
from nsshutdown.schedule.config import Schedule
from nsshutdown.timeutil import parse_timestamp
from nsshutdown.views.plan import format_time, zone_of
from nsshutdown.views.tables import escape, print_table

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class StatusRow:
    plan: NamespacePlan
    state: NamespaceState
    since: datetime | None
    holding: Holding
    hourly_savings: float
    pinning_pods: tuple[PinningPod, ...] = ()


def status_rows(plan: Plan, state: ClusterState, *, prices: Prices) -> tuple[StatusRow, ...]:
    workloads: dict[str, list[Workload]] = defaultdict(list)
    for workload in state.workloads:
        workloads[workload.namespace].append(workload)
    pods: dict[str, list[PinningPod]] = defaultdict(list)
    for pod in state.pinning_pods:
        pods[pod.namespace].append(pod)
    holdings = {h.namespace: h for h in holdings_from_workloads(state.workloads)}
    rows = []
    for ns in plan.namespaces:
        counted = workloads_after(NamespaceReport(ns, NamespaceStatus.UNCHANGED))
        current = namespace_state(counted, ns.desired, down_replicas=ns.down_replicas)
        if ns.reason is Reason.EXCLUDED:
            current = NamespaceState.EXCLUDED
        holding = holdings.get(ns.namespace, Holding(ns.namespace))
        down = current in (NamespaceState.DOWN, NamespaceState.PARTIAL)
        rows.append(
            StatusRow(
                plan=ns,
                state=current,
                since=_since(workloads[ns.namespace]) if down else None,
                holding=holding,
                hourly_savings=hourly_cost(holding.requests, prices),
                pinning_pods=tuple(pods[ns.namespace]) if down else (),
            )
        )
    return tuple(rows)


def _since(workloads: Iterable[Workload]) -> datetime | None:
    """When the namespace went down: the earliest ``shutdown-at`` of what it holds."""
    times = []
    for workload in workloads:
        raw = workload.annotations.get(c.SHUTDOWN_AT)
        if raw and is_held(workload):
            try:
                times.append(parse_timestamp(raw))
            except ValueError:
                continue
    return min(times, default=None)


def status_to_dict(
    rows: Iterable[StatusRow], schedule: Schedule, *, at: datetime
) -> dict[str, Any]:
    return {
        "at": at.astimezone(zone_of(schedule, None)).isoformat(),
        "namespaces": [_row_dict(row, schedule) for row in rows],
    }


def _row_dict(row: StatusRow, schedule: Schedule) -> dict[str, Any]:
    zone = zone_of(schedule, row.plan.schedule)
    transition = row.plan.next_transition
    next_transition = None
    if transition is not None:
        next_transition = {
            "at": transition.at.astimezone(zone).isoformat(),
            "to": transition.to.value,
        }
    return {
        "namespace": row.plan.namespace,
        "schedule": row.plan.schedule,
        "schedule_from": row.plan.schedule_from,
        "state": row.state.value,
        "desired": row.plan.desired.value,
        "reason": row.plan.reason.value,
        "since": row.since.astimezone(zone).isoformat() if row.since else None,
        "next_transition": next_transition,
        "replicas_held": row.holding.replicas,
        "cpu_cores": round(row.holding.requests.cpu_cores, 6),
        "memory_bytes": round(row.holding.requests.memory_bytes),
        "estimated_hourly_savings": round(row.hourly_savings, 6),
        "pinning_pods": [{"name": p.name, "node": p.node} for p in row.pinning_pods],
        **({"message": row.plan.message} if row.plan.message else {}),
    }


def status_to_json(rows: Iterable[StatusRow], schedule: Schedule, *, at: datetime) -> str:
    return json.dumps(status_to_dict(rows, schedule, at=at), indent=2)


def _wants(row: StatusRow) -> str:
    """What the schedule (or an override) wants now; highlighted when the namespace is not there
    yet, e.g. after a manual ``restore`` inside a window, until the next run converges it."""
    text = f"{row.plan.desired} ({row.plan.reason})"
    settled = row.state is NamespaceState.EXCLUDED or (
        (row.state is NamespaceState.UP) == (row.plan.desired is Desired.UP)
    )
    return text if settled else f"[yellow]{text}[/yellow]"


def render_status_text(rows: Iterable[StatusRow], schedule: Schedule, console: Console) -> None:
    columns = (
        "NAMESPACE",
        "STATE",
        "WANTS",
        "SINCE",
        "NEXT",
        "HELD",
        "CPU",
        "MEMORY",
        "$/H",
        "PINNED",
    )
    table: list[list[str]] = []
    for row in rows:
        zone = zone_of(schedule, row.plan.schedule)
        transition = row.plan.next_transition
        table.append([
            escape(row.plan.namespace),
            row.state.value,
            _wants(row),
            format_time(row.since, zone) if row.since else "-",
            f"{transition.to} {format_time(transition.at, zone)}" if transition else "-",
            str(row.holding.replicas),
            f"{row.holding.requests.cpu_cores:g}",
            f"{row.holding.requests.memory_bytes / GIB:.2f}Gi",
            f"{row.hourly_savings:.4f}",
            escape(", ".join(f"{p.name}@{p.node or '?'}" for p in row.pinning_pods) or "-"),
        ])  # fmt: skip
    print_table(console, columns, table)
