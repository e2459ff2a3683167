"""One night on a cluster whose nodes come from Karpenter, recorded for the tests to assert on.

The night is deliberately deterministic: the NodePool allows one instance type (2 vCPU) and every
team pod requests 1200m, so each pod gets a node of its own and the expected node counts follow
from the pod counts. Two small pods are bound by name onto nodes of the dev teams before the
shutdown: one in a downed namespace annotated ``karpenter.sh/do-not-disrupt`` (a debug session
someone left running), and one with the very metadata of the nsshutdown CronJob's pod
(``manifests/base/cronjob.yaml``). Their nodes must outlive the shutdown.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from devtools import BinariesNotFoundError
from devtools.karpenter import Disruption, KarpenterCluster
from devtools.karpenter.nodes import Nodes, karpenter_nodes, pod_phases, wait_for
from devtools.karpenter.scenario import App, Cli, Team, seed, write_schedule
from devtools.workloads import create_namespace

REPO = Path(__file__).resolve().parents[2]
INSTANCE_TYPE = "m-2x-amd64-linux"
TEAMS = (
    Team("team-a", (App("web", 3, "1200m", "1Gi"),)),
    Team("team-b", (App("api", 2, "1200m", "1Gi"),)),
    Team("team-c", (App("api", 2, "1200m", "1Gi"),), labels={"env": "prod"}),
)
DOWN = ("team-a", "team-b")
#: consolidateAfter of the tier's NodePool, and how long after a shutdown only the nodes the
#: remaining pods need may be left. Two rounds of consolidation: the empty nodes, then the
#: underused ones repacked. Each waits for consolidateAfter and Karpenter's disruption loop (it
#: looks for candidates every 10 s and validates a decision for another ~15 s), then drains and
#: deletes. Measured: about 45 s (docs/karpenter.md); the bound leaves room for a loaded machine.
CONSOLIDATE_AFTER = "10s"
NODES_GONE_WITHIN = 120.0
PODS_BACK_WITHIN = 90.0
#: Karpenter looks for consolidation candidates every 10 s: holding this long after the expected
#: nodes are reached gives it a full round to (wrongly) take a pinned node.
HOLD = 15.0
DEBUG_POD = "debug-session"
CRONJOB_NAMESPACE = "nsshutdown"
CRONJOB_POD = "nsshutdown-run"


def start_or_skip(cluster: KarpenterCluster) -> None:
    """Start; a missing binary skips locally but fails under ``CI=true``."""
    try:
        cluster.start()
    except BinariesNotFoundError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{exc} (CI=true: the Karpenter tests must run)", pytrace=False)
        pytest.skip(str(exc))


def cronjob_pod_metadata() -> dict[str, Any]:
    """The labels and annotations the shipped CronJob gives its pods."""
    cronjob = yaml.safe_load((REPO / "manifests" / "base" / "cronjob.yaml").read_text())
    metadata: dict[str, Any] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["metadata"]
    return metadata


@dataclass
class Night:
    """What was observed, step by step."""

    evening: Nodes = field(default_factory=Nodes)
    provision_seconds: float = 0.0
    pinned: dict[str, str] = field(default_factory=dict)  # pod -> node
    night: Nodes = field(default_factory=Nodes)
    nodes_gone_seconds: float = 0.0
    timeline: list[tuple[float, int]] = field(default_factory=list)  # (seconds, nodes) at changes
    night_phases: dict[str, int] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    pinned_after: dict[str, str] = field(default_factory=dict)
    morning: Nodes = field(default_factory=Nodes)
    pods_back_seconds: float = 0.0
    morning_phases: dict[str, int] = field(default_factory=dict)
    memory_mib: dict[str, float] = field(default_factory=dict)


def _bind_pod(
    api: client.ApiClient, namespace: str, name: str, node: str, metadata: dict[str, Any]
) -> None:
    """A bare pod bound to ``node`` by name (no scheduler involved), with ``metadata``."""
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, **metadata},
        "spec": {
            "nodeName": node,
            "containers": [
                {
                    "name": "main",
                    "image": "registry.k8s.io/pause:3.10",
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                }
            ],
        },
    }
    client.CoreV1Api(api).create_namespaced_pod(namespace, body)


def _node_of(nodes: Nodes, namespace: str) -> str:
    return next(n for n, pods in nodes.pods_by_node.items() if pods[0].startswith(f"{namespace}/"))


def _running_pods(api: client.ApiClient, names: dict[str, str]) -> dict[str, str]:
    """pod -> node for the pods of ``names`` still Running where they were bound."""
    core = client.CoreV1Api(api)
    found = {}
    for pod in core.list_pod_for_all_namespaces().items:
        meta, spec, status = pod.metadata, pod.spec, pod.status
        if meta and spec and status and meta.name in names and status.phase == "Running":
            found[str(meta.name)] = str(spec.node_name)
    return found


def _wait_for_nodes(api: client.ApiClient, expected: set[str], night: Night) -> float:
    """Seconds until exactly ``expected`` nodes are left, none draining (inf if never)."""
    try:
        _, seconds = wait_for(
            lambda: karpenter_nodes(api),
            lambda nodes: set(nodes.names) == expected and not nodes.draining,
            timeout=NODES_GONE_WITHIN,
            what="only the nodes the remaining pods need",
            on_change=lambda t, nodes: night.timeline.append((round(t, 1), nodes.count)),
        )
    except TimeoutError:
        return math.inf  # the tests below say what was left instead
    return seconds


def run_night(cluster: KarpenterCluster, workdir: Path) -> Night:
    night = Night()
    cli = Cli(cluster.kubeconfig_path, write_schedule(workdir / "schedule.yaml"))
    everyone = [team.namespace for team in TEAMS]
    with cluster.api_client() as api:
        seed(api, TEAMS)
        _, night.provision_seconds = wait_for(
            lambda: pod_phases(api, everyone),
            lambda p: p.running == sum(t.pods for t in TEAMS),
            timeout=PODS_BACK_WITHIN,
            what="every team pod Running",
        )
        night.evening = karpenter_nodes(api)
        night.pinned = {
            DEBUG_POD: _node_of(night.evening, "team-a"),
            CRONJOB_POD: _node_of(night.evening, "team-b"),
        }
        annotation = {"annotations": {"karpenter.sh/do-not-disrupt": "true"}}
        _bind_pod(api, "team-a", DEBUG_POD, night.pinned[DEBUG_POD], annotation)
        create_namespace(api, CRONJOB_NAMESPACE, exist_ok=True)
        _bind_pod(
            api,
            CRONJOB_NAMESPACE,
            CRONJOB_POD,
            night.pinned[CRONJOB_POD],
            cronjob_pod_metadata(),
        )
        wait_for(
            lambda: _running_pods(api, night.pinned),
            lambda found: found == night.pinned,
            timeout=30,
            what="the pinned pods Running",
        )
        done = cli.run("run", capture=True)
        assert done.returncode == 0, done.stdout + done.stderr
        night.nodes_gone_seconds = _wait_for_nodes(api, set(night.pinned.values()), night)
        # Then give Karpenter another full round to take a pinned node, if it were to.
        time.sleep(HOLD)
        night.night = karpenter_nodes(api)
        phases = pod_phases(api, everyone)
        night.night_phases = {"running": phases.running, "total": phases.total}
        night.status = cli.json("status")
        night.pinned_after = _running_pods(api, night.pinned)
        done = cli.run("restore", "--all", capture=True)
        assert done.returncode == 0, done.stdout + done.stderr
        phases, night.pods_back_seconds = wait_for(
            lambda: pod_phases(api, everyone),
            # every team pod, and whatever else is still there (the debug pod, unless evicted)
            lambda p: p.running == p.total >= sum(t.pods for t in TEAMS),
            timeout=PODS_BACK_WITHIN,
            what="every pod Running again",
        )
        night.morning_phases = {"running": phases.running, "total": phases.total}
        night.morning = karpenter_nodes(api)
        night.memory_mib = cluster.memory_mib()
    print(
        f"\nkarpenter tier: start {cluster.startup_seconds}, provisioned in"
        f" {night.provision_seconds:.1f} s, nodes {night.timeline}, pods back in"
        f" {night.pods_back_seconds:.1f} s; $/h {night.evening.hourly} -> {night.night.hourly};"
        f" memory MiB {night.memory_mib}"
    )
    return night


def tier_cluster() -> KarpenterCluster:
    return KarpenterCluster(
        disruption=Disruption(consolidate_after=CONSOLIDATE_AFTER, budget_nodes="100%"),
        instance_types=(INSTANCE_TYPE,),
    )
