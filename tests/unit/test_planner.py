"""The planner and per-workload decisions against DESIGN.md "Rules that peers got wrong"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nsshutdown import constants as c
from nsshutdown.model import (
    Action,
    ActionType,
    ClusterState,
    Desired,
    Kind,
    Namespace,
    NamespacePlan,
    Reason,
    SkipReason,
    Workload,
    apply_patch,
)
from nsshutdown.plan import planner
from tests.unit.builders import local, minutes, schedule, workload

SCHEDULE = schedule(
    {
        "defaults": {"timezone": "Europe/Madrid", "gracePeriod": "15m"},
        "excludeNamespaces": ["kube-*"],
        "schedules": [
            {
                "name": "dev-nights",
                "namespaces": {"names": ["dev-*"]},
                "windows": [{"shutdown": "0 20 * * 1-5", "startup": "0 8 * * 1-5"}],
                "kinds": ["Deployment", "StatefulSet", "CronJob", "ScaledObject", "Rollout"],
            },
            {
                "name": "deployments-only",
                "namespaces": {"names": ["only-*"]},
                "windows": [{"shutdown": "0 20 * * 1-5", "startup": "0 8 * * 1-5"}],
                "kinds": ["Deployment"],
            },
        ],
    }
)
DOWN_AT = local("2026-11-26T21:00", "Europe/Madrid")  # Thursday night: inside the window
UP_AT = local("2026-11-27T12:00", "Europe/Madrid")  # Friday noon: outside it
HELD_3 = {
    c.ORIGINAL_REPLICAS: "3",
    c.SHUTDOWN_AT: "2026-11-26T20:00:00+01:00",
    c.SHUTDOWN_BY: "dev-nights",
}
OWN_KEYS_REMOVED = dict.fromkeys(c.OWN_WORKLOAD_KEYS)


def plan_one(
    workloads: Sequence[Workload],
    at: datetime,
    *,
    namespace: str = "dev-a",
    annotations: Mapping[str, str] | None = None,
) -> NamespacePlan:
    ns = Namespace(namespace, annotations=dict(annotations or {}))
    state = ClusterState(namespaces=(ns,), workloads=tuple(workloads))
    return planner.plan(SCHEDULE, state, at).namespaces[0]


def only_action(workloads: Sequence[Workload], at: datetime) -> Action:
    actions = plan_one(workloads, at).actions
    assert len(actions) == 1
    return actions[0]


@dataclass(frozen=True)
class Case:
    workload: Workload
    at: datetime
    action: ActionType
    reason: SkipReason | None = None
    value: int | bool | None = None  # replicas (or suspend, for a CronJob) in the patch
    annotations: dict[str, str | None] | None = None  # keys the patch must set; None: no patch


CASES = {
    "shutdown-saves-count-and-scales-in-one-patch": Case(
        workload("api", replicas=3), DOWN_AT, ActionType.SHUTDOWN, value=0,
        annotations={c.ORIGINAL_REPLICAS: "3", c.SHUTDOWN_AT: DOWN_AT.isoformat(),
                     c.SHUTDOWN_BY: "dev-nights"},
    ),
    "manual-scale-up-in-window-goes-down-keeping-saved-count": Case(
        workload("api", replicas=5, annotations=HELD_3), DOWN_AT, ActionType.SHUTDOWN, value=0,
        annotations={},
    ),
    "already-zero-without-saved-count-is-left-alone": Case(
        workload("api", replicas=0), DOWN_AT, ActionType.SKIP, SkipReason.ALREADY_AT_ZERO,
    ),
    "restore-where-still-zero": Case(
        workload("api", replicas=0, annotations=HELD_3), UP_AT, ActionType.RESTORE, value=3,
        annotations=OWN_KEYS_REMOVED,
    ),
    "release-where-someone-already-scaled-up": Case(
        workload("api", replicas=2, annotations=HELD_3), UP_AT, ActionType.RELEASE,
        annotations=dict.fromkeys(HELD_3),
    ),
    "corrupt-saved-count-is-an-error": Case(
        workload("api", replicas=0, annotations={c.ORIGINAL_REPLICAS: "abc"}), UP_AT,
        ActionType.ERROR, SkipReason.CORRUPT_ANNOTATION,
    ),
    "workload-exclude-annotation": Case(
        workload("api", replicas=3, annotations={c.EXCLUDE: "true"}), DOWN_AT, ActionType.SKIP,
        SkipReason.EXCLUDED,
    ),
    "inside-grace-period": Case(
        workload("api", replicas=3, created=DOWN_AT - minutes(5)), DOWN_AT, ActionType.SKIP,
        SkipReason.GRACE_PERIOD,
    ),
    "past-grace-period": Case(
        workload("api", replicas=3, created=DOWN_AT - minutes(20)), DOWN_AT, ActionType.SHUTDOWN,
        value=0, annotations={c.ORIGINAL_REPLICAS: "3"},
    ),
    "cronjob-suspended-and-saved": Case(
        workload("nightly", kind=Kind.CRONJOB), DOWN_AT, ActionType.SHUTDOWN, value=True,
        annotations={c.ORIGINAL_SUSPEND: "false"},
    ),
    "cronjob-already-suspended-is-left-alone": Case(
        workload("nightly", kind=Kind.CRONJOB, suspend=True), DOWN_AT, ActionType.SKIP,
        SkipReason.ALREADY_SUSPENDED,
    ),
    "cronjob-resumed": Case(
        workload("nightly", kind=Kind.CRONJOB, suspend=True,
                 annotations={c.ORIGINAL_SUSPEND: "false"}),
        UP_AT, ActionType.RESTORE, value=False, annotations=OWN_KEYS_REMOVED,
    ),
    "statefulset-like-deployment": Case(
        workload("db", kind=Kind.STATEFULSET, replicas=2), DOWN_AT, ActionType.SHUTDOWN, value=0,
        annotations={c.ORIGINAL_REPLICAS: "2"},
    ),
    "rollout-like-deployment": Case(
        workload("web", kind=Kind.ROLLOUT, replicas=4), DOWN_AT, ActionType.SHUTDOWN, value=0,
        annotations={c.ORIGINAL_REPLICAS: "4"},
    ),
    "scaledobject-paused": Case(
        workload("queue", kind=Kind.SCALEDOBJECT, scale_target=("Deployment", "worker")), DOWN_AT,
        ActionType.SHUTDOWN,
        annotations={c.KEDA_PAUSED_REPLICAS: "0", c.ORIGINAL_PAUSED_REPLICAS: ""},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_single_workload_decisions(case: Case) -> None:
    action = only_action([case.workload], case.at)
    assert action.type is case.action
    assert action.reason is case.reason
    if case.annotations is None:
        assert action.patch is None
        return
    patch = action.patch
    assert patch is not None
    if case.workload.kind is not Kind.SCALEDOBJECT:
        assert (patch.suspend if case.workload.kind is Kind.CRONJOB else patch.replicas) == (
            case.value
        )
    for key, expected in case.annotations.items():
        assert patch.annotations[key] == expected
    # only this tool's keys (and KEDA's pause key) are ever in a patch: nothing else is touched
    assert set(patch.annotations) <= {*c.OWN_WORKLOAD_KEYS, c.KEDA_PAUSED_REPLICAS}


def test_a_second_plan_on_the_patched_state_writes_nothing() -> None:
    workloads = [
        workload("api", replicas=3),
        workload("nightly", kind=Kind.CRONJOB),
        workload("queue", kind=Kind.SCALEDOBJECT, annotations={c.KEDA_PAUSED_REPLICAS: "2"}),
    ]
    first = plan_one(workloads, DOWN_AT)
    patched = {a.ref.name: apply_patch(a.workload, a.patch) for a in first.actions if a.patch}
    assert len(patched) == 3
    second = plan_one(list(patched.values()), DOWN_AT + minutes(5))
    assert [a for a in second.actions if a.writes] == []
    assert patched["api"].annotations[c.ORIGINAL_REPLICAS] == "3"
    assert patched["queue"].annotations[c.ORIGINAL_PAUSED_REPLICAS] == "2"


def test_already_zero_without_saved_count_is_never_restored_upward() -> None:
    assert plan_one([workload("api", replicas=0)], UP_AT).actions == ()


def test_corrupt_value_stops_only_that_workload() -> None:
    broken = workload("broken", replicas=1, annotations={c.ORIGINAL_REPLICAS: "-1"})
    ns = plan_one([broken, workload("api", replicas=3)], DOWN_AT)
    by_name = {a.ref.name: a for a in ns.actions}
    assert by_name["broken"].type is ActionType.ERROR
    assert by_name["broken"].patch is None
    assert by_name["api"].type is ActionType.SHUTDOWN


def test_keda_target_is_skipped_and_its_scaledobject_paused() -> None:
    ns = plan_one(
        [
            workload("worker", replicas=4),
            workload("queue", kind=Kind.SCALEDOBJECT, scale_target=("Deployment", "worker")),
        ],
        DOWN_AT,
    )
    by_name = {a.ref.name: a for a in ns.actions}
    assert (by_name["worker"].type, by_name["worker"].reason) == (
        ActionType.SKIP,
        SkipReason.KEDA_MANAGED,
    )
    assert by_name["queue"].type is ActionType.SHUTDOWN


def test_namespace_without_schedule_holding_saved_counts_is_restored() -> None:
    ns = plan_one([workload("api", namespace="orphan", replicas=0, annotations=HELD_3)], DOWN_AT,
                  namespace="orphan")  # fmt: skip
    assert (ns.desired, ns.reason, ns.schedule) == (Desired.UP, Reason.NO_SCHEDULE, None)
    assert [a.type for a in ns.actions] == [ActionType.RESTORE]


def test_globally_excluded_namespace_holding_saved_counts_is_restored() -> None:
    held = workload("api", namespace="kube-x", replicas=0, annotations=HELD_3)
    ns = plan_one([held], DOWN_AT, namespace="kube-x")
    assert (ns.desired, ns.reason) == (Desired.UP, Reason.EXCLUDED)
    assert [a.type for a in ns.actions] == [ActionType.RESTORE]


def test_namespace_exclude_annotation_means_hands_off() -> None:
    held = workload("api", replicas=0, annotations=HELD_3)
    ns = plan_one([held, workload("web", replicas=2)], DOWN_AT, annotations={c.EXCLUDE: "true"})
    assert (ns.desired, ns.reason, ns.actions) == (Desired.UP, Reason.EXCLUDED, ())


def test_keep_up_until_wins_over_the_window_and_expires() -> None:
    until = DOWN_AT + minutes(120)
    annotations = {c.KEEP_UP_UNTIL: until.isoformat()}
    ns = plan_one(
        [workload("api", replicas=0, annotations=HELD_3)], DOWN_AT, annotations=annotations
    )
    assert (ns.desired, ns.reason) == (Desired.UP, Reason.KEEP_UP_UNTIL)
    assert [a.type for a in ns.actions] == [ActionType.RESTORE]
    assert ns.next_transition is not None
    assert (ns.next_transition.at, ns.next_transition.to) == (until, Desired.DOWN)
    later = plan_one([workload("api", replicas=3)], until + minutes(1), annotations=annotations)
    assert (later.desired, later.reason) == (Desired.DOWN, Reason.WINDOW)


def test_invalid_keep_up_until_leaves_the_namespace_alone() -> None:
    annotations = {c.KEEP_UP_UNTIL: "tomorrow"}
    ns = plan_one([workload("api", replicas=3)], DOWN_AT, annotations=annotations)
    assert (ns.reason, ns.actions) == (Reason.INVALID_ANNOTATION, ())
    assert "RFC 3339" in ns.message


def test_kinds_not_scheduled_are_only_restored() -> None:
    held_db = workload("db", namespace="only-a", kind=Kind.STATEFULSET, replicas=0,
                       annotations=HELD_3)  # fmt: skip
    fresh_db = workload("db2", namespace="only-a", kind=Kind.STATEFULSET, replicas=2)
    api = workload("api", namespace="only-a", replicas=2)
    ns = plan_one([held_db, fresh_db, api], DOWN_AT, namespace="only-a")
    assert {a.ref.name: a.type for a in ns.actions} == {
        "api": ActionType.SHUTDOWN,
        "db": ActionType.RESTORE,
    }


def test_cronjob_already_suspended_survives_a_cycle() -> None:
    suspended = workload("report", kind=Kind.CRONJOB, suspend=True)
    after_down = _converge([suspended], DOWN_AT)
    after_up = _converge(after_down, UP_AT)
    assert after_up[0].suspend is True
    assert dict(after_up[0].annotations) == {}


def test_plan_reports_next_transition_and_schedule() -> None:
    ns = plan_one([], DOWN_AT)
    assert (ns.schedule, ns.desired, ns.reason) == ("dev-nights", Desired.DOWN, Reason.WINDOW)
    assert ns.next_transition is not None
    assert ns.next_transition.at == local("2026-11-27T08:00", "Europe/Madrid")


# --- restore(shutdown(state)) == state ----------------------------------------------------------


def _converge(workloads: Sequence[Workload], at: datetime) -> list[Workload]:
    """Apply every writing action of the plan at ``at``, as a perfect executor would, and let the
    controllers make every pod ready at once."""
    by_ref = {w.ref: w for w in workloads}
    for action in plan_one(workloads, at).actions:
        if action.patch is not None:
            patched = apply_patch(by_ref[action.ref], action.patch)
            by_ref[action.ref] = replace(patched, ready=patched.replicas)
    return [by_ref[w.ref] for w in workloads]


def _observable(w: Workload) -> tuple[object, ...]:
    return (w.ref, w.replicas, w.suspend, dict(w.annotations))


foreign_annotations = st.dictionaries(
    st.sampled_from(["team", "argocd.argoproj.io/sync-wave", c.EXCLUDE]),
    st.sampled_from(["true", "1", "x"]),
    max_size=2,
)


@st.composite
def workloads(draw: st.DrawFn) -> list[Workload]:
    result = []
    for index in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(list(Kind)))
        annotations = draw(foreign_annotations)
        name = f"w{index}"
        if kind is Kind.SCALEDOBJECT:
            paused = draw(st.sampled_from([None, "0", "2"]))
            if paused is not None:
                annotations[c.KEDA_PAUSED_REPLICAS] = paused
            target = draw(st.sampled_from([None, ("Deployment", "w0"), ("StatefulSet", "w1")]))
            result.append(workload(name, kind=kind, annotations=annotations, scale_target=target))
        elif kind is Kind.CRONJOB:
            suspend = draw(st.booleans())
            result.append(workload(name, kind=kind, suspend=suspend, annotations=annotations))
        else:
            replicas = draw(st.integers(0, 5))
            result.append(workload(name, kind=kind, replicas=replicas, annotations=annotations))
    return result


# Offsets keep both runs of each phase on the same side of the window (Thu 21:00-Fri 08:00).
@given(start=workloads(), down_offset=st.integers(0, 600), up_offset=st.integers(0, 400))
def test_restore_after_shutdown_gives_back_the_original_state(
    start: list[Workload], down_offset: int, up_offset: int
) -> None:
    down = _converge(start, DOWN_AT + minutes(down_offset))
    down_again = _converge(down, DOWN_AT + minutes(down_offset + 5))
    assert [_observable(w) for w in down_again] == [_observable(w) for w in down]  # idempotent
    up = down_again
    for run in range(3):  # one wake-up tier per run at most: StatefulSets, Deployments, CronJobs
        up = _converge(up, UP_AT + minutes(up_offset + 5 * run))
    assert [_observable(w) for w in up] == [_observable(w) for w in start]
    up_again = _converge(up, UP_AT + minutes(up_offset + 15))
    assert [_observable(w) for w in up_again] == [_observable(w) for w in start]
