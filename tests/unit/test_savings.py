"""Savings figures and where a run leaves each namespace: pure functions, known numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nsshutdown import constants as c
from nsshutdown.kinds import registry
from nsshutdown.model import Desired, Kind, Reason, Resources
from nsshutdown.observe.outcomes import NamespaceState, namespace_outcomes, namespace_state
from nsshutdown.observe.savings import (
    HOURS_PER_MONTH,
    ON_DEMAND_PRICES,
    SPOT_PRICES,
    Prices,
    hourly_cost,
    monthly_cost,
)
from nsshutdown.run.holdings import holdings_from_workloads, workloads_after
from nsshutdown.run.report import Holding, NamespaceStatus, Outcome
from tests.reports import (
    GIB,
    dev_a,
    down,
    namespace,
    report,
    result,
    scenario,
    up,
    workload,
)

# 3 replicas x 500m CPU x 1Gi memory, held down
THREE_HELD = workload(
    "api", replicas=0, annotations={c.ORIGINAL_REPLICAS: "3"}, cpu=0.5, memory=GIB
)


def test_default_prices_are_opencost_list_prices() -> None:
    assert Prices() == ON_DEMAND_PRICES
    assert (Prices().cpu_hour, Prices().memory_gib_hour) == (0.031611, 0.004237)
    assert (SPOT_PRICES.cpu_hour, SPOT_PRICES.memory_gib_hour) == (0.006655, 0.000892)


def test_negative_prices_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Prices(cpu_hour=-1)


def test_savings_of_three_replicas_of_500m_and_1gi() -> None:
    (holding,) = holdings_from_workloads([THREE_HELD])
    assert holding == Holding("dev-a", replicas=3, requests=Resources(1.5, 3 * GIB))
    hourly = hourly_cost(holding.requests, Prices())
    assert hourly == pytest.approx(1.5 * 0.031611 + 3 * 0.004237)
    assert hourly == pytest.approx(0.0601275)
    assert monthly_cost(hourly) == pytest.approx(0.0601275 * 730)
    assert HOURS_PER_MONTH == 730
    assert hourly_cost(holding.requests, SPOT_PRICES) == pytest.approx(
        1.5 * 0.006655 + 3 * 0.000892
    )


@pytest.mark.parametrize(
    ("replicas", "saved", "kind", "expected"),
    [
        pytest.param(0, "3", Kind.DEPLOYMENT, 3, id="held-at-zero"),
        pytest.param(1, "3", Kind.STATEFULSET, 2, id="scaled-up-by-hand-inside-window"),
        pytest.param(5, "3", Kind.ROLLOUT, 0, id="above-saved-never-negative"),
        pytest.param(None, "3", Kind.DEPLOYMENT, 2, id="unset-replicas-means-one"),
        pytest.param(0, "abc", Kind.DEPLOYMENT, 0, id="corrupt-saved-value"),
        pytest.param(0, None, Kind.DEPLOYMENT, 0, id="not-held"),
    ],
)
def test_held_replicas(replicas: int | None, saved: str | None, kind: Kind, expected: int) -> None:
    annotations = {} if saved is None else {c.ORIGINAL_REPLICAS: saved}
    w = workload("x", kind=kind, replicas=replicas, annotations=annotations)
    assert registry.of(w).held_replicas(w) == expected


def test_cronjob_and_scaledobject_are_held_with_no_replicas_and_no_savings() -> None:
    cron = workload(
        "cron", namespace="ns-1", kind=Kind.CRONJOB, suspend=True,
        annotations={c.ORIGINAL_SUSPEND: "false"}, cpu=1, memory=GIB,
    )  # fmt: skip
    scaled = workload(
        "so", namespace="ns-2", kind=Kind.SCALEDOBJECT,
        annotations={c.ORIGINAL_PAUSED_REPLICAS: "", c.KEDA_PAUSED_REPLICAS: "0"},
    )  # fmt: skip
    free = workload("free", namespace="ns-3", replicas=2, cpu=1, memory=GIB)
    assert holdings_from_workloads([scaled, free, cron]) == (
        Holding("ns-1", 0, Resources(0, 0)),
        Holding("ns-2", 0, Resources(0, 0)),
    )


def test_holdings_add_up_per_namespace_sorted() -> None:
    other = workload(
        "web", namespace="aaa", replicas=0, annotations={c.ORIGINAL_REPLICAS: "2"},
        cpu=0.25, memory=GIB / 2,
    )  # fmt: skip
    second = workload("worker", replicas=0, annotations={c.ORIGINAL_REPLICAS: "1"}, cpu=2)
    assert holdings_from_workloads([THREE_HELD, other, second]) == (
        Holding("aaa", 2, Resources(0.5, GIB)),
        Holding("dev-a", 4, Resources(3.5, 3 * GIB)),
    )


@given(
    replicas=st.integers(0, 500),
    cpu=st.floats(0, 64, allow_nan=False),
    memory=st.floats(0, 256 * GIB, allow_nan=False),
)
def test_total_requests_are_per_replica_requests_times_held_replicas(
    replicas: int, cpu: float, memory: float
) -> None:
    w = workload(
        "x", replicas=0, annotations={c.ORIGINAL_REPLICAS: str(replicas)}, cpu=cpu, memory=memory
    )
    (holding,) = holdings_from_workloads([w])
    assert holding.replicas == replicas
    assert holding.requests.cpu_cores == pytest.approx(cpu * replicas)
    assert holding.requests.memory_bytes == pytest.approx(memory * replicas)
    assert hourly_cost(holding.requests, Prices()) >= 0


HELD = {c.ORIGINAL_REPLICAS: "2"}
DOWN, UP = Desired.DOWN, Desired.UP


@pytest.mark.parametrize(
    ("workloads", "desired", "expected"),
    [
        pytest.param([("a", 0, HELD)], DOWN, NamespaceState.DOWN, id="held"),
        pytest.param([("a", 0, HELD)], UP, NamespaceState.DOWN, id="held-wanted-up"),
        pytest.param([("a", 0, {})], DOWN, NamespaceState.DOWN, id="all-at-zero-wanted-down"),
        pytest.param([], DOWN, NamespaceState.DOWN, id="empty-wanted-down"),
        pytest.param([], UP, NamespaceState.UP, id="empty-wanted-up"),
        pytest.param([("a", 0, {})], UP, NamespaceState.UP, id="at-zero-wanted-up"),
        pytest.param([("a", 0, HELD), ("b", 1, {})], DOWN, NamespaceState.PARTIAL, id="mixed"),
        pytest.param([("a", 2, HELD)], DOWN, NamespaceState.PARTIAL, id="held-but-running"),
        pytest.param([("a", 1, {})], DOWN, NamespaceState.UP, id="nothing-held-yet"),
    ],
)  # fmt: skip
def test_namespace_state(
    workloads: list[tuple[str, int, dict[str, str]]], desired: Desired, expected: NamespaceState
) -> None:
    ws = [workload(n, replicas=r, annotations=a) for n, r, a in workloads]
    assert namespace_state(ws, desired) is expected


def test_cronjob_and_keda_running_states() -> None:
    suspended = workload("c", kind=Kind.CRONJOB, suspend=True)
    running = workload("c", kind=Kind.CRONJOB, suspend=False)
    paused = workload("s", kind=Kind.SCALEDOBJECT, annotations={c.KEDA_PAUSED_REPLICAS: "0"})
    active = workload("s", kind=Kind.SCALEDOBJECT)
    assert namespace_state([suspended, paused], Desired.DOWN) is NamespaceState.DOWN
    assert namespace_state([running], Desired.DOWN) is NamespaceState.UP
    assert namespace_state([active], Desired.UP) is NamespaceState.UP


def test_workloads_after_applies_done_patches_only() -> None:
    applied = workloads_after(dev_a())
    by_name = {w.name: w for w in applied}
    assert by_name["api"].replicas == 0
    assert by_name["api"].annotations[c.ORIGINAL_REPLICAS] == "3"
    assert by_name["nightly"].suspend is True
    assert "legacy" not in by_name  # excluded: runs on purpose, not counted
    for outcome in (Outcome.FAILED, Outcome.ROLLED_BACK, Outcome.NOT_ATTEMPTED):
        as_observed = {w.name: w for w in workloads_after(dev_a(outcome))}
        assert as_observed["api"].replicas == 3, outcome
        assert c.ORIGINAL_REPLICAS not in as_observed["api"].annotations
    dry = {w.name: w for w in workloads_after(dev_a(Outcome.DRY_RUN))}
    assert dry["api"].replicas == 0  # a dry run shows what it would leave


def test_outcomes_of_the_scenario() -> None:
    outcomes = {o.namespace: o for o in namespace_outcomes(scenario(failed=True))}
    summary = {
        name: (o.state, o.down, o.desired_down, o.tracked, o.holding.replicas, o.schedule)
        for name, o in outcomes.items()
    }
    assert summary == {
        "dev-a": (NamespaceState.DOWN, True, True, True, 3, "nights"),
        "dev-b": (NamespaceState.PARTIAL, True, True, True, 2, "nights"),
        "qa": (NamespaceState.UP, False, False, True, 0, "nights"),
        "kube-system": (NamespaceState.EXCLUDED, False, False, False, 0, ""),
        "team-x": (NamespaceState.UP, False, False, False, 0, ""),
        "dev-c": (NamespaceState.FAILED, False, True, True, 0, "nights"),
    }
    assert outcomes["dev-a"].holding.requests == Resources(1.5, 3 * GIB)


def test_executor_holdings_win_over_computed_ones() -> None:
    given_holding = Holding("dev-a", 7, Resources(7, 7 * GIB))
    run = report(dev_a(), holdings=(given_holding,))
    (outcome,) = namespace_outcomes(run)
    assert outcome.holding == given_holding


def test_a_failed_restore_leaves_the_namespace_down_and_failed() -> None:
    held = workload("api", namespace="qa", replicas=0, annotations={c.ORIGINAL_REPLICAS: "4"})
    ns = namespace("qa", results=[result(up(held), Outcome.FAILED, "boom")])
    (outcome,) = namespace_outcomes(report(ns))
    assert (outcome.state, outcome.down, outcome.desired_down) == (
        NamespaceState.FAILED,
        True,
        False,
    )
    assert outcome.holding.replicas == 4


def test_not_attempted_namespace_counts_as_failed() -> None:
    api = workload("api", replicas=2)
    ns = namespace(
        "dev-a", desired=Desired.DOWN, reason=Reason.WINDOW,
        results=[result(down(api), Outcome.NOT_ATTEMPTED)],
        status=NamespaceStatus.NOT_ATTEMPTED, error="circuit open: not attempted",
    )  # fmt: skip
    (outcome,) = namespace_outcomes(report(ns))
    assert outcome.state is NamespaceState.FAILED
    assert not outcome.down
