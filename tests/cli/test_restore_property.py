"""Property: for any starting state, restore(shutdown(state)) == state.

The real planner and executor run against the in-memory fake: a manual shutdown of every
namespace, then a manual restore. Whatever the workloads looked like (any kind, replicas, a
CronJob already suspended, KEDA already paused, excluded workloads, KEDA targets, other people's
annotations), the second step must give back exactly what the first found.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType

from hypothesis import given
from hypothesis import strategies as st

from nsshutdown import constants as c
from nsshutdown.kinds import registry
from nsshutdown.model import Desired, Kind, Workload, WorkloadRef
from nsshutdown.plan import tiers
from nsshutdown.plan.planner import plan
from nsshutdown.run.executor import execute
from nsshutdown.run.report import Outcome
from nsshutdown.schedule.config import load_schedule_text
from tests.fakes import LONG_AGO, FakeCluster

REPLICA_KINDS = frozenset(k for k, m in registry.MECHANISMS.items() if m.field == "spec.replicas")
NOW = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)
ALL_KINDS = load_schedule_text(
    "version: 1\ndefaults: {kinds: [Deployment, StatefulSet, CronJob, ScaledObject, Rollout]}\n",
    source="test",
)
NAMESPACES = ("dev-a", "dev-b")
NAMES = ("api", "db", "web", "worker")

other_annotations = st.dictionaries(
    st.sampled_from(["team", "argocd.argoproj.io/tracking-id", "example.com/x"]),
    st.text(max_size=5),
    max_size=2,
)


@st.composite
def workloads(draw: st.DrawFn) -> Workload:
    kind = draw(st.sampled_from(list(Kind)))
    annotations = dict(draw(other_annotations))
    if draw(st.booleans()) and draw(st.booleans()):
        annotations[c.EXCLUDE] = "true"
    replicas = suspend = scale_target = None
    if kind in REPLICA_KINDS:
        replicas = draw(st.none() | st.integers(min_value=0, max_value=5))
    elif kind is Kind.CRONJOB:
        suspend = draw(st.booleans())
    else:
        paused = draw(st.none() | st.sampled_from(["0", "1", "3", "", "abc"]))
        if paused is not None:
            annotations[c.KEDA_PAUSED_REPLICAS] = paused
        scale_target = ("Deployment", draw(st.sampled_from(NAMES)))
    return Workload(
        ref=WorkloadRef(kind, draw(st.sampled_from(NAMESPACES)), draw(st.sampled_from(NAMES))),
        created=LONG_AGO,
        replicas=replicas,
        suspend=suspend,
        annotations=MappingProxyType(annotations),
        scale_target=scale_target,
    )


def converge(fake: FakeCluster, desired: Desired) -> None:
    """One command: a pass per wake-up tier (the fake's workloads are ready at once)."""
    overrides = dict.fromkeys(fake.namespaces, desired)
    for _ in range(4):
        planned = plan(ALL_KINDS, fake.observe(frozenset(Kind)), NOW, overrides=overrides)
        report = execute(planned, fake)
        # ERROR decisions (a value that could not be put back) are allowed; failed writes are not
        assert all(r.outcome is not Outcome.FAILED for ns in report.namespaces for r in ns.results)
        if not tiers.waiting(planned):
            return
    raise AssertionError("still waiting for a wake-up tier after a pass per tier")


def normalized(fake: FakeCluster) -> dict[WorkloadRef, tuple[object, ...]]:
    """Replicas left unset mean 1 (the API server's default), so compare them as 1."""
    return {
        ref: (
            1 if w.replicas is None and w.kind in REPLICA_KINDS else w.replicas,
            w.suspend,
            dict(w.annotations),
        )
        for ref, w in fake.workloads.items()
    }


@given(st.lists(workloads(), max_size=12, unique_by=lambda w: w.ref))
def test_restore_after_shutdown_is_the_identity(start: list[Workload]) -> None:
    fake = FakeCluster(start)
    before = normalized(fake)

    converge(fake, Desired.DOWN)
    down = normalized(fake)
    converge(fake, Desired.UP)

    assert normalized(fake) == before
    for ref, (replicas, suspend, _) in down.items():
        excluded = before[ref][2].get(c.EXCLUDE) == "true"
        if ref.kind in REPLICA_KINDS and not excluded and ref not in _keda_targets(start):
            assert replicas == 0
        if ref.kind is Kind.CRONJOB and not excluded:
            assert suspend is True


@given(st.lists(workloads(), max_size=12, unique_by=lambda w: w.ref))
def test_shutdown_and_restore_are_each_idempotent(start: list[Workload]) -> None:
    fake = FakeCluster(start)
    for desired in (Desired.DOWN, Desired.UP):
        converge(fake, desired)
        after_first, writes = normalized(fake), len(fake.writes)
        converge(fake, desired)
        assert normalized(fake) == after_first
        assert len(fake.writes) == writes


def _keda_targets(workloads: list[Workload]) -> set[WorkloadRef]:
    return {
        WorkloadRef(Kind.DEPLOYMENT, w.namespace, w.scale_target[1])
        for w in workloads
        if w.scale_target is not None
    }
