"""Savings held against nodes: ``python -m devtools.karpenter.report`` (``make karpenter-report``).

For each scenario, on a fresh cluster whose nodes come from Karpenter: seed the teams, wait until
every pod runs, let the real ``nsshutdown run`` take the ``env=dev`` namespaces down (pushing its
metrics to a real Pushgateway), wait until Karpenter's nodes settle, and print what nsshutdown
estimated (``nsshutdown_estimated_hourly_savings``, summed) next to the hourly price of the nodes
Karpenter actually removed. A benchmark, not a test: the numbers are for docs/karpenter.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client

from devtools.karpenter.cluster import KarpenterCluster
from devtools.karpenter.nodepool import Disruption
from devtools.karpenter.nodes import karpenter_nodes, pod_phases, wait_for, wait_settled
from devtools.karpenter.scenario import App, Cli, Team, pushed_savings, seed, write_schedule
from devtools.karpenter.story import DEMO_INSTANCE_TYPES, DEMO_TEAMS, QUIET
from devtools.pushgateway import LocalPushgateway

PROD = {"env": "prod"}


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    teams: tuple[Team, ...]
    disruption: Disruption = field(default_factory=Disruption)
    instance_types: tuple[str, ...] = ()
    daemonset_cpu: str = ""


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "demo",
        "the demo's teams: two dev namespaces and prod, mixed sizes, nodes up to 4 vCPU",
        DEMO_TEAMS,
        instance_types=DEMO_INSTANCE_TYPES,
    ),
    Scenario(
        "one-pod-per-node",
        "every pod alone on a 2-vCPU node (the integration tier's layout)",
        (
            Team("team-a", (App("web", 3, "1200m", "1Gi"),)),
            Team("team-b", (App("api", 2, "1200m", "1Gi"),)),
            Team("team-c", (App("api", 2, "1200m", "1Gi"),), labels=PROD),
        ),
        instance_types=("m-2x-amd64-linux",),
    ),
    Scenario(
        "shared-nodes",
        "small dev and prod pods packed together on 4-vCPU nodes",
        (
            Team("dev-a", (App("api", 6, "300m", "512Mi"),)),
            Team("prod", (App("api", 6, "300m", "512Mi"),), labels=PROD),
        ),
        instance_types=("m-4x-amd64-linux",),
    ),
    Scenario(
        "daemonset",
        "the demo's teams plus a DaemonSet requesting 200m on every node",
        DEMO_TEAMS,
        instance_types=DEMO_INSTANCE_TYPES,
        daemonset_cpu="200m",
    ),
    Scenario(
        "default-budget",
        "the demo's teams with Karpenter's default budget (10% of nodes at a time)",
        DEMO_TEAMS,
        instance_types=DEMO_INSTANCE_TYPES,
        disruption=Disruption(budget_nodes="10%"),
    ),
)


@dataclass(frozen=True)
class Result:
    scenario: str
    nodes_before: int
    nodes_after: int
    hourly_before: float
    hourly_after: float
    removed_hourly: float
    estimated_hourly: float
    provision_seconds: float
    nodes_gone_seconds: float


def _daemonset(api: client.ApiClient, cpu: str) -> None:
    labels = {"app": "node-agent"}
    container = {
        "name": "agent",
        "image": "registry.k8s.io/pause:3.10",
        "resources": {"requests": {"cpu": cpu, "memory": "128Mi"}},
    }
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "node-agent", "namespace": "kube-system"},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }
    client.AppsV1Api(api).create_namespaced_daemon_set("kube-system", body)  # type: ignore[arg-type]


def run_scenario(scenario: Scenario) -> Result:
    """One scenario on its own cluster and Pushgateway, both stopped afterwards."""
    cluster = KarpenterCluster(
        disruption=scenario.disruption, instance_types=scenario.instance_types
    )
    with cluster, LocalPushgateway() as gateway:
        cli = Cli(cluster.kubeconfig_path, write_schedule(cluster.workdir / "s.yaml"), gateway.url)
        namespaces = [team.namespace for team in scenario.teams]
        total = sum(team.pods for team in scenario.teams)
        with cluster.api_client() as api:
            if scenario.daemonset_cpu:
                _daemonset(api, scenario.daemonset_cpu)
            seed(api, scenario.teams)
            _, provision = wait_for(
                lambda: pod_phases(api, namespaces),
                lambda p: p.running == total,
                timeout=240,
                what=f"{scenario.name}: every pod Running",
            )
            before = karpenter_nodes(api)
            done = cli.run("run", capture=True)
            if done.returncode != 0:
                raise RuntimeError(f"nsshutdown run exited {done.returncode}: {done.stderr}")
            down = [t.namespace for t in scenario.teams if t.labels.get("env") == "dev"]
            wait_for(lambda: pod_phases(api, down), lambda p: p.total == 0, timeout=60, what="gone")
            settled = wait_settled(api, timeout=600, quiet=QUIET)
            estimated = pushed_savings(gateway.url)
        return Result(
            scenario=scenario.name,
            nodes_before=before.count,
            nodes_after=settled.nodes.count,
            hourly_before=before.hourly,
            hourly_after=settled.nodes.hourly,
            removed_hourly=round(before.hourly - settled.nodes.hourly, 6),
            estimated_hourly=estimated,
            provision_seconds=round(provision, 1),
            nodes_gone_seconds=settled.last_change,
        )


def _print(results: Sequence[Result]) -> None:
    header = (
        f"{'SCENARIO':<17} {'NODES':>7} {'$/H BEFORE':>10} {'$/H AFTER':>10}"
        f" {'REMOVED $/H':>11} {'ESTIMATE $/H':>12} {'EST/REMOVED':>11} {'GONE AFTER':>10}"
    )
    print(header)
    for r in results:
        ratio = f"{r.estimated_hourly / r.removed_hourly:.2f}" if r.removed_hourly else "-"
        print(
            f"{r.scenario:<17} {f'{r.nodes_before}->{r.nodes_after}':>7}"
            f" {r.hourly_before:>10.4f} {r.hourly_after:>10.4f} {r.removed_hourly:>11.4f}"
            f" {r.estimated_hourly:>12.4f} {ratio:>11} {r.nodes_gone_seconds:>9.0f}s"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.karpenter.report", description=__doc__
    )
    parser.add_argument("--only", nargs="*", default=[], help="scenario names to run")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only]
    for scenario in chosen:
        print(f"{scenario.name}: {scenario.what}", file=sys.stderr, flush=True)
    results = []
    for scenario in chosen:
        results.append(run_scenario(scenario))
        print(f"  done: {results[-1]}", file=sys.stderr, flush=True)
    _print(results)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
