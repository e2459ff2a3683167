"""The kind registry and its mechanisms: one table, every kind scaled by exactly one mechanism."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nsshutdown import constants as c
from nsshutdown.kinds import registry
from nsshutdown.kinds.base import MAX_SAVED_COUNT, CorruptAnnotationError, parse_count
from nsshutdown.kube.wire import parse_workload
from nsshutdown.model import ActionType, Context, CustomKind, Desired, Kind, Patch, SkipReason
from nsshutdown.plan.decisions import decide
from nsshutdown.run.permissions import required
from nsshutdown.schedule.config import load_schedule_text
from tests.fakes import LONG_AGO, workload

NOW = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)
DOWN = Context(Desired.DOWN, NOW, shutdown_by="nights")
UP = Context(Desired.UP, NOW)


def test_every_kind_has_one_mechanism() -> None:
    assert set(registry.MECHANISMS) == set(Kind)
    assert all(kind is m.kind for kind, m in registry.MECHANISMS.items())


def test_every_kind_has_its_own_api_coordinates() -> None:
    apis = [m.api.qualified for m in registry.MECHANISMS.values()]
    assert len(apis) == len(set(apis))
    assert registry.mechanism(Kind.JOB).api.qualified == "jobs.batch"


def test_foreign_keys_are_what_mechanisms_read() -> None:
    assert {c.KEDA_PAUSED_REPLICAS} == registry.FOREIGN_KEYS


# --- saved counts are what the tool writes, and nothing else ----------------------------------


@pytest.mark.parametrize("raw", ["0", "3", "10", str(MAX_SAVED_COUNT)])
def test_a_count_the_tool_writes_reads_back(raw: str) -> None:
    w = workload("api", annotations={c.ORIGINAL_REPLICAS: raw})
    assert parse_count(w, c.ORIGINAL_REPLICAS) == int(raw)


@pytest.mark.parametrize(
    "raw",
    ["", " 3", "3 ", "+3", "-1", "3.0", "²", "٣", "0x10", str(MAX_SAVED_COUNT + 1), "9" * 5000],
    ids=repr,
)
def test_anything_else_is_corrupt(raw: str) -> None:
    w = workload("api", annotations={c.ORIGINAL_REPLICAS: raw})
    with pytest.raises(CorruptAnnotationError, match="original-replicas"):
        parse_count(w, c.ORIGINAL_REPLICAS)


@given(st.text(max_size=40))
def test_any_text_is_a_count_or_corrupt_never_a_crash(raw: str) -> None:
    w = workload("api", replicas=0, annotations={c.ORIGINAL_REPLICAS: raw})
    canonical = raw.isascii() and raw.isdigit() and int(raw) <= MAX_SAVED_COUNT
    action = decide(w, UP)
    if canonical:
        assert action.type is ActionType.RESTORE
        assert action.to_value == int(raw)
    else:
        assert action.type is ActionType.ERROR
        assert action.reason is SkipReason.CORRUPT_ANNOTATION
        assert raw in action.message


# --- Jobs: suspended for the night, resumed in the morning ---------------------------------------


def job_item(
    *, suspend: bool | None = None, conditions: list[dict[str, str]] | None = None
) -> dict:
    spec: dict = {"template": {"spec": {"containers": [{"resources": {"requests": {"cpu": "2"}}}]}}}
    if suspend is not None:
        spec["suspend"] = suspend
    return {
        "metadata": {
            "name": "batch",
            "namespace": "dev-a",
            "creationTimestamp": "2020-01-01T00:00:00Z",
        },
        "spec": spec,
        "status": {"conditions": conditions or []},
    }


def test_a_running_job_is_suspended_and_resumed() -> None:
    job = parse_workload(Kind.JOB, job_item())
    assert job.suspend is False
    assert job.requests.cpu_cores == 2
    down = decide(job, DOWN)
    assert down.type is ActionType.SHUTDOWN
    assert down.field == "spec.suspend"
    assert down.patch == Patch(
        suspend=True,
        annotations={
            c.ORIGINAL_SUSPEND: "false",
            c.SHUTDOWN_AT: NOW.isoformat(),
            c.SHUTDOWN_BY: "nights",
        },
    )
    held = workload("batch", kind=Kind.JOB, suspend=True, annotations={c.ORIGINAL_SUSPEND: "false"})
    up = decide(held, UP)
    assert up.type is ActionType.RESTORE
    assert up.patch is not None
    assert up.patch.suspend is False


@pytest.mark.parametrize("finished", ["Complete", "Failed"])
def test_a_finished_job_is_left_alone(finished: str) -> None:
    job = parse_workload(Kind.JOB, job_item(conditions=[{"type": finished, "status": "True"}]))
    assert job.finished
    action = decide(job, DOWN)
    assert action.type is ActionType.SKIP
    assert action.reason is SkipReason.FINISHED
    assert not registry.of(job).is_running(job)


def test_a_condition_that_is_not_true_does_not_finish_a_job() -> None:
    job = parse_workload(Kind.JOB, job_item(conditions=[{"type": "Complete", "status": "False"}]))
    assert not job.finished
    assert decide(job, DOWN).type is ActionType.SHUTDOWN


def test_a_job_suspended_by_someone_else_stays_theirs() -> None:
    job = parse_workload(Kind.JOB, job_item(suspend=True))
    assert decide(job, DOWN).reason is SkipReason.ALREADY_SUSPENDED


def test_a_young_job_gets_its_grace_period() -> None:
    young = workload("batch", kind=Kind.JOB, created=NOW - timedelta(minutes=1))
    ctx = Context(Desired.DOWN, NOW, grace_period=timedelta(minutes=15))
    assert decide(young, ctx).reason is SkipReason.GRACE_PERIOD
    assert decide(workload("old", kind=Kind.JOB, created=LONG_AGO), ctx).writes


def test_jobs_hold_no_replicas_for_the_savings_estimate() -> None:
    held = workload("batch", kind=Kind.JOB, suspend=True, annotations={c.ORIGINAL_SUSPEND: "false"})
    assert registry.of(held).held_replicas(held) == 0


def test_a_cronjob_reads_its_pod_template_below_the_job_template() -> None:
    item = {
        "metadata": {"name": "nightly", "namespace": "dev-a"},
        "spec": {"jobTemplate": {"spec": job_item()["spec"]}},
    }
    assert parse_workload(Kind.CRONJOB, item).requests.cpu_cores == 2


@pytest.mark.parametrize("replicas", ["3", None, True, -1, 2.5, [1]], ids=repr)
def test_a_replica_count_the_api_would_not_send_reads_as_absent(replicas: object) -> None:
    item = {"metadata": {"name": "api", "namespace": "dev-a"}, "spec": {"replicas": replicas}}
    assert parse_workload(Kind.DEPLOYMENT, item).replicas is None


# --- custom resources declared in the schedule ---------------------------------------------------

CUSTOM = """
version: 1
customKinds:
  - {kind: CloneSet, group: apps.kruise.io, version: v1alpha1, resource: clonesets}
defaults: {kinds: [Deployment, CloneSet]}
schedules:
  - name: dev
    namespaces: {names: ["dev-*"]}
    holidays: ["2026-12-24"]
"""
CLONESET = CustomKind("CloneSet", "apps.kruise.io", "v1alpha1", "clonesets")


def test_a_declared_custom_kind_resolves_in_kinds_and_is_read_by_every_run() -> None:
    schedule = load_schedule_text(CUSTOM, source="custom")
    assert schedule.schedules[0].kinds == (Kind.DEPLOYMENT, CLONESET)
    assert schedule.custom_kinds == (CLONESET,)
    assert set(schedule.kinds) == {*Kind, CLONESET}


def test_a_custom_kind_is_scaled_through_spec_replicas_at_its_own_coordinates() -> None:
    mechanism = registry.mechanism(CLONESET)
    assert mechanism.api.qualified == "clonesets.apps.kruise.io"
    item = {"metadata": {"name": "web", "namespace": "dev-a"}, "spec": {"replicas": 4}}
    web = parse_workload(CLONESET, item)
    action = decide(web, DOWN)
    assert (action.type, action.field, action.from_value, action.to_value) == (
        ActionType.SHUTDOWN, "spec.replicas", 4, 0,
    )  # fmt: skip
    assert action.patch is not None
    assert action.patch.annotations[c.ORIGINAL_REPLICAS] == "4"


def test_a_custom_kind_needs_the_same_verbs_on_its_own_resource() -> None:
    wanted = {str(p) for p in required(custom_kinds=(CLONESET,))}
    assert {"get clonesets.apps.kruise.io", "list clonesets.apps.kruise.io"} <= wanted
    assert "patch clonesets.apps.kruise.io" in wanted
    assert not any("clonesets" in p for p in {str(p) for p in required()})


@pytest.mark.parametrize(
    ("kind", "before", "after", "words"),
    [
        (Kind.DEPLOYMENT, 3, 0, "replicas 3 → 0"),
        (Kind.STATEFULSET, 0, 2, "replicas 0 → 2"),
        (Kind.CRONJOB, False, True, "suspended"),
        (Kind.JOB, True, False, "resumed"),
        (Kind.SCALEDOBJECT, None, 0, "KEDA paused at 0"),
        (Kind.SCALEDOBJECT, 0, None, "KEDA unpaused"),
        (Kind.SCALEDOBJECT, 0, 2, "KEDA paused at 2 again"),
    ],
)
def test_changes_read_as_people_think(
    kind: Kind, before: object, after: object, words: str
) -> None:
    assert registry.mechanism(kind).change(before, after) == words  # type: ignore[arg-type]
