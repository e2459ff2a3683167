"""End-to-end demo on a throwaway local cluster: ``python -m devtools.demo`` (or ``make demo``).

By default the cluster's nodes come from Karpenter (:mod:`devtools.karpenter`): team namespaces
get priced simulated nodes, the real ``nsshutdown run`` takes the dev ones down, and the demo shows
the nodes going away and coming back after ``restore``, next to nsshutdown's own savings estimate.
Without the Karpenter binaries, or with ``--plain``, it tours the CLI on an API server alone:
validate, plan, the CronJob's ``run`` (scale down, metrics pushed), ``status``, a second ``run``
that changes nothing, ``wake`` and ``restore``. Stops everything on exit, including Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from kubernetes import client

from devtools.cluster import LocalCluster
from devtools.demo_story import run_story
from devtools.karpenter import KarpenterNotFoundError
from devtools.karpenter.story import demo_cluster, run_karpenter_story
from devtools.pushgateway import LocalPushgateway
from devtools.workloads import (
    create_cronjob,
    create_custom_object,
    create_deployment,
    create_namespace,
    create_statefulset,
    set_ready_status,
)

DEMO_NAMESPACES: dict[str, dict[str, str]] = {
    "dev-a": {"env": "dev", "team": "payments"},
    "dev-b": {"env": "dev", "team": "search"},
    "qa": {"env": "qa"},
    "prod": {"env": "prod"},
}


@dataclass(frozen=True)
class Seed:
    namespace: str
    kind: str
    name: str
    replicas: int
    cpu: str = "100m"
    memory: str = "128Mi"


DEMO_WORKLOADS: tuple[Seed, ...] = (
    Seed("dev-a", "Deployment", "api", 3, "250m", "256Mi"),
    Seed("dev-a", "Deployment", "frontend", 2, "100m", "128Mi"),
    Seed("dev-a", "StatefulSet", "postgres", 1, "500m", "1Gi"),
    Seed("dev-a", "CronJob", "nightly-report", 0),
    Seed("dev-b", "Deployment", "indexer", 2, "1", "2Gi"),
    Seed("dev-b", "Rollout", "search-api", 4, "200m", "256Mi"),
    Seed("dev-b", "CronJob", "reindex", 0, "500m", "512Mi"),
    Seed("qa", "Deployment", "worker", 2, "200m", "256Mi"),
    Seed("qa", "ScaledObject", "worker", 0),
    Seed("qa", "StatefulSet", "redis", 1, "100m", "256Mi"),
    Seed("prod", "Deployment", "api", 6, "500m", "512Mi"),
    Seed("prod", "StatefulSet", "postgres", 3, "2", "8Gi"),
)


def _custom_object(api: client.ApiClient, seed: Seed) -> None:
    meta = {"name": seed.name, "namespace": seed.namespace, "labels": {"app": seed.name}}
    if seed.kind == "Rollout":
        container = {
            "name": "main",
            "image": "registry.k8s.io/pause:3.10",
            "resources": {"requests": {"cpu": seed.cpu, "memory": seed.memory}},
        }
        spec = {
            "replicas": seed.replicas,
            "selector": {"matchLabels": {"app": seed.name}},
            "template": {
                "metadata": {"labels": {"app": seed.name}},
                "spec": {"containers": [container]},
            },
        }
        body = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "spec": spec}
        create_custom_object(api, {**body, "metadata": meta}, plural="rollouts", exist_ok=True)
        return
    spec = {
        "scaleTargetRef": {"name": seed.name},
        "minReplicaCount": 1,
        "maxReplicaCount": 10,
        "triggers": [{"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}}],
    }
    body = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "spec": spec}
    create_custom_object(api, {**body, "metadata": meta}, plural="scaledobjects", exist_ok=True)


def _seed_one(api: client.ApiClient, seed: Seed) -> None:
    ns, name, cpu, memory = seed.namespace, seed.name, seed.cpu, seed.memory
    if seed.kind == "Deployment":
        create_deployment(
            api, ns, name, replicas=seed.replicas, cpu=cpu, memory=memory, exist_ok=True
        )
        set_ready_status(api, ns, name, kind="Deployment")
    elif seed.kind == "StatefulSet":
        create_statefulset(
            api, ns, name, replicas=seed.replicas, cpu=cpu, memory=memory, exist_ok=True
        )
        set_ready_status(api, ns, name, kind="StatefulSet")
    elif seed.kind == "CronJob":
        create_cronjob(api, ns, name, schedule="0 2 * * *", cpu=cpu, memory=memory, exist_ok=True)
    else:
        _custom_object(api, seed)


def seed_demo(api: client.ApiClient) -> list[Seed]:
    """Create the demo namespaces and workloads; safe to run again on the same cluster."""
    for name, labels in DEMO_NAMESPACES.items():
        create_namespace(api, name, labels=labels, exist_ok=True)
    for seed in DEMO_WORKLOADS:
        _seed_one(api, seed)
    return list(DEMO_WORKLOADS)


def _print_seeded(seeded: Sequence[Seed]) -> None:
    print(f"\nSeeded {len(DEMO_NAMESPACES)} namespaces and {len(seeded)} workloads:")
    print(f"  {'NAMESPACE':<8} {'KIND':<13} {'NAME':<16} {'REPLICAS':>8}  REQUESTS (per replica)")
    for s in seeded:
        replicas = "-" if s.kind in {"CronJob", "ScaledObject"} else str(s.replicas)
        requests = "-" if s.kind == "ScaledObject" else f"cpu={s.cpu} memory={s.memory}"
        print(f"  {s.namespace:<8} {s.kind:<13} {s.name:<16} {replicas:>8}  {requests}")


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devtools.demo", description=__doc__)
    parser.add_argument(
        "--hold",
        action="store_true",
        help="keep the cluster running until Ctrl-C (to explore it with kubectl)",
    )
    parser.add_argument(
        "--plain",
        action="store_true",
        help="tour the CLI on an API server alone, without Karpenter and its nodes",
    )
    return parser.parse_args(argv)


def _karpenter_demo(hold: bool) -> bool:
    """The Karpenter act; raises KarpenterNotFoundError before starting anything."""
    print("Starting a local API server, controller-manager, scheduler, kwok and Karpenter.")
    with demo_cluster() as cluster, LocalPushgateway() as gateway:
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in cluster.startup_seconds.items())
        print(f"Started in {sum(cluster.startup_seconds.values()):.1f} s ({steps}).")
        print(f"Kubeconfig:  {cluster.kubeconfig_path}")
        print(f"Pushgateway: {gateway.url}")
        failed = run_karpenter_story(cluster, gateway.url)
        if hold:
            print("Holding; press Ctrl-C to stop and clean up.")
            signal.pause()
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    if not args.plain:
        try:
            failed = _karpenter_demo(args.hold)
        except KarpenterNotFoundError as exc:
            print(f"Karpenter is not available ({exc}); touring the CLI without it.\n")
        except KeyboardInterrupt:
            print("\nInterrupted; local servers stopped.", file=sys.stderr)
            return 130
        else:
            print("Local servers stopped; nothing left running.")
            return 1 if failed else 0
    failed = False
    print("Starting a local kube-apiserver + etcd and a Pushgateway.")
    print("The first run builds the Kubernetes binaries from Go modules; that takes a while.")
    try:
        with LocalCluster(build=True) as cluster, LocalPushgateway() as gateway:
            cluster.register_crds()
            with cluster.api_client() as api:
                seeded = seed_demo(api)
            _print_seeded(seeded)
            print(f"\nAPI server:  {cluster.server_url}")
            print(f"Kubeconfig:  {cluster.kubeconfig_path}")
            print(f"Pushgateway: {gateway.url}")
            failed = run_story(cluster.kubeconfig_path, gateway.url, workdir=cluster.workdir)
            if args.hold:
                print("Holding; press Ctrl-C to stop and clean up.")
                signal.pause()
    except KeyboardInterrupt:
        print("\nInterrupted; local servers stopped.", file=sys.stderr)
        return 130
    print("Local servers stopped; nothing left running.")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
