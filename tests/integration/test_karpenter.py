"""Karpenter removes the nodes a shutdown empties, and only those (real processes throughout).

A real API server, controller-manager, scheduler, kwok and Karpenter's KWOK provider; the real
nsshutdown CLI in a subprocess. One night is run once for the module (see
:mod:`tests.integration.karpenter_support`); each test asserts one thing about it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.karpenter import KarpenterCluster
from tests.integration.karpenter_support import (
    CRONJOB_POD,
    DEBUG_POD,
    DOWN,
    NODES_GONE_WITHIN,
    PODS_BACK_WITHIN,
    TEAMS,
    Night,
    run_night,
    start_or_skip,
    tier_cluster,
)


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Night]:
    cluster: KarpenterCluster = tier_cluster()
    start_or_skip(cluster)
    try:
        yield run_night(cluster, tmp_path_factory.mktemp("karpenter"))
    finally:
        cluster.stop()


def test_every_team_pod_gets_a_node_of_its_own(night: Night) -> None:
    assert night.evening.count == sum(team.pods for team in TEAMS)
    assert not night.evening.draining


def test_shutdown_leaves_only_the_nodes_the_remaining_pods_need(night: Night) -> None:
    # Left: team-c's two 1200m pods and the two 100m pinned pods. A 1900m node takes one 1200m pod
    # beside a pinned one but never two, so two nodes are needed, and they must be the pinned
    # ones: Karpenter moves team-c's pods next to the pinned pods and removes the rest.
    assert set(night.night.names) == set(night.pinned.values())
    assert night.night_phases == {"running": 3, "total": 3}  # team-c's two and the debug pod
    assert night.night.hourly < night.evening.hourly


def test_nodes_go_within_the_documented_bound(night: Night) -> None:
    assert 0 < night.nodes_gone_seconds <= NODES_GONE_WITHIN


def test_a_do_not_disrupt_pod_keeps_its_node(night: Night) -> None:
    assert night.pinned_after.get(DEBUG_POD) == night.pinned[DEBUG_POD]
    assert night.pinned[DEBUG_POD] in night.night.names


def test_status_names_the_pod_that_blocks_the_saving(night: Night) -> None:
    rows = {row["namespace"]: row for row in night.status["namespaces"]}
    assert rows["team-a"]["state"] == "down"
    assert rows["team-a"]["pinning_pods"] == [{"name": DEBUG_POD, "node": night.pinned[DEBUG_POD]}]
    assert all(rows[ns]["pinning_pods"] == [] for ns in ("team-b", "team-c"))
    assert all(rows[ns]["estimated_hourly_savings"] > 0 for ns in DOWN)


def test_the_cronjob_pods_own_annotation_keeps_its_node(night: Night) -> None:
    assert night.pinned_after.get(CRONJOB_POD) == night.pinned[CRONJOB_POD]
    assert night.pinned[CRONJOB_POD] in night.night.names


def test_restore_brings_every_pod_back_running(night: Night) -> None:
    assert night.morning_phases["running"] == night.morning_phases["total"]
    assert night.pods_back_seconds <= PODS_BACK_WITHIN
    # One team pod per node again (team-c's now share the pinned nodes): seven pods, seven nodes.
    assert night.morning.count == night.evening.count
