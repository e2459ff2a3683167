"""The metrics reference, generated from ``nsshutdown.observe.metrics.METRICS``.

Each entry of ``METRICS`` describes one metric (``name``, ``help``, ``labels`` and, where the spec
has them, ``type``, ``unit`` and ``success_only``); the reference is built from that list alone.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from nsshutdown_docs import markup

METRICS_MODULE = "nsshutdown.observe.metrics"


@dataclass(frozen=True)
class MetricDoc:
    name: str
    help: str
    labels: tuple[str, ...]
    type: str = "gauge"
    unit: str = ""
    success_only: bool = False


def collect(specs: Any | None = None) -> list[MetricDoc]:
    if specs is None:
        specs = importlib.import_module(METRICS_MODULE).METRICS
    docs = []
    for spec in specs:
        kind = getattr(spec, "type", None) or getattr(spec, "kind", None) or "gauge"
        kind = getattr(kind, "value", kind)
        if isinstance(kind, type):  # a prometheus_client class such as Gauge
            kind = kind.__name__
        docs.append(
            MetricDoc(
                name=spec.name,
                help=str(spec.help or ""),
                labels=tuple(spec.labels or ()),
                type=str(kind).lower(),
                unit=str(getattr(spec, "unit", "") or ""),
                success_only=bool(getattr(spec, "success_only", False)),
            )
        )
    return docs


def label_for(metric: MetricDoc) -> str:
    return markup.slug("metric", metric.name)


def render(metrics: list[MetricDoc], *, level: int = 2) -> list[str]:
    # Generated content must start with a heading: text before the first one would be moved after
    # the last section by the nested parse.
    lines = markup.heading(level, "All metrics", label="metrics-all")
    lines += markup.table(
        ["Metric", "Type", "Labels", "Meaning"],
        [
            [
                f"{{ref}}`{m.name} <{label_for(m)}>`",  # role text is literal: no escaping
                m.type,
                ", ".join(markup.code(label) for label in m.labels) or "none",
                markup.first_sentence(m.help),
            ]
            for m in metrics
        ],
    )
    for metric in metrics:
        lines += markup.heading(level, markup.code(metric.name), label=label_for(metric))
        for paragraph in markup.paragraphs(metric.help):
            lines += [paragraph, ""]
        facts = [f"Type: {metric.type}."]
        if metric.unit:
            facts.append(f"Unit: {markup.escape(metric.unit)}.")
        labels = ", ".join(markup.code(label) for label in metric.labels) or "none"
        facts.append(f"Labels: {labels}.")
        if metric.success_only:
            facts.append("Pushed only by a run that succeeded.")
        lines += [" ".join(facts), ""]
    return lines
