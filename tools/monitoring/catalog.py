"""The metrics a dashboard or rule may use: emitted, recorded, or an explicitly listed built-in.

Emitted metrics come from ``nsshutdown.observe.metrics.METRICS`` (the package's own specification
of what it pushes), never from a list kept here, so a renamed or dropped metric breaks the check
instead of leaving a panel that silently shows "No data".
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tools.monitoring import promql

METRICS_MODULE = "nsshutdown.observe.metrics"

#: Series that exist without nsshutdown emitting them, each with the reason it may be used.
BUILTIN_METRICS: Mapping[str, str] = MappingProxyType(
    {
        "up": "Prometheus' scrape health of the Pushgateway target (job=pushgateway)",
        "push_time_seconds": "Pushgateway: time of the last successful push of each group",
        "push_failure_time_seconds": "Pushgateway: time of the last failed push of each group",
        "ALERTS": "Prometheus' own series of pending and firing alerts",
        "kube_node_info": "kube-state-metrics: one series per node (the node count next to what"
        " nsshutdown holds shows whether Karpenter turned the shutdown into fewer nodes)",
    }
)

#: Labels every scraped nsshutdown series has besides those of its spec (Pushgateway group key).
GROUP_LABELS = frozenset({"job", "instance"})


class MetricsModuleError(RuntimeError):
    """nsshutdown.observe.metrics is missing or does not export a usable METRICS specification."""


@dataclass(frozen=True)
class Catalog:
    emitted: Mapping[str, frozenset[str]]  # metric name -> label names of its spec
    recorded: frozenset[str]
    builtin: Mapping[str, str] = field(default_factory=lambda: BUILTIN_METRICS)

    def problems(self, expr: str) -> list[str]:
        """Why ``expr`` refers to something that will never have data (empty when all is known)."""
        try:
            found = promql.selectors(expr)
        except promql.PromQLSyntaxError as err:
            return [f"cannot read expression: {err}"]
        problems = []
        for selector in found:
            name = selector.metric
            if not name:
                problems.append("selector without a metric name")
            elif name in self.emitted:
                unknown = selector.labels - self.emitted[name] - GROUP_LABELS
                if unknown:
                    labels = ", ".join(sorted(unknown))
                    problems.append(f"{name} has no label(s) {labels}")
            elif name not in self.recorded and name not in self.builtin:
                problems.append(f"unknown metric {name} (not emitted, recorded or built-in)")
        return problems


def emitted_metrics(module_name: str = METRICS_MODULE) -> dict[str, frozenset[str]]:
    """Name -> label names of every metric in ``<module>.METRICS`` (specs with .name, .labels)."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise MetricsModuleError(f"cannot import {module_name}: {err}") from err
    specs = getattr(module, "METRICS", None)
    if not specs:
        raise MetricsModuleError(f"{module_name} exports no METRICS specification")
    try:
        return {str(spec.name): frozenset(str(label) for label in spec.labels) for spec in specs}
    except (AttributeError, TypeError) as err:
        raise MetricsModuleError(f"{module_name}.METRICS entries need .name and .labels") from err


def recorded_metrics(groups: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    return frozenset(
        str(rule["record"]) for group in groups for rule in group["rules"] if "record" in rule
    )
