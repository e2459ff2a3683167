"""What the tool holds, in one pure module: held and stamped workloads, namespaces to bring back,
and the namespace annotations a manual command writes."""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType

from nsshutdown import constants as c
from nsshutdown.model import ClusterState, Desired, Namespace, NamespacePlan, Plan, Reason
from nsshutdown.plan.holds import hold_annotations, holding_namespaces, is_held, is_stamped
from tests.fakes import workload

NOW = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)
UNTIL = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


def ns(name: str, **annotations: str) -> Namespace:
    return Namespace(name, annotations=MappingProxyType(annotations))


def test_held_means_saved_state_and_stamped_means_any_key_of_ours() -> None:
    saved = workload("a", annotations={c.ORIGINAL_REPLICAS: "3"})
    stamp_only = workload("b", annotations={c.SHUTDOWN_AT: NOW.isoformat()})
    assert is_held(saved)
    assert is_stamped(saved)
    assert not is_held(stamp_only)
    assert is_stamped(stamp_only)
    assert not is_stamped(workload("c"))


def test_namespaces_to_bring_back_hold_a_workload_or_a_down_hold() -> None:
    state = ClusterState(
        namespaces=(ns("a"), ns("b", **{c.KEEP_DOWN_UNTIL: "x"}), ns("c")),
        workloads=(workload("w", namespace="a", annotations={c.SHUTDOWN_BY: "manual"}),),
    )
    assert holding_namespaces(state) == ["a", "b"]


def _plan(*namespaces: tuple[str, Reason]) -> Plan:
    return Plan(NOW, tuple(NamespacePlan(n, Desired.DOWN, r) for n, r in namespaces))


def test_a_hold_sets_its_key_and_removes_the_opposite_one() -> None:
    state = ClusterState(namespaces=(ns("a", **{c.KEEP_UP_UNTIL: "x"}), ns("b")), workloads=())
    notes = hold_annotations(
        state, _plan(("a", Reason.MANUAL), ("b", Reason.MANUAL)), want=Desired.DOWN, until=UNTIL
    )
    assert notes == {
        "a": {c.KEEP_DOWN_UNTIL: "2026-11-27T00:00:00Z", c.KEEP_UP_UNTIL: None},
        "b": {c.KEEP_DOWN_UNTIL: "2026-11-27T00:00:00Z"},
    }


def test_without_until_only_the_opposite_hold_goes_and_excluded_namespaces_get_nothing() -> None:
    state = ClusterState(
        namespaces=(ns("a", **{c.KEEP_DOWN_UNTIL: "x"}), ns("kube-system")), workloads=()
    )
    plan = _plan(("a", Reason.MANUAL), ("kube-system", Reason.EXCLUDED))
    assert hold_annotations(state, plan, want=Desired.UP, until=None) == {
        "a": {c.KEEP_DOWN_UNTIL: None}
    }
