"""Which schedule owns a namespace: the team's own choice, else the schedule file's first match.

One rule, the same for every command (``plan``, ``run``, ``status``, ``validate --cluster``):

1. ``nsshutdown.io/schedule: NAME`` on the namespace, as a label or an annotation, picks the
   schedule named ``NAME``; ``none`` takes the namespace out of every schedule. The label is read
   first; when both are set they must agree.
2. The platform's ``policy`` decides what may be chosen: ``choosable`` lists the schedules a
   namespace may name (any, when left out), ``optOut: false`` forbids ``none``.
3. A choice that cannot be honoured (an unknown name, one the policy forbids, a label and an
   annotation that disagree) is ignored and said so: the namespace gets what the file gives it.
4. Without a choice, the first schedule whose ``namespaces`` match owns the namespace.

Exclusions come before all of this (``nsshutdown.io/exclude``, protected namespaces,
``excludeNamespaces``): a choice never brings an excluded namespace into a schedule.
Pure.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum

from nsshutdown import constants as c
from nsshutdown.model import Namespace
from nsshutdown.schedule.config import Rule, Schedule


class Via(StrEnum):
    """How a namespace came to its schedule (``schedule_from`` in ``plan``/``status`` JSON)."""

    LABEL = "label"  # its own nsshutdown.io/schedule label
    ANNOTATION = "annotation"  # its own nsshutdown.io/schedule annotation
    MATCH = "match"  # the first schedule whose namespaces match it
    NONE = "none"  # no schedule matches it (or it opted out: see ``Ownership.rule``)


@dataclass(frozen=True)
class Ownership:
    rule: Rule | None
    via: Via
    #: Why the namespace's own choice was ignored ("" when it was honoured or there was none).
    refused: str = ""


def owner(schedule: Schedule, ns: Namespace) -> Ownership:
    """The schedule that decides for ``ns`` (``None``: no schedule), and how it was chosen."""
    choice, via, conflict = _choice(ns)
    if choice is None:
        return _by_match(schedule, ns)
    refused = conflict or _refusal(schedule, choice)
    if refused:
        return _by_match(schedule, ns, refused=f"{c.SCHEDULE_CHOICE}: {refused}")
    return Ownership(None if choice == c.NO_SCHEDULE else schedule.named(choice), via)


def _by_match(schedule: Schedule, ns: Namespace, *, refused: str = "") -> Ownership:
    rule = schedule.rule_for(ns)
    return Ownership(rule, Via.NONE if rule is None else Via.MATCH, refused)


def _choice(ns: Namespace) -> tuple[str | None, Via, str]:
    """The name chosen, where it was read, and why it cannot be used when label and annotation
    disagree."""
    label = ns.labels.get(c.SCHEDULE_CHOICE)
    annotation = ns.annotations.get(c.SCHEDULE_CHOICE)
    if label is not None and annotation is not None and label != annotation:
        return label, Via.LABEL, f'the label says "{label}" and the annotation "{annotation}"'
    if label is not None:
        return label, Via.LABEL, ""
    if annotation is not None:
        return annotation, Via.ANNOTATION, ""
    return None, Via.NONE, ""


def _refusal(schedule: Schedule, choice: str) -> str:
    """Why the policy or the file rule out ``choice`` ("" when it may be used)."""
    policy = schedule.policy
    if choice == c.NO_SCHEDULE:
        return "" if policy.opt_out else 'opting out ("none") is not allowed by policy.optOut'
    names = [rule.name for rule in schedule.schedules]
    if choice not in names:
        close = difflib.get_close_matches(choice, names, n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        return f'no schedule is named "{choice}"{hint}'
    if policy.choosable is not None and choice not in policy.choosable:
        allowed = ", ".join(policy.choosable) or "none"
        return f'"{choice}" may not be chosen (policy.choosable: {allowed})'
    return ""
