"""Failures on a real API server: a concurrent change (409), RBAC refusing one namespace, the
API server going away mid-run, and no API server at all."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools import LocalCluster, LocalPushgateway
from devtools.workloads import create_deployment
from nsshutdown import constants as c
from nsshutdown.kube import KubeCluster
from nsshutdown.model import Patch, Workload
from tests.integration.converge_support import (
    TcpProxy,
    World,
    kubeconfig_via,
    service_account_kubeconfig,
)

FAST_FAILURE = ["--retries", "1", "--request-timeout", "3", "--breaker-threshold", "3"]
Patcher = Callable[..., Workload]


@pytest.fixture
def world(cluster: LocalCluster, tmp_path: Path) -> Iterator[World]:
    with World(cluster, tmp_path) as w:
        yield w


def _wrap_patch(monkeypatch: pytest.MonkeyPatch, before: Callable[[Workload, int], None]) -> None:
    """Call ``before(workload, n)`` ahead of the n-th patch the CLI sends (1-based)."""
    original: Patcher = KubeCluster.patch_workload
    count = 0

    def patch_workload(self: KubeCluster, workload: Workload, patch: Patch, **kw: Any) -> Workload:
        nonlocal count
        count += 1
        before(workload, count)
        return original(self, workload, patch, **kw)

    monkeypatch.setattr(KubeCluster, "patch_workload", patch_workload)


def test_a_concurrent_change_gets_409_and_is_decided_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=3)

    def someone_scales_first(workload: Workload, n: int) -> None:
        if n == 1:  # after our list, before our write
            world.patch("Deployment", ns, workload.name, {"spec": {"replicas": 7}})

    _wrap_patch(monkeypatch, someone_scales_first)
    result = world.cli("run", "-s", world.schedule(down=True))

    assert result.code == 0, result.stderr
    action = result.action(ns, "api")
    assert (action["conflicts"], action["from"], action["outcome"]) == (1, 7, "applied")
    assert world.replicas(ns, "api") == 0
    assert world.ours(ns, "api")[c.ORIGINAL_REPLICAS] == "7"


def test_rbac_forbidding_one_namespace_fails_it_and_the_others_converge(world: World) -> None:
    allowed, forbidden = world.namespace(), world.namespace()
    for ns in (allowed, forbidden):
        create_deployment(world.api, ns, "api", replicas=2)
        create_deployment(world.api, ns, "web", replicas=1)
    kubeconfig = service_account_kubeconfig(world, "nsshutdown", patch_in=[allowed])

    result = world.cli("run", "-s", world.schedule(down=True), kubeconfig=kubeconfig)

    assert result.code == 2
    assert result.namespace(allowed)["status"] == "converged"
    assert (world.replicas(allowed, "api"), world.replicas(allowed, "web")) == (0, 0)
    failed = result.namespace(forbidden)
    assert failed["status"] == "failed"
    assert "403" in failed["error"]
    outcomes = {a["name"]: a["outcome"] for a in failed["actions"]}
    assert outcomes == {"api": "failed", "web": "not-attempted"}
    assert (world.replicas(forbidden, "api"), world.replicas(forbidden, "web")) == (2, 1)
    assert world.ours(forbidden, "api") == {}


def test_api_server_gone_mid_run_loses_no_saved_count_and_the_next_run_heals(
    world: World, cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    original = {}
    for ns in (world.namespace(), world.namespace()):
        for i, name in enumerate(("a", "b", "c")):
            create_deployment(world.api, ns, name, replicas=i + 2)
            original[(ns, name)] = i + 2
    proxy = TcpProxy(int(cluster.server_url.rsplit(":", 1)[1]))
    via_proxy = kubeconfig_via(cluster, proxy.port, tmp_path / "proxy.kubeconfig")

    def server_goes_away(workload: Workload, n: int) -> None:
        if n == 3:  # two writes made it
            proxy.stop()

    _wrap_patch(monkeypatch, server_goes_away)
    schedule = world.schedule(down=True)
    cut = world.cli(
        "run", "-s", schedule, "--concurrency", "1", *FAST_FAILURE, kubeconfig=via_proxy
    )

    assert cut.code == 2
    assert cut.doc["circuit_open"] is True
    outcomes = [a["outcome"] for ns in world.namespaces for a in cut.namespace(ns)["actions"]]
    assert outcomes.count("applied") == 2
    assert "not-attempted" in outcomes
    for (ns, name), replicas in original.items():  # each object: untouched, or down with its count
        saved = world.ours(ns, name).get(c.ORIGINAL_REPLICAS)
        assert (world.replicas(ns, name), saved) in ((replicas, None), (0, str(replicas)))

    monkeypatch.undo()
    healed = world.cli("run", "-s", schedule)
    assert healed.code == 0, healed.stderr
    for (ns, name), replicas in original.items():
        assert world.replicas(ns, name) == 0
        assert world.ours(ns, name)[c.ORIGINAL_REPLICAS] == str(replicas)

    world.cli("run", "-s", world.schedule(down=False))
    assert {key: world.replicas(*key) for key in original} == original


def test_no_api_server_at_all_is_exit_3_and_says_so(world: World, tmp_path: Path) -> None:
    proxy = TcpProxy(1)  # forwards nowhere
    proxy.stop()
    dead = kubeconfig_via(world.cluster, proxy.port, tmp_path / "dead.kubeconfig")
    world.namespace()

    result = world.cli("run", "-s", world.schedule(), *FAST_FAILURE, kubeconfig=dead)

    assert result.code == 3
    assert "cannot reach the API server" in result.stderr


def test_refused_credentials_are_exit_3(world: World, tmp_path: Path) -> None:
    world.namespace()
    bogus = world.cluster.kubeconfig_for_token("not-a-token", tmp_path / "bogus.kubeconfig")

    result = world.cli("run", "-s", world.schedule(), kubeconfig=bogus)

    assert result.code == 3
    assert "401" in result.stderr


def test_scope_namespaces_works_with_rbac_granted_per_namespace_only(world: World) -> None:
    team_a, team_b, outside = world.namespace(), world.namespace(), world.namespace()
    for ns in (team_a, team_b, outside):
        create_deployment(world.api, ns, "api", replicas=2)
    kubeconfig = service_account_kubeconfig(
        world, "scoped", patch_in=[team_a, team_b], cluster_wide_read=False
    )
    schedule = world.schedule(down=True)  # names all three namespaces

    unscoped = world.cli("run", "-s", schedule, "--retries", "0", kubeconfig=kubeconfig)
    assert unscoped.code == 3  # may not list cluster-wide
    assert "403" in unscoped.stderr

    scope = f"--scope-namespaces={team_a},{team_b}"
    result = world.cli("run", "-s", schedule, scope, kubeconfig=kubeconfig)

    assert result.code == 0, result.stderr
    assert [ns["namespace"] for ns in result.doc["namespaces"]] == sorted([team_a, team_b])
    assert (world.replicas(team_a, "api"), world.replicas(team_b, "api")) == (0, 0)
    assert world.replicas(outside, "api") == 2
    assert result.doc["api_requests"] == 2 + 2 * 6 + 2  # 2 namespaces, 6 kinds each, 2 writes


def test_a_scoped_namespace_the_role_cannot_read_fails_alone(world: World) -> None:
    team_a, team_b, outside = world.namespace(), world.namespace(), world.namespace()
    for ns in (team_a, team_b, outside):
        create_deployment(world.api, ns, "api", replicas=2)
    kubeconfig = service_account_kubeconfig(
        world, "scoped", patch_in=[team_a, team_b], cluster_wide_read=False
    )
    scope = f"--scope-namespaces={team_a},{team_b},{outside}"

    result = world.cli("run", "-s", world.schedule(down=True), scope, kubeconfig=kubeconfig)

    assert result.code == 2, result.stderr
    assert (world.replicas(team_a, "api"), world.replicas(team_b, "api")) == (0, 0)
    failed = result.namespace(outside)
    assert (failed["status"], failed["reason"]) == ("failed", "unreadable")
    assert f"may not get namespace {outside}" in failed["error"]
    assert world.replicas(outside, "api") == 2


def test_a_breaker_opening_during_a_rollback_is_reported_and_pushed(
    world: World,
    cluster: LocalCluster,
    pushgateway: LocalPushgateway,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "a", replicas=2)
    create_deployment(world.api, ns, "b", replicas=3)
    proxy = TcpProxy(int(cluster.server_url.rsplit(":", 1)[1]))
    via_proxy = kubeconfig_via(cluster, proxy.port, tmp_path / "proxy.kubeconfig")

    def server_goes_away(workload: Workload, n: int) -> None:
        if n == 2:  # a is down; b's write fails twice, a's undo is the third failure in a row
            proxy.stop()

    _wrap_patch(monkeypatch, server_goes_away)
    cut = world.cli(
        "run", "-s", world.schedule(down=True), "--concurrency", "1", *FAST_FAILURE,
        "--pushgateway", pushgateway.url, kubeconfig=via_proxy,
    )  # fmt: skip

    assert cut.code == 2, cut.stderr
    assert cut.doc["circuit_open"] is True
    summary = [json.loads(line) for line in cut.stderr.splitlines() if "run finished" in line]
    assert summary, cut.stderr
    assert summary[-1]["circuit_open"] is True
    assert _gauge(pushgateway.url, "nsshutdown_circuit_breaker_open") == 1.0
    # a stays down with its saved count: nothing is lost, the next run restores or finishes it
    assert world.replicas(ns, "a") == 0
    assert world.ours(ns, "a")[c.ORIGINAL_REPLICAS] == "2"


def _gauge(url: str, name: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:  # noqa: S310 - loopback
        text = response.read().decode()
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name)]
    assert values, f"{name} not in the Pushgateway"
    return values[0]
