"""Helpers for the end-to-end story: the team workloads, schedule ConfigMaps, waiting, reading.

Everything goes through ``kubectl`` inside the node (:meth:`LocalNode.kubectl`), as a person
would check a real cluster.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.node import LocalNode
from devtools.node.images import WORKLOAD_IMAGE

HERE = Path(__file__).parent
# Seconds per expensive step, printed at the end of the run (tests/e2e/conftest.py).
TIMINGS: dict[str, float] = {}

TOOL_NAMESPACE = "nsshutdown"
ANNOTATION_PREFIX = "nsshutdown.io/"
SCHEDULE_NAME = "e2e-window"
# kube-* is named on purpose, and excluded as every shipped overlay excludes it: the exclusion,
# not the name list, is what keeps the cluster's own namespaces up.
SCHEDULED_NAMES = ["dev-*", "qa", "kube-*"]
EXCLUDED = ["kube-system", "kube-public", "kube-node-lease"]


@dataclass(frozen=True)
class Workload:
    kind: str
    namespace: str
    name: str
    replicas: int  # CronJobs: 0 (they hold no replicas; suspend is what changes)


TEAM_WORKLOADS = (
    Workload("Deployment", "dev-a", "api", 2),
    Workload("StatefulSet", "dev-a", "db", 1),
    Workload("Deployment", "dev-b", "web", 1),
    Workload("CronJob", "dev-b", "tick", 0),
    Workload("Deployment", "qa", "worker", 2),
)
TEAM_NAMESPACES = sorted({w.namespace for w in TEAM_WORKLOADS})


def _container(*args: str) -> dict[str, Any]:
    return {
        "name": "main",
        "image": WORKLOAD_IMAGE,
        "imagePullPolicy": "Never",
        "args": list(args),
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
    }


def _pod_template(app: str, *args: str, restart: str = "Always") -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {
            "containers": [_container(*args)],
            "restartPolicy": restart,
            "terminationGracePeriodSeconds": 2,
        },
    }


def workload_manifest(workload: Workload) -> dict[str, Any]:
    meta = {"name": workload.name, "namespace": workload.namespace}
    selector = {"matchLabels": {"app": workload.name}}
    if workload.kind == "Deployment":
        spec: dict[str, Any] = {
            "replicas": workload.replicas,
            "selector": selector,
            "template": _pod_template(workload.name),
        }
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}
    if workload.kind == "StatefulSet":
        spec = {
            "replicas": workload.replicas,
            "serviceName": workload.name,
            "selector": selector,
            "template": _pod_template(workload.name),
        }
        return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta, "spec": spec}
    job = {"backoffLimit": 0, "template": _pod_template(workload.name, "3s", restart="Never")}
    spec = {
        "schedule": "* * * * *",
        "concurrencyPolicy": "Forbid",
        "successfulJobsHistoryLimit": 1,
        "jobTemplate": {"spec": job},
    }
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta, "spec": spec}


def create_team_workloads(node: LocalNode) -> None:
    items: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        for name in TEAM_NAMESPACES
    ]
    items += [workload_manifest(w) for w in TEAM_WORKLOADS]
    node.kubectl(
        "apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
    )


# -- schedules ---------------------------------------------------------------------------------


def _cron_at(moment: datetime.datetime) -> str:
    return f"{moment.minute} {moment.hour} * * *"


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def schedule_yaml(
    *,
    window_open: bool,
    names: list[str] = SCHEDULED_NAMES,
    exclude: list[str] = EXCLUDED,
    now: datetime.datetime | None = None,
) -> str:
    """A schedule whose daily window is open (or closed) now and for the next two hours."""
    now = now or datetime.datetime.now(datetime.UTC)
    earlier, later = now - datetime.timedelta(hours=2), now + datetime.timedelta(hours=2)
    shutdown, startup = (earlier, later) if window_open else (later, earlier)
    excluded = f"excludeNamespaces: [{_quoted(exclude)}]\n" if exclude else ""
    return (
        "version: 1\n"
        "defaults:\n"
        "  timezone: Etc/UTC\n"
        "  kinds: [Deployment, StatefulSet, CronJob]\n"
        "  gracePeriod: 0m\n"
        f"{excluded}"
        "schedules:\n"
        f"  - name: {SCHEDULE_NAME}\n"
        "    namespaces:\n"
        f"      names: [{_quoted(names)}]\n"
        "    windows:\n"
        f'      - shutdown: "{_cron_at(shutdown)}"\n'
        f'        startup: "{_cron_at(startup)}"\n'
    )


BROKEN_SCHEDULE = "version: 1\nschedules:\n  - name: broken\n    windows: every night\n"


def set_schedule(node: LocalNode, text: str) -> None:
    """Replace the schedule ConfigMap's data, as a user editing it would."""
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "nsshutdown-schedule", "namespace": TOOL_NAMESPACE},
        "data": {"schedule.yaml": text},
    }
    node.kubectl("apply", "-f", "-", stdin=json.dumps(config_map))


# -- reading and waiting ---------------------------------------------------------------------------


def wait_for(
    what: str, check: Callable[[], bool], *, timeout: float, diagnose: Callable[[], str]
) -> float:
    """Poll ``check`` every 2 s; return the seconds it took, or fail with a diagnosis."""
    began = time.monotonic()
    while True:
        if check():
            return time.monotonic() - began
        if time.monotonic() - began > timeout:
            raise AssertionError(f"{what}: not true after {timeout:.0f} s\n{diagnose()}")
        time.sleep(2)


def active_pods(node: LocalNode, namespaces: list[str]) -> list[str]:
    """Pods that still run or are about to (a finished Job's pod holds no resources)."""
    pods = node.kubectl_json("get", "pods", "-A")["items"]
    return [
        f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
        for pod in pods
        if pod["metadata"]["namespace"] in namespaces
        and pod["status"].get("phase") in ("Pending", "Running", "Unknown")
    ]


def running_replicas(node: LocalNode, workload: Workload) -> int:
    obj = get(node, workload)
    return int(obj.get("status", {}).get("readyReplicas") or 0)


def get(node: LocalNode, workload: Workload) -> dict[str, Any]:
    result: dict[str, Any] = node.kubectl_json(
        "get", workload.kind.lower(), workload.name, "-n", workload.namespace
    )
    return result


def written_by_tool_at(node: LocalNode, workload: Workload) -> str:
    """The time of nsshutdown's last write to it (its managedFields entry), RFC 3339 UTC."""
    obj = node.kubectl_json(
        "get", workload.kind.lower(), workload.name, "-n", workload.namespace,
        "--show-managed-fields",
    )  # fmt: skip
    times = [f["time"] for f in obj["metadata"].get("managedFields") or []
             if f.get("manager") == "nsshutdown" and f.get("time")]  # fmt: skip
    return str(max(times))


def ready_since(node: LocalNode, namespace: str, pod: str) -> str:
    """When ``pod`` last became Ready (its Ready condition's lastTransitionTime), RFC 3339 UTC."""
    obj = node.kubectl_json("get", "pod", pod, "-n", namespace)
    (ready,) = [c for c in obj["status"]["conditions"] if c["type"] == "Ready"]
    assert ready["status"] == "True", obj["status"]
    return str(ready["lastTransitionTime"])


def tool_annotations(obj: dict[str, Any]) -> dict[str, str]:
    annotations = obj["metadata"].get("annotations") or {}
    return {k: v for k, v in annotations.items() if k.startswith(ANNOTATION_PREFIX)}


def cluster_report(node: LocalNode) -> str:
    """What a person would look at when a step did not happen in time."""
    parts = []
    for args in (
        ("get", "pods", "-A", "-o", "wide"),
        ("get", "cronjobs,jobs", "-A"),
        ("get", "events", "-n", TOOL_NAMESPACE, "--sort-by=.lastTimestamp"),
    ):
        result = node.kubectl(*args, check=False)
        parts.append(f"$ kubectl {' '.join(args)}\n{result.stdout}{result.stderr}")
    logs = node.kubectl(
        "logs",
        "-n",
        TOOL_NAMESPACE,
        "-l",
        "app.kubernetes.io/component=job",
        "--tail=20",
        "--prefix",
        check=False,
    )
    parts.append(f"$ kubectl logs (nsshutdown runs)\n{logs.stdout}{logs.stderr}")
    return "\n".join(parts)
