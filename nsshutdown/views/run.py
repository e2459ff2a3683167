"""What a converging command did (``run``, ``shutdown``, ``restore``, ``wake``), for people and
for scripts.

``--output json`` is the plan JSON of DESIGN.md (see :mod:`nsshutdown.views.plan`), built from the
actions as finally decided (after a 409 the action re-decided on the re-read object), plus:

- top level: ``run_id``, ``dry_run`` (``null``, ``"client"`` or ``"server"``), ``exit_code``,
  ``errors``, ``circuit_open``, ``api_requests``, ``duration_seconds`` and ``summary`` (the
  number of namespaces per ``status``);
- each namespace: ``status`` (``converged``, ``unchanged``, ``failed``, ``not-attempted``),
  ``error`` (``null`` or why it failed) and ``held`` (``replicas``, ``cpu_cores``,
  ``memory_bytes``: what it holds down once the run is over);
- each action: ``outcome`` (``applied``, ``dry-run``, ``failed``, ``rolled-back``,
  ``not-attempted``, ``skipped``), ``error`` (``null`` or the API's answer) and ``conflicts``
  (re-reads after a 409).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from nsshutdown.kinds.registry import describe
from nsshutdown.model import ActionType, Plan
from nsshutdown.run.report import Holding, NamespaceReport, NamespaceStatus, Outcome, RunReport
from nsshutdown.schedule.config import Schedule
from nsshutdown.views.plan import plan_to_dict
from nsshutdown.views.tables import escape, print_table

if TYPE_CHECKING:
    from rich.console import Console

_STATUS_STYLE = {
    NamespaceStatus.CONVERGED: "green",
    NamespaceStatus.UNCHANGED: "dim",
    NamespaceStatus.FAILED: "bold red",
    NamespaceStatus.NOT_ATTEMPTED: "yellow",
}


def final_plan(report: RunReport, *, at: datetime) -> Plan:
    """The plan as it was finally carried out: the actions of the results."""
    return Plan(
        at=at,
        namespaces=tuple(
            replace(ns.plan, actions=tuple(r.action for r in ns.results)) if ns.results else ns.plan
            for ns in report.namespaces
        ),
    )


def report_to_dict(report: RunReport, schedule: Schedule, *, at: datetime) -> dict[str, Any]:
    doc = plan_to_dict(final_plan(report, at=at), schedule)
    held = {h.namespace: h for h in report.holdings}
    for ns_doc, ns in zip(doc["namespaces"], report.namespaces, strict=True):
        _decorate_namespace(ns_doc, ns, held.get(ns.plan.namespace, Holding(ns.plan.namespace)))
    counts = Counter(ns.status.value for ns in report.namespaces)
    return {
        "at": doc["at"],
        "run_id": report.run_id,
        "dry_run": report.dry_run or None,
        "exit_code": int(report.exit_code),
        "errors": report.errors,
        "circuit_open": report.circuit_open,
        "api_requests": report.api_requests,
        "duration_seconds": round(report.duration_seconds, 3),
        "summary": {status.value: counts.get(status.value, 0) for status in NamespaceStatus},
        "namespaces": doc["namespaces"],
    }


def report_to_json(report: RunReport, schedule: Schedule, *, at: datetime) -> str:
    return json.dumps(report_to_dict(report, schedule, at=at), indent=2)


def _decorate_namespace(ns_doc: dict[str, Any], ns: NamespaceReport, holding: Holding) -> None:
    results = {(r.action.ref.kind.value, r.action.ref.name): r for r in ns.results}
    for action_doc in ns_doc["actions"]:
        result = results.get((action_doc["kind"], action_doc["name"]))
        action_doc["outcome"] = result.outcome.value if result else None
        action_doc["error"] = (result.error if result else "") or None
        action_doc["conflicts"] = result.conflicts if result else 0
    ns_doc["status"] = ns.status.value
    ns_doc["error"] = ns.error or None
    ns_doc["held"] = {
        "replicas": holding.replicas,
        "cpu_cores": round(holding.requests.cpu_cores, 6),
        "memory_bytes": round(holding.requests.memory_bytes),
    }


# --- text ---------------------------------------------------------------------------------------


def render_report_text(report: RunReport, console: Console) -> None:
    table: list[list[str]] = []
    for ns in report.namespaces:
        style = _STATUS_STYLE[ns.status]
        changes = Counter(str(r.action.type) for r in ns.results if r.action.writes)
        summary = ", ".join(f"{n} {kind}" for kind, n in sorted(changes.items())) or "-"
        shown = (
            "would converge"
            if report.dry_run and ns.status is NamespaceStatus.CONVERGED
            else ns.status
        )
        status = f"[{style}]{shown}[/]"
        table.append(
            [escape(ns.plan.namespace), str(ns.plan.desired), str(ns.plan.reason), status, summary]
        )
    print_table(console, ("NAMESPACE", "DESIRED", "REASON", "STATUS", "CHANGES"), table)
    _render_changes(report, console)
    console.print(_summary_line(report))


def _render_changes(report: RunReport, console: Console) -> None:
    """One line per change, in words: ``dev-a: shut down Deployment api: replicas 3 → 0``."""
    dry_run = bool(report.dry_run)
    for ns in report.namespaces:
        shown = [r for r in ns.results if r.action.writes or r.action.type is ActionType.ERROR]
        for result in shown:
            line = f"  {ns.plan.namespace}: {describe(result.action, dry_run=dry_run)}"
            if result.outcome not in _DONE:
                line += f": {str(result.outcome).replace('-', ' ')}"
            if result.outcome is Outcome.SKIPPED and result.action.type is ActionType.ERROR:
                line = f"  {ns.plan.namespace}: error {result.action.ref}"
            detail = result.error or result.action.message
            console.print(escape(line + (f" ({detail})" if detail else "")))
        if ns.error and not shown:
            console.print(escape(f"  {ns.plan.namespace}: {ns.error}"))


_DONE = frozenset({Outcome.APPLIED, Outcome.DRY_RUN})


def _summary_line(report: RunReport) -> str:
    done = sum(
        1
        for ns in report.namespaces
        for r in ns.results
        if r.outcome in (Outcome.APPLIED, Outcome.DRY_RUN)
    )
    mode = f" (dry run: {report.dry_run})" if report.dry_run else ""
    failed = len(report.failed_namespaces)
    breaker = "; circuit breaker open: writing stopped" if report.circuit_open else ""
    return (
        f"{_count(done, 'change')}{mode}, {_count(failed, 'namespace')} failed, "
        f"{_count(report.errors, 'error')}{breaker}; "
        f"{_count(report.api_requests, 'API request')} in {report.duration_seconds:.1f} s"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
