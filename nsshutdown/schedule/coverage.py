"""``validate --cluster``: how a schedule covers the namespaces that exist. Pure functions.

For each schedule, the namespaces it owns (they chose it with ``nsshutdown.io/schedule``, or it is
the first that matches them, so it decides for them) and those it also matches but an earlier
schedule owns. Warnings: a namespace matched by more than one schedule (the first wins, which may
not be what was meant), a schedule that matches no namespace at all (a typo in a glob or
selector, or a team that is gone), and a namespace's choice that was ignored (and why).
Information: excluded namespaces (``excludeNamespaces``, ``nsshutdown.io/exclude``, the tool's
own) that a schedule would otherwise match, and namespaces that opted out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nsshutdown import constants as c
from nsshutdown.model import Namespace
from nsshutdown.schedule.choice import Via, owner
from nsshutdown.schedule.config import Schedule


@dataclass(frozen=True)
class RuleCoverage:
    name: str
    namespaces: tuple[str, ...]  # owned: this schedule decides for them
    shadowed: tuple[str, ...] = ()  # matched too, but an earlier schedule owns them
    chosen: tuple[str, ...] = ()  # of ``namespaces``, those that chose it (nsshutdown.io/schedule)


@dataclass(frozen=True)
class Overlap:
    namespace: str
    owner: str
    also: tuple[str, ...]

    def __str__(self) -> str:
        others = " and ".join(self.also)
        return (
            f"namespace {self.namespace} is matched by {self.owner} and {others}: "
            f"{self.owner} wins (the first match)"
        )


@dataclass(frozen=True)
class Excluded:
    namespace: str
    reason: str
    schedule: str  # the first schedule that would match it

    def __str__(self) -> str:
        return f"namespace {self.namespace} ({self.reason}) would otherwise be {self.schedule}'s"


@dataclass(frozen=True)
class Coverage:
    namespaces: int
    rules: tuple[RuleCoverage, ...]
    overlaps: tuple[Overlap, ...] = ()
    excluded: tuple[Excluded, ...] = ()
    #: (namespace, why): an ``nsshutdown.io/schedule`` choice that was ignored
    refused: tuple[tuple[str, str], ...] = ()
    #: namespaces that opted out with ``nsshutdown.io/schedule: none``
    opted_out: tuple[str, ...] = ()

    @property
    def unmatched(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.rules if not r.namespaces and not r.shadowed)

    @property
    def warnings(self) -> list[str]:
        unmatched = [f"schedule {name} matches no namespace" for name in self.unmatched]
        refused = [f"namespace {name}: {why}" for name, why in self.refused]
        return [*(str(o) for o in self.overlaps), *unmatched, *refused]


def exclusion(schedule: Schedule, ns: Namespace, own_namespace: str | None) -> str:
    """Why ``ns`` is excluded before any schedule is looked at ("" when it is not)."""
    if ns.annotations.get(c.EXCLUDE, "").lower() in c.TRUE_VALUES:
        return f"{c.EXCLUDE} is set"
    if ns.name == own_namespace:
        return "the tool's own namespace"
    if schedule.is_excluded(ns.name):
        return "excludeNamespaces"
    return ""


def coverage(
    schedule: Schedule, namespaces: Iterable[Namespace], *, own_namespace: str | None = None
) -> Coverage:
    owned: dict[str, list[str]] = {rule.name: [] for rule in schedule.schedules}
    shadowed: dict[str, list[str]] = {rule.name: [] for rule in schedule.schedules}
    chosen: dict[str, list[str]] = {rule.name: [] for rule in schedule.schedules}
    overlaps, excluded, refused, opted_out, count = [], [], [], [], 0
    for ns in sorted(namespaces, key=lambda n: n.name):
        count += 1
        owns = owner(schedule, ns)
        matching = [rule.name for rule in schedule.schedules if rule.matches(ns)]
        first = owns.rule.name if owns.rule else (matching[0] if matching else "")
        if not first and owns.via is Via.NONE:
            continue
        why = exclusion(schedule, ns, own_namespace)
        if why:
            if first:
                excluded.append(Excluded(ns.name, why, first))
            continue
        if owns.refused:
            refused.append((ns.name, owns.refused))
        if owns.via in (Via.LABEL, Via.ANNOTATION):
            if owns.rule is None:
                opted_out.append(ns.name)
                continue
            owned[owns.rule.name].append(ns.name)
            chosen[owns.rule.name].append(ns.name)
            continue
        owned[matching[0]].append(ns.name)
        for name in matching[1:]:
            shadowed[name].append(ns.name)
        if len(matching) > 1:
            overlaps.append(Overlap(ns.name, matching[0], tuple(matching[1:])))
    rules = tuple(
        RuleCoverage(name, tuple(owned[name]), tuple(shadowed[name]), tuple(chosen[name]))
        for name in owned
    )
    return Coverage(
        count, rules, tuple(overlaps), tuple(excluded), tuple(refused), tuple(opted_out)
    )


def coverage_to_json(result: Coverage) -> dict[str, Any]:
    return {
        "namespaces": result.namespaces,
        "schedules": [
            {
                "name": rule.name,
                "count": len(rule.namespaces),
                "namespaces": list(rule.namespaces),
                "chosen": list(rule.chosen),
                "shadowed": list(rule.shadowed),
            }
            for rule in result.rules
        ],
        "overlaps": [
            {"namespace": o.namespace, "owner": o.owner, "also": list(o.also)}
            for o in result.overlaps
        ],
        "unmatched": list(result.unmatched),
        "excluded": [
            {"namespace": e.namespace, "reason": e.reason, "schedule": e.schedule}
            for e in result.excluded
        ],
        "refused": [{"namespace": name, "message": why} for name, why in result.refused],
        "opted_out": list(result.opted_out),
    }


def coverage_lines(result: Coverage) -> list[str]:
    """The text report: per schedule, then warnings, then information."""
    lines = [f"against the cluster: {result.namespaces} namespaces"]
    for rule in result.rules:
        names = f": {', '.join(rule.namespaces)}" if rule.namespaces else ""
        lines.append(f"  {rule.name}: {len(rule.namespaces)} namespaces{names}")
        if rule.chosen:
            lines.append(
                f"    chosen by the namespace ({c.SCHEDULE_CHOICE}): {', '.join(rule.chosen)}"
            )
        if rule.shadowed:
            lines.append(f"    also matches (owned by an earlier schedule): "
                         f"{', '.join(rule.shadowed)}")  # fmt: skip
    lines += [f"warning: {text}" for text in result.warnings]
    lines += [f"info: {e}" for e in result.excluded]
    lines += [
        f"info: namespace {name} opted out ({c.SCHEDULE_CHOICE}: none)" for name in result.opted_out
    ]
    return lines
