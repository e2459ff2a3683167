"""Seed N namespaces x M workloads (Deployments, StatefulSets, CronJobs) as fast as possible.

Objects look like what ``kubectl apply`` leaves behind (labels, env, resource requests and a
``last-applied-configuration`` annotation), so list pages are the size real clusters send.
Creation runs on a thread pool over :class:`~bench.rawapi.RawApi`; it is timed on its own and is
not part of any measured number.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bench.rawapi import RawApi

NAMESPACE_PREFIX = "bench-"
IMAGE = "registry.k8s.io/pause:3.10"
#: Mix per 10 workloads: 5 Deployments, 3 StatefulSets, 2 CronJobs.
_MIX = ("Deployment",) * 5 + ("StatefulSet",) * 3 + ("CronJob",) * 2
_COLLECTION = {
    "Deployment": "/apis/apps/v1/namespaces/{ns}/deployments",
    "StatefulSet": "/apis/apps/v1/namespaces/{ns}/statefulsets",
    "CronJob": "/apis/batch/v1/namespaces/{ns}/cronjobs",
}
_API_VERSION = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "CronJob": "batch/v1"}
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass(frozen=True)
class Seeded:
    """One workload the bench created, and the value it must be restored to."""

    kind: str
    namespace: str
    name: str
    replicas: int  # CronJobs: 0 (they are unsuspended instead)

    @property
    def path(self) -> str:
        return _COLLECTION[self.kind].format(ns=self.namespace) + "/" + self.name


def namespace_name(index: int) -> str:
    return f"{NAMESPACE_PREFIX}{index:05d}"


def plan_workloads(namespaces: int, per_namespace: int) -> list[Seeded]:
    out = []
    for n in range(namespaces):
        for i in range(per_namespace):
            kind = _MIX[i % len(_MIX)]
            replicas = 0 if kind == "CronJob" else 1 + (n + i) % 3
            out.append(Seeded(kind, namespace_name(n), f"{kind.lower()}-{i:03d}", replicas))
    return out


def _pod_spec(name: str, index: int, *, job: bool) -> dict[str, Any]:
    container = {
        "name": "app",
        "image": IMAGE,
        "ports": [{"containerPort": 8080, "name": "http"}],
        "env": [{"name": f"SETTING_{k}", "value": f"value-{k}-{name}"} for k in range(6)],
        "resources": {
            "requests": {"cpu": f"{50 * (1 + index % 4)}m", "memory": f"{64 * (1 + index % 3)}Mi"},
            "limits": {"memory": f"{128 * (1 + index % 3)}Mi"},
        },
    }
    spec: dict[str, Any] = {"containers": [container]}
    if job:
        spec["restartPolicy"] = "Never"
    return {"metadata": {"labels": {"app": name}}, "spec": spec}


def manifest(workload: Seeded, index: int) -> dict[str, Any]:
    name, kind = workload.name, workload.kind
    labels = {"app": name, "team": f"team-{index % 7}", "app.kubernetes.io/part-of": "bench"}
    body: dict[str, Any] = {
        "apiVersion": _API_VERSION[kind],
        "kind": kind,
        "metadata": {"name": name, "namespace": workload.namespace, "labels": labels},
    }
    if kind == "CronJob":
        body["spec"] = {
            "schedule": "*/15 * * * *",
            "suspend": False,
            "jobTemplate": {"spec": {"template": _pod_spec(name, index, job=True)}},
        }
    else:
        body["spec"] = {
            "replicas": workload.replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": _pod_spec(name, index, job=False),
        }
        if kind == "StatefulSet":
            body["spec"]["serviceName"] = name
    applied = json.dumps(body, separators=(",", ":"), sort_keys=True)
    body["metadata"]["annotations"] = {LAST_APPLIED: applied}
    return body


def seed(api: RawApi, workloads: list[Seeded], *, threads: int = 16) -> dict[str, float]:
    """Create every namespace, then every workload; return counts and timings."""
    started = time.monotonic()
    namespaces = sorted({w.namespace for w in workloads})
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(_create_namespace, [api] * len(namespaces), namespaces))
        ns_done = time.monotonic()
        list(pool.map(lambda pair: _create_workload(api, *pair), enumerate(workloads)))
    done = time.monotonic()
    return {
        "namespaces": len(namespaces),
        "workloads": len(workloads),
        "namespaces_seconds": round(ns_done - started, 2),
        "workloads_seconds": round(done - ns_done, 2),
        "creates_per_second": round(len(workloads) / max(done - ns_done, 1e-9), 1),
    }


def _create_namespace(api: RawApi, name: str) -> None:
    labels = {"env": "bench", "team": f"team-{int(name[-5:]) % 7}"}
    api.post("/api/v1/namespaces", {"metadata": {"name": name, "labels": labels}})


def _create_workload(api: RawApi, index: int, workload: Seeded) -> None:
    api.post(_COLLECTION[workload.kind].format(ns=workload.namespace), manifest(workload, index))
