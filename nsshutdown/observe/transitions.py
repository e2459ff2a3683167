"""Each namespace's next transition, as the series of the advance-notice gauge. Pure.

``nsshutdown_namespace_next_transition_timestamp_seconds`` says when a namespace's desired state
next changes and which way, so an alert rule can warn the team that owns it before it goes down
(``NsShutdownNamespaceGoingDownSoon``). The team is the value of one namespace label, whose key is
``--team-label`` (default ``team``); the metric label is always ``team``, empty when the namespace
does not carry the key.

A namespace has a series only when its plan knows a next transition that changes something: a
hold that ends inside a period of the same state (``keep-up-until`` ending while the schedule wants
it up anyway) is no transition, and neither is a namespace with no schedule and no hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from nsshutdown.model import Desired, Namespace
from nsshutdown.run.report import RunReport


@dataclass(frozen=True)
class NextTransition:
    """One series: ``namespace`` goes ``direction`` at ``at``."""

    namespace: str
    schedule: str  # "" when no schedule owns it (a hold on an unscheduled namespace)
    team: str  # "" when the namespace has no team label
    direction: Desired
    at: datetime

    @property
    def labels(self) -> dict[str, str]:
        return {
            "namespace": self.namespace,
            "schedule": self.schedule,
            "direction": self.direction.value,
            "team": self.team,
        }


def teams(namespaces: Iterable[Namespace], key: str) -> dict[str, str]:
    """Namespace name -> the value of its label ``key`` (only namespaces that carry it)."""
    return {ns.name: ns.labels[key] for ns in namespaces if key and ns.labels.get(key)}


def next_transitions(report: RunReport, team_of: Mapping[str, str]) -> tuple[NextTransition, ...]:
    """The next transition of every namespace of ``report`` that has one, in report order."""
    found = []
    for ns in report.namespaces:
        plan, change = ns.plan, ns.plan.next_transition
        if change is None or change.to is plan.desired:
            continue
        found.append(
            NextTransition(
                namespace=plan.namespace,
                schedule=plan.schedule or "",
                team=team_of.get(plan.namespace, ""),
                direction=change.to,
                at=change.at,
            )
        )
    return tuple(found)
