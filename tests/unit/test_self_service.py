"""A team's own schedule choice, scale to N, and wake-up tiers: the pure planner's side."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nsshutdown import constants as c
from nsshutdown.errors import ConfigError
from nsshutdown.model import (
    Action,
    ActionType,
    ClusterState,
    Desired,
    Kind,
    Namespace,
    NamespacePlan,
    SkipReason,
    Workload,
    apply_patch,
)
from nsshutdown.plan import planner, tiers
from nsshutdown.schedule.choice import Via, owner
from nsshutdown.schedule.config import Schedule
from tests.unit.builders import local, minutes, schedule, workload

DOWN_AT = local("2026-11-26T21:00", "UTC")  # Thursday night: inside both windows
UP_AT = local("2026-11-27T12:00", "UTC")  # Friday noon: outside them
NIGHTS = {"shutdown": "0 20 * * *", "startup": "0 8 * * *"}
EVENINGS = {"shutdown": "0 18 * * *", "startup": "0 7 * * *"}


def two_schedules(**policy: Any) -> Schedule:
    return schedule({
        "policy": policy,
        "schedules": [
            {"name": "nights", "namespaces": {"names": ["dev-*"]}, "windows": [NIGHTS]},
            {"name": "evenings", "windows": [EVENINGS]},  # chosen only
        ],
    })  # fmt: skip


def ns(
    name: str = "dev-a", *, label: str | None = None, annotation: str | None = None
) -> Namespace:
    labels = {c.SCHEDULE_CHOICE: label} if label is not None else {}
    annotations = {c.SCHEDULE_CHOICE: annotation} if annotation is not None else {}
    return Namespace(name, MappingProxyType(labels), MappingProxyType(annotations))


def plan_ns(
    sched: Schedule, namespace: Namespace, workloads: list[Workload], at: datetime
) -> NamespacePlan:
    state = ClusterState(
        (namespace,),
        tuple(replace(w, ref=replace(w.ref, namespace=namespace.name)) for w in workloads),
    )
    return planner.plan(sched, state, at).namespaces[0]


# --- 1. a team chooses its schedule ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "rule", "via", "refused"),
    [
        (ns(), "nights", Via.MATCH, ""),
        (ns(label="evenings"), "evenings", Via.LABEL, ""),
        (ns(annotation="evenings"), "evenings", Via.ANNOTATION, ""),
        (ns("prod", label="evenings"), "evenings", Via.LABEL, ""),
        (ns(label="none"), None, Via.LABEL, ""),
        (ns("prod"), None, Via.NONE, ""),
        (ns(label="evenigns"), "nights", Via.MATCH,
         'no schedule is named "evenigns" (did you mean "evenings"?)'),
        (ns(label="evenings", annotation="nights"), "nights", Via.MATCH,
         'the label says "evenings" and the annotation "nights"'),
        (ns(label="nights", annotation="nights"), "nights", Via.LABEL, ""),
    ],
    ids=["file-match", "label", "annotation", "label-outside-the-match", "opt-out", "nothing",
         "typo", "label-and-annotation-disagree", "label-and-annotation-agree"],
)  # fmt: skip
def test_owner_applies_the_one_precedence_rule(
    namespace: Namespace, rule: str | None, via: Via, refused: str
) -> None:
    owned = owner(two_schedules(), namespace)
    assert (owned.rule.name if owned.rule else None, owned.via) == (rule, via)
    assert owned.refused == (f"{c.SCHEDULE_CHOICE}: {refused}" if refused else "")


def test_the_policy_limits_what_may_be_chosen() -> None:
    sched = two_schedules(choosable=["nights"], optOut=False)
    refused = owner(sched, ns(label="evenings"))
    assert (refused.rule and refused.rule.name, refused.via) == ("nights", Via.MATCH)
    assert '"evenings" may not be chosen (policy.choosable: nights)' in refused.refused
    no_opt_out = owner(sched, ns(label="none"))
    assert no_opt_out.rule is not None
    assert no_opt_out.rule.name == "nights"
    assert "policy.optOut" in no_opt_out.refused
    assert owner(two_schedules(choosable=[]), ns(label="evenings")).via is Via.MATCH


def test_a_policy_naming_an_unknown_schedule_is_bad_input() -> None:
    with pytest.raises(ConfigError, match=r'policy.choosable\[0\]: no schedule is named "evening"'):
        two_schedules(choosable=["evening"])


def test_none_is_not_a_schedule_name() -> None:
    with pytest.raises(ConfigError, match="is reserved"):
        schedule(
            {"schedules": [{"name": "none", "namespaces": {"names": ["x"]}, "windows": [NIGHTS]}]}
        )


def test_exclusions_still_win_over_a_choice() -> None:
    excluded = Namespace("dev-a", MappingProxyType({c.SCHEDULE_CHOICE: "evenings"}),
                         MappingProxyType({c.EXCLUDE: "true"}))  # fmt: skip
    plan = plan_ns(two_schedules(), excluded, [workload("api", replicas=2)], DOWN_AT)
    assert (plan.reason.value, plan.actions) == ("excluded", ())
    protected = plan_ns(
        two_schedules(), ns("kube-system", label="evenings"), [workload("dns")], DOWN_AT
    )
    assert (protected.desired, protected.actions) == (Desired.UP, ())


def test_the_plan_says_how_each_namespace_got_its_schedule() -> None:
    at = local("2026-11-26T19:00", "UTC")  # evenings' window is open, nights' is not
    chosen = plan_ns(two_schedules(), ns(label="evenings"), [workload("api", replicas=2)], at)
    assert (chosen.schedule, chosen.schedule_from, chosen.desired) == (
        "evenings",
        "label",
        Desired.DOWN,
    )
    typo = plan_ns(two_schedules(), ns(label="evenigns"), [workload("api", replicas=2)], at)
    assert (typo.schedule, typo.schedule_from, typo.desired) == ("nights", "match", Desired.UP)
    assert "did you mean" in typo.message


# --- 2. scale to N --------------------------------------------------------------------------------


def down_to(n: int) -> Schedule:
    return schedule({
        "defaults": {"downReplicas": n, "kinds": ["Deployment", "StatefulSet", "ScaledObject"]},
        "schedules": [{"name": "nights", "namespaces": {"names": ["*"]}, "windows": [NIGHTS]}],
    })  # fmt: skip


def only_action(sched: Schedule, w: Workload, at: datetime) -> Action:
    (action,) = plan_ns(sched, ns(), [w], at).actions
    return action


def test_down_replicas_keeps_n_up_and_restore_brings_the_rest() -> None:
    api = workload("api", replicas=5)
    down = only_action(down_to(2), api, DOWN_AT)
    assert (down.type, down.from_value, down.to_value) == (ActionType.SHUTDOWN, 5, 2)
    assert down.patch is not None
    assert down.patch.replicas == 2
    assert down.patch.annotations[c.ORIGINAL_REPLICAS] == "5"
    assert down.patch.annotations[c.SCALED_TO] == "2"
    held = apply_patch(api, down.patch)
    assert only_action(down_to(2), held, DOWN_AT + minutes(5)).type is ActionType.SKIP  # converged
    up = only_action(down_to(2), held, UP_AT)
    assert (up.type, up.from_value, up.to_value) == (ActionType.RESTORE, 2, 5)
    assert up.patch is not None
    restored = apply_patch(held, up.patch)
    assert (restored.replicas, dict(restored.annotations)) == (5, {})


@pytest.mark.parametrize("replicas", [0, 1, 2])
def test_a_workload_at_or_below_n_is_left_alone(replicas: int) -> None:
    action = only_action(down_to(2), workload("api", replicas=replicas), DOWN_AT)
    expected = SkipReason.ALREADY_AT_ZERO if replicas == 0 else SkipReason.AT_DOWN_REPLICAS
    assert (action.type, action.reason) == (ActionType.SKIP, expected)


def test_a_workload_annotation_overrides_the_schedule() -> None:
    api = workload("api", replicas=4, annotations={c.DOWN_REPLICAS: "1"})
    assert only_action(down_to(0), api, DOWN_AT).to_value == 1
    broken = workload("api", replicas=4, annotations={c.DOWN_REPLICAS: "one"})
    action = only_action(down_to(0), broken, DOWN_AT)
    assert (action.type, action.reason) == (ActionType.ERROR, SkipReason.CORRUPT_ANNOTATION)
    assert c.DOWN_REPLICAS in action.message


def test_someone_else_scaling_a_workload_held_at_n_keeps_their_value() -> None:
    held = apply_patch(
        workload("api", replicas=5),
        only_action(down_to(2), workload("api", replicas=5), DOWN_AT).patch,
    )  # type: ignore[arg-type]
    theirs = replace(held, replicas=3)
    again = only_action(down_to(2), theirs, DOWN_AT + minutes(5))  # inside the window: back to N
    assert (again.type, again.to_value) == (ActionType.SHUTDOWN, 2)
    assert again.patch is not None
    assert c.ORIGINAL_REPLICAS not in again.patch.annotations
    released = only_action(down_to(2), theirs, UP_AT)  # after it: their 3 stays
    assert (released.type, released.to_value) == (ActionType.RELEASE, 3)


def test_keda_pauses_at_n() -> None:
    scaled = workload("queue", kind=Kind.SCALEDOBJECT, scale_target=("Deployment", "worker"))
    down = only_action(down_to(1), scaled, DOWN_AT)
    assert down.patch is not None
    assert down.patch.annotations[c.KEDA_PAUSED_REPLICAS] == "1"
    up = only_action(down_to(1), apply_patch(scaled, down.patch), UP_AT)
    assert up.patch is not None
    assert up.patch.annotations[c.KEDA_PAUSED_REPLICAS] is None


@pytest.mark.parametrize("value", [-1, True, "2", 2**31])
def test_down_replicas_must_be_a_count(value: object) -> None:
    with pytest.raises(ConfigError, match=r"defaults.downReplicas"):
        down_to(value)  # type: ignore[arg-type]


# --- 3. wake-up tiers -----------------------------------------------------------------------------


def tiered(timeout: str = "10m") -> Schedule:
    rule = {"name": "nights", "namespaces": {"names": ["*"]}, "windows": [NIGHTS],
            "wakeOrder": "suggested", "wakeTimeout": timeout}  # fmt: skip
    return schedule({"schedules": [rule]})


def held(name: str, kind: Kind = Kind.DEPLOYMENT, **extra: str) -> Workload:
    annotations = {c.ORIGINAL_REPLICAS: "2", c.SHUTDOWN_AT: "2026-11-26T20:00:00+00:00",
                   c.SHUTDOWN_BY: "nights", **extra}  # fmt: skip
    if kind is Kind.CRONJOB:
        annotations = {
            c.ORIGINAL_SUSPEND: "false",
            **{k: v for k, v in annotations.items() if k != c.ORIGINAL_REPLICAS},
        }
        return workload(name, kind=kind, suspend=True, annotations=annotations)
    # its controller reports on it: 0 of 0 ready
    return replace(workload(name, kind=kind, replicas=0, annotations=annotations), ready=0)


def by_name(plan: NamespacePlan) -> dict[str, Action]:
    return {a.ref.name: a for a in plan.actions}


def restored(w: Workload, action: Action, at: datetime, *, ready: int = 0) -> Workload:
    """``w`` after ``action`` was written at ``at`` (its managedFields time), ``ready`` pods."""
    assert action.patch is not None
    return replace(apply_patch(w, action.patch), ready=ready, written_at=at)


def test_tiers_wake_in_order_one_run_each_once_ready() -> None:
    world = {
        w.name: w for w in (held("db", Kind.STATEFULSET), held("api"), held("report", Kind.CRONJOB))
    }
    first = by_name(plan_ns(tiered(), ns(), list(world.values()), UP_AT))
    assert first["db"].type is ActionType.RESTORE
    assert first["db"].patch is not None
    assert set(first["db"].patch.annotations) == set(c.OWN_WORKLOAD_KEYS)  # only removals
    waiting = first["api"]
    assert (waiting.type, waiting.reason) == (ActionType.SKIP, SkipReason.WAITING_FOR_TIER)
    assert "waits for wake-up tier 0 (StatefulSet db)" in first["api"].message
    assert first["report"].reason is SkipReason.WAITING_FOR_TIER
    world["db"] = restored(world["db"], first["db"], UP_AT)
    not_ready = by_name(plan_ns(tiered(), ns(), list(world.values()), UP_AT + minutes(5)))
    assert not_ready["api"].reason is SkipReason.WAITING_FOR_TIER
    assert "at most 5m more" in not_ready["api"].message
    world["db"] = replace(world["db"], ready=2)
    second = by_name(plan_ns(tiered(), ns(), list(world.values()), UP_AT + minutes(5)))
    assert second["api"].type is ActionType.RESTORE
    assert second["report"].reason is SkipReason.WAITING_FOR_TIER


def test_a_tier_that_never_gets_ready_holds_the_next_only_until_the_timeout() -> None:
    start = [held("db", Kind.STATEFULSET), held("api")]
    db = restored(start[0], by_name(plan_ns(tiered(), ns(), start, UP_AT))["db"], UP_AT)
    at_9 = by_name(plan_ns(tiered(), ns(), [db, held("api")], UP_AT + minutes(9)))
    at_10 = by_name(plan_ns(tiered(), ns(), [db, held("api")], UP_AT + minutes(10)))
    assert (at_9["api"].type, at_10["api"].type) == (ActionType.SKIP, ActionType.RESTORE)


def test_a_workload_no_controller_reports_on_is_not_waited_for() -> None:
    start = [held("db", Kind.STATEFULSET), held("api")]
    db = restored(start[0], by_name(plan_ns(tiered(), ns(), start, UP_AT))["db"], UP_AT)
    unreported = replace(db, ready=None)  # no status.observedGeneration: no controller
    plan = by_name(plan_ns(tiered(), ns(), [unreported, held("api")], UP_AT + minutes(1)))
    assert plan["api"].type is ActionType.RESTORE


def test_a_workload_annotation_picks_its_tier() -> None:
    last = held("db", Kind.STATEFULSET, **{c.WAKE_TIER: "5"})
    plan = by_name(plan_ns(tiered(), ns(), [last, held("api")], UP_AT))
    assert (plan["api"].type, plan["db"].type) == (ActionType.RESTORE, ActionType.SKIP)
    assert tiers.tier_of(held("x", **{c.WAKE_TIER: "x1"}), (("Deployment",),)) == 0  # ignored


def test_an_empty_wake_order_brings_everything_back_in_one_run() -> None:
    rule = {"name": "nights", "namespaces": {"names": ["*"]}, "windows": [NIGHTS], "wakeOrder": []}
    start = [held("db", Kind.STATEFULSET), held("api"), held("report", Kind.CRONJOB)]
    plan = plan_ns(schedule({"schedules": [rule]}), ns(), start, UP_AT)
    assert {a.type for a in plan.actions} == {ActionType.RESTORE}


def test_the_default_wake_order_is_the_suggested_one() -> None:
    assert down_to(0).schedules[0].wake_order == tiered().schedules[0].wake_order


def test_shutdown_goes_highest_tier_first_in_one_run() -> None:
    running = [workload("db", kind=Kind.STATEFULSET, replicas=1), workload("api", replicas=2),
               workload("report", kind=Kind.CRONJOB, suspend=False)]  # fmt: skip
    plan = plan_ns(tiered(), ns(), running, DOWN_AT)
    assert [(a.ref.name, a.type) for a in plan.actions] == [
        ("report", ActionType.SHUTDOWN),
        ("api", ActionType.SHUTDOWN),
        ("db", ActionType.SHUTDOWN),
    ]


def test_wake_order_names_known_kinds_once() -> None:
    rule = {"name": "n", "namespaces": {"names": ["*"]}, "windows": [NIGHTS],
            "wakeOrder": ["StatefulSet", ["Deployment", "StatefulSet"]]}  # fmt: skip
    twice = r'schedules\[0\].wakeOrder\[1\]: "StatefulSet" is in two tiers'
    with pytest.raises(ConfigError, match=twice):
        schedule({"schedules": [rule]})
    with pytest.raises(ConfigError, match=r'defaults.wakeOrder\[0\]: unknown kind "Statefulset"'):
        schedule({"defaults": {"wakeOrder": ["Statefulset"]}})


@st.composite
def namespaces_in_tiers(draw: st.DrawFn) -> list[Workload]:
    out = []
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from([Kind.STATEFULSET, Kind.DEPLOYMENT, Kind.CRONJOB]))
        extra = {c.WAKE_TIER: str(draw(st.integers(0, 3)))} if draw(st.booleans()) else {}
        out.append(held(f"w{i}", kind, **extra))
    return out


@given(start=namespaces_in_tiers(), ready=st.booleans())
def test_every_tier_comes_back_within_its_timeouts(start: list[Workload], ready: bool) -> None:
    """Healthy or never ready, every held workload is restored after at most one timeout per tier,
    never before a lower tier that reports readiness, and never after one that does not."""
    world = {w.name: w for w in start}
    order = tiered().schedules[0].wake_order
    restored_at: dict[str, int] = {}
    for step in range(0, 60, 5):
        plan = plan_ns(tiered(), ns(), list(world.values()), UP_AT + minutes(step))
        for action in plan.actions:
            if action.type is ActionType.RESTORE and action.patch is not None:
                after = apply_patch(world[action.ref.name], action.patch)
                reports = after.replicas is not None  # CronJobs report no ready replicas
                count = (after.replicas if ready else 0) if reports else None
                world[action.ref.name] = replace(
                    after, ready=count, written_at=UP_AT + minutes(step)
                )
                restored_at[action.ref.name] = step
    assert set(restored_at) == set(world)
    for name, step in restored_at.items():
        lower = [
            other
            for other in world
            if tiers.tier_of(world[other], order) < tiers.tier_of(world[name], order)
        ]
        for other in lower:
            if world[other].kind is Kind.CRONJOB:
                assert restored_at[other] <= step
            else:
                assert restored_at[other] < step
