"""The alerts, read from the PrometheusRule manifests, each linked to its runbook page.

A runbook is found from the alert's ``runbook_url`` annotation, by its last path segment
(``.../runbooks/NsShutdownJobFailing.md`` -> ``docs/runbooks/NsShutdownJobFailing.md``) or, when
that does not name a page, from the alert name in kebab case.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

import yaml

from nsshutdown_docs import markup

MONITORING_DIR = "manifests/monitoring"
RUNBOOKS = "runbooks"


@dataclass(frozen=True)
class AlertDoc:
    name: str
    severity: str
    summary: str
    description: str
    runbook_url: str
    expr: str
    for_: str
    source: Path


def collect(root: Path) -> list[AlertDoc]:
    """Every alert rule in every PrometheusRule under ``manifests/monitoring``."""
    alerts = []
    for path in sorted((root / MONITORING_DIR).rglob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not isinstance(doc, dict) or doc.get("kind") != "PrometheusRule":
                continue
            for group in (doc.get("spec") or {}).get("groups") or []:
                for rule in group.get("rules") or []:
                    if "alert" in rule:
                        alerts.append(_alert(rule, path))
    return alerts


def _alert(rule: dict[str, Any], source: Path) -> AlertDoc:
    labels: dict[str, Any] = rule.get("labels") or {}
    annotations: dict[str, Any] = rule.get("annotations") or {}
    return AlertDoc(
        name=str(rule["alert"]),
        severity=str(labels.get("severity", "")),
        summary=str(annotations.get("summary", "")),
        description=str(annotations.get("description", "")),
        runbook_url=str(annotations.get("runbook_url", "")),
        expr=str(rule.get("expr", "")).strip(),
        for_=str(rule.get("for", "")),
        source=source,
    )


def kebab(name: str) -> str:
    """``NsShutdownJobFailing`` -> ``ns-shutdown-job-failing``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name).lower()


def candidates(alert: AlertDoc) -> list[str]:
    """Runbook document names (``runbooks/<page>``) this alert may point at, best first."""
    names = []
    if alert.runbook_url:
        path = PurePosixPath(urlparse(alert.runbook_url).path.rstrip("/"))
        stem = path.stem if path.suffix in (".html", ".md") else path.name
        if stem:
            names.append(f"{RUNBOOKS}/{stem}")
            names.append(f"{RUNBOOKS}/{stem}/index")
    fragment = urlparse(alert.runbook_url).fragment
    for stem in (
        kebab(alert.name),
        kebab(alert.name).replace("ns-shutdown", "nsshutdown"),
        fragment,
    ):
        if stem:
            names.append(f"{RUNBOOKS}/{stem}")
    return list(dict.fromkeys(names))


def runbook_doc(alert: AlertDoc, found_docs: Collection[str]) -> str | None:
    return next((doc for doc in candidates(alert) if doc in found_docs), None)


def problems(alerts: list[AlertDoc], found_docs: Collection[str]) -> list[str]:
    found = []
    for alert in alerts:
        if not alert.runbook_url:
            found.append(f"alert {alert.name} ({alert.source}) has no runbook_url annotation")
        if runbook_doc(alert, found_docs) is None:
            tried = ", ".join(f"docs/{doc}.md" for doc in candidates(alert))
            found.append(f"alert {alert.name} has no runbook page (looked for {tried})")
    return found


def render(alerts: list[AlertDoc], *, found_docs: Collection[str], level: int = 2) -> list[str]:
    del level  # one table; kept for the common directive interface
    rows = []
    for alert in alerts:
        doc = runbook_doc(alert, found_docs)
        runbook = f"{{doc}}`runbook </{doc}>`" if doc else "none"
        rows.append(
            [
                markup.code(alert.name),
                markup.escape(alert.severity or "none"),
                markup.inline(alert.summary),
                runbook,
            ]
        )
    return markup.table(["Alert", "Severity", "Summary", "Runbook"], rows)
