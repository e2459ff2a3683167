"""The pure planner: ``plan(schedule, observed state, now) -> Plan``.

No I/O and no clock: ``now`` comes from the CLI. The same inputs always give the same plan, which
is what makes a level-triggered run safe to repeat: every run computes "what must be true now".

Namespace precedence, first that applies wins:

1. ``nsshutdown.io/exclude: "true"`` on the namespace: hands off entirely (no actions at all);
2. a protected namespace (``kube-system``, ``kube-public``, ``kube-node-lease``), the tool's own
   namespace, or ``excludeNamespaces``: desired up (anything still held is restored);
3. an override from a manual command (``shutdown`` / ``restore``);
4. ``keep-up-until`` / ``keep-down-until`` annotations still in the future (up wins if both);
5. the namespace's schedule (its own ``nsshutdown.io/schedule`` choice where the policy allows
   it, else the first schedule whose ``namespaces`` match, see :mod:`nsshutdown.schedule.choice`):
   holiday or open window -> down, else up;
6. no schedule: desired up, so a config change never leaves anything down forever.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from nsshutdown import constants as c
from nsshutdown.model import (
    Action,
    ActionType,
    ClusterState,
    Context,
    Desired,
    Namespace,
    NamespacePlan,
    Plan,
    Reason,
    SkipReason,
    Transition,
    Workload,
    WorkloadKind,
)
from nsshutdown.plan import tiers
from nsshutdown.plan.decisions import decide
from nsshutdown.plan.holds import is_stamped
from nsshutdown.schedule import choice, windows
from nsshutdown.schedule.choice import Via
from nsshutdown.schedule.config import Rule, Schedule
from nsshutdown.timeutil import MAX_DURATION, format_duration, parse_timestamp


@dataclass(frozen=True)
class Intent:
    """Where a namespace must be, and why (before looking at its workloads)."""

    desired: Desired
    reason: Reason
    rule: Rule | None = None
    next_transition: Transition | None = None
    hands_off: bool = False
    message: str = ""
    via: Via = Via.NONE


def plan(
    schedule: Schedule,
    state: ClusterState,
    now: datetime,
    *,
    own_namespace: str | None = None,
    overrides: Mapping[str, Desired] | None = None,
    only: Collection[str] | None = None,
) -> Plan:
    """Decide every namespace (or only those in ``only``) and every workload in it."""
    by_namespace: dict[str, list[Workload]] = defaultdict(list)
    for workload in state.workloads:
        by_namespace[workload.namespace].append(workload)
    plans = []
    for ns in sorted(state.namespaces, key=lambda n: n.name):
        if only is not None and ns.name not in only:
            continue
        if ns.unreadable:  # its labels and holds are unknown: no schedule can be applied
            plans.append(_unreadable_namespace(ns))
            continue
        intent = namespace_intent(
            schedule, ns, now, own_namespace=own_namespace, override=(overrides or {}).get(ns.name)
        )
        error = _unreadable(schedule, intent, state.unreadable_in(ns.name))
        actions = () if intent.hands_off or error else _workload_actions(
            schedule, intent, by_namespace.get(ns.name, []), state.kinds, now
        )  # fmt: skip
        plans.append(
            NamespacePlan(
                namespace=ns.name,
                desired=intent.desired,
                reason=intent.reason,
                schedule=intent.rule.name if intent.rule else None,
                schedule_from=intent.via.value,
                down_replicas=(intent.rule or schedule.defaults).down_replicas,
                next_transition=intent.next_transition,
                actions=actions,
                message=error or intent.message,
                error=error,
            )
        )
    return Plan(at=now, namespaces=tuple(plans))


def namespace_intent(
    schedule: Schedule,
    ns: Namespace,
    now: datetime,
    *,
    own_namespace: str | None = None,
    override: Desired | None = None,
) -> Intent:
    """Where namespace ``ns`` must be at ``now``; see the module docstring for precedence."""
    if ns.annotations.get(c.EXCLUDE, "").lower() in c.TRUE_VALUES:
        return Intent(Desired.UP, Reason.EXCLUDED, hands_off=True, message=f"{c.EXCLUDE} is set")
    protected = protection(ns.name, schedule, own_namespace=own_namespace)
    if protected:
        return Intent(Desired.UP, Reason.EXCLUDED, message=protected)
    owned = choice.owner(schedule, ns)
    rule, via, note = owned.rule, owned.via, owned.refused
    if override is not None:
        return Intent(override, Reason.MANUAL, rule, message=note, via=via)
    try:
        held = _held_by_annotation(ns, now)
    except ValueError as err:
        return Intent(
            Desired.UP, Reason.INVALID_ANNOTATION, rule, hands_off=True, message=str(err), via=via
        )
    if held is not None:
        desired, reason, until = held
        after = _scheduled(rule, until)
        transition = Transition(until, after.desired)
        return Intent(desired, reason, rule, transition, message=note, via=via)
    return replace(_scheduled(rule, now), message=note, via=via)


def protection(name: str, schedule: Schedule, *, own_namespace: str | None = None) -> str:
    """Why no command may scale namespace ``name``, or ``""``: the rule that protects it."""
    if name in c.PROTECTED_NAMESPACES:
        return f"{name} is protected: the cluster's own namespaces are never scaled"
    if name == own_namespace:
        return f"{name} is nsshutdown's own namespace: never scaled"
    if schedule.is_excluded(name):
        return f"{name} is listed in excludeNamespaces"
    return ""


def _unreadable_namespace(ns: Namespace) -> NamespacePlan:
    message = f"not converged: {ns.unreadable}"
    return NamespacePlan(ns.name, Desired.UP, Reason.UNREADABLE, message=message, error=message)


def _unreadable(schedule: Schedule, intent: Intent, unreadable: Mapping[WorkloadKind, str]) -> str:
    """Why a namespace that must go down cannot: a kind it shuts down may not be listed.

    Shutting down the rest would leave it half down with no way to see what it holds, so it is
    left untouched and fails alone. Bringing a namespace up goes ahead with what can be read.
    """
    if intent.desired is not Desired.DOWN or intent.hands_off or not unreadable:
        return ""
    kinds = intent.rule.kinds if intent.rule else schedule.default_kinds
    reasons = [unreadable[kind] for kind in kinds if kind in unreadable]
    return f"not shut down: {'; '.join(reasons)}" if reasons else ""


def _scheduled(rule: Rule | None, at: datetime) -> Intent:
    if rule is None:
        return Intent(Desired.UP, Reason.NO_SCHEDULE)
    state = windows.evaluate(rule, at)
    return Intent(state.desired, state.reason, rule, windows.next_transition(rule, at))


def _held_by_annotation(ns: Namespace, now: datetime) -> tuple[Desired, Reason, datetime] | None:
    """An unexpired keep-up-until / keep-down-until on the namespace. Up wins over down."""
    for key, desired, reason in (
        (c.KEEP_UP_UNTIL, Desired.UP, Reason.KEEP_UP_UNTIL),
        (c.KEEP_DOWN_UNTIL, Desired.DOWN, Reason.KEEP_DOWN_UNTIL),
    ):
        raw = ns.annotations.get(key)
        if raw is None:
            continue
        try:
            until = parse_timestamp(raw)
        except ValueError:
            raise ValueError(
                f'namespace {ns.name}: {key}="{raw}" is not an RFC 3339 time'
            ) from None
        if until - now > MAX_DURATION:
            raise ValueError(
                f'namespace {ns.name}: {key}="{raw}" is more than {format_duration(MAX_DURATION)}'
                " away: not a hold this tool writes"
            )
        if until > now:
            return desired, reason, until
    return None


def _workload_actions(
    schedule: Schedule,
    intent: Intent,
    workloads: Iterable[Workload],
    served: frozenset[WorkloadKind],
    now: datetime,
) -> tuple[Action, ...]:
    kinds = set(intent.rule.kinds if intent.rule else schedule.default_kinds) & served
    grace = intent.rule.grace_period if intent.rule else schedule.defaults.grace_period
    down_to = intent.rule.down_replicas if intent.rule else schedule.defaults.down_replicas
    workloads = sorted(workloads, key=lambda w: (w.kind.value, w.name))
    keda_targets = {
        (w.scale_target[0], w.scale_target[1]) for w in workloads if w.scale_target is not None
    }
    scheduled_by = intent.rule if intent.reason in _SCHEDULED else None
    ctx = Context(
        desired=intent.desired,
        now=now,
        shutdown_by=scheduled_by.name if scheduled_by else c.MANUAL,
        grace_period=grace if scheduled_by else timedelta(0),
        down_replicas=down_to,
    )
    actions = []
    for workload in workloads:
        action = _decide_one(workload, ctx, kinds, keda_targets)
        if action is not None:
            actions.append(action)
    order = intent.rule.wake_order if intent.rule else schedule.defaults.wake_order
    in_order = tiers.ordered(actions, intent.desired, order)
    if intent.desired is Desired.DOWN:
        return in_order
    timeout = intent.rule.wake_timeout if intent.rule else schedule.defaults.wake_timeout
    return tiers.gate(in_order, workloads, order=order, timeout=timeout, now=now)


_SCHEDULED = frozenset({Reason.WINDOW, Reason.HOLIDAY})


def _decide_one(
    workload: Workload, ctx: Context, kinds: set[WorkloadKind], keda_targets: set[tuple[str, str]]
) -> Action | None:
    """Restores apply to every held workload whatever its kind; shutdowns only to scheduled kinds.

    A workload driven by a KEDA ScaledObject is never scaled directly: KEDA would fight it.
    """
    if ctx.desired is Desired.UP:
        return decide(workload, ctx) if is_stamped(workload) else None
    if workload.kind not in kinds:
        return decide(workload, Context(Desired.UP, ctx.now)) if is_stamped(workload) else None
    if (workload.kind.value, workload.name) in keda_targets:
        return Action(ActionType.SKIP, workload, reason=SkipReason.KEDA_MANAGED)
    return decide(workload, ctx)
