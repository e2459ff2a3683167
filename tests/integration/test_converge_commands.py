"""The SRE commands on a real API server: shutdown / wake / restore / status, a ConfigMap schedule,
and the console entry point itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from devtools import LocalCluster
from devtools.workloads import create_deployment
from nsshutdown import constants as c
from tests.integration.converge_support import World

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(cluster: LocalCluster, tmp_path: Path) -> Iterator[World]:
    with World(cluster, tmp_path) as w:
        yield w


def test_shutdown_for_holds_down_then_wake_holds_up_then_restore(world: World) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=3)
    up = world.schedule(down=False)

    held = world.cli("shutdown", ns, "--for", "2h", "-s", up)
    assert held.code == 0, held.stderr
    assert world.replicas(ns, "api") == 0
    assert world.ours(ns, "api")[c.SHUTDOWN_BY] == c.MANUAL
    assert c.KEEP_DOWN_UNTIL in world.namespace_annotations(ns)
    assert world.cli("run", "-s", up).namespace(ns)["reason"] == "keep-down-until"
    assert world.replicas(ns, "api") == 0  # the scheduled run keeps it down

    woken = world.cli("wake", ns, "--for", "3h", "-s", world.schedule(down=True))
    assert woken.code == 0, woken.stderr
    annotations = world.namespace_annotations(ns)
    assert c.KEEP_UP_UNTIL in annotations
    assert c.KEEP_DOWN_UNTIL not in annotations
    assert world.replicas(ns, "api") == 3
    kept = world.cli("run", "-s", world.schedule(down=True))
    assert kept.namespace(ns)["reason"] == "keep-up-until"
    assert world.replicas(ns, "api") == 3

    world.cli("shutdown", ns, "--for", "1h")  # no schedule needed for manual commands
    restored = world.cli("restore", ns)
    assert restored.code == 0, restored.stderr
    assert world.replicas(ns, "api") == 3
    assert c.KEEP_DOWN_UNTIL not in world.namespace_annotations(ns)


def test_shutdown_without_a_duration_is_undone_by_the_next_scheduled_run(world: World) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=2)
    up = world.schedule(down=False)

    result = world.cli("shutdown", ns, "-s", up)

    assert result.code == 0
    assert any("next scheduled run brings it up again" in m for m in result.log_messages)
    assert world.replicas(ns, "api") == 0
    world.cli("run", "-s", up)
    assert world.replicas(ns, "api") == 2


def test_status_shows_state_holdings_and_pods_pinning_nodes(world: World) -> None:
    down, up = world.namespace(), world.namespace()
    create_deployment(world.api, down, "api", replicas=4, cpu="500m", memory="1Gi")
    create_deployment(world.api, up, "web", replicas=1)
    _pinning_pod(world, down, "batch-0")
    world.cli("run", "-s", world.schedule(names=[down]))

    result = world.cli("status", "-s", world.schedule(names=[down]))

    assert result.code == 0, result.stderr
    rows = {row["namespace"]: row for row in result.doc["namespaces"]}
    row = rows[down]
    assert (row["state"], row["replicas_held"], row["cpu_cores"]) == ("down", 4, 2.0)
    assert row["memory_bytes"] == 4 * 2**30
    assert row["since"] is not None
    assert row["next_transition"]["to"] == "up"
    assert row["pinning_pods"] == [{"name": "batch-0", "node": "node-1"}]
    assert row["estimated_hourly_savings"] == pytest.approx(2.0 * 0.031611 + 4 * 0.004237)
    assert (rows[up]["state"], rows[up]["replicas_held"]) == ("up", 0)


def _pinning_pod(world: World, namespace: str, name: str) -> None:
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, annotations={c.KARPENTER_DO_NOT_DISRUPT: "true"}),
        spec=client.V1PodSpec(
            node_name="node-1", containers=[client.V1Container(name="main", image="pause")]
        ),
    )
    client.CoreV1Api(world.api).create_namespaced_pod(namespace, pod)


def test_schedule_from_a_configmap(world: World) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=2)
    text = world.schedule(down=True).read_text()
    config_map = client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="nsshutdown"), data={"custom.yaml": text}
    )
    client.CoreV1Api(world.api).create_namespaced_config_map(ns, config_map)

    ref = f"{ns}/nsshutdown:custom.yaml"
    valid = world.cli("validate", "--configmap", ref, logs=False)
    assert valid.code == 0, valid.stderr
    assert valid.doc["file"] == f"configmap {ref}"
    planned = world.cli("plan", "--configmap", ref, logs=False)
    assert planned.code == 0, planned.stderr
    (api,) = next(n for n in planned.doc["namespaces"] if n["namespace"] == ns)["actions"]
    assert (api["action"], api["from"], api["to"]) == ("shutdown", 2, 0)
    assert world.replicas(ns, "api") == 2  # plan writes nothing

    result = world.cli("run", "--configmap", ref)

    assert result.code == 0, result.stderr
    assert world.replicas(ns, "api") == 0
    missing = world.cli("run", "--configmap", f"{ns}/nsshutdown")  # default key schedule.yaml
    assert missing.code == 1
    assert "schedule.yaml" in missing.stderr


def test_plan_without_namespaces_lists_the_live_actions_and_writes_nothing(world: World) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=3)
    version = world.get("Deployment", ns, "api")["metadata"]["resourceVersion"]

    result = world.cli("plan", "-s", world.schedule(down=True), logs=False)

    assert result.code == 0, result.stderr
    (action,) = next(n for n in result.doc["namespaces"] if n["namespace"] == ns)["actions"]
    assert (action["name"], action["action"], action["from"], action["to"]) == (
        "api", "shutdown", 3, 0,
    )  # fmt: skip
    assert world.get("Deployment", ns, "api")["metadata"]["resourceVersion"] == version


def test_the_console_entry_point_runs_against_the_cluster(world: World) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=2)
    env = {**os.environ, "NSSHUTDOWN_KUBECONFIG": str(world.kubeconfig), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "nsshutdown", "run", "-s", str(world.schedule()), "-o", "json"]

    done = subprocess.run(
        [*command, "--log-format", "json"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert next(n for n in doc["namespaces"] if n["namespace"] == ns)["status"] == "converged"
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    scaled = next(line for line in lines if line.get("name") == "api")
    assert (scaled["namespace"], scaled["from"], scaled["to"]) == (ns, 2, 0)
    assert {line["run_id"] for line in lines} == {doc["run_id"]}
    assert world.replicas(ns, "api") == 0


def test_kube_system_is_never_scaled_with_or_without_a_schedule(world: World) -> None:
    team = world.namespace()
    name = f"coredns-{team}"  # unique in the shared kube-system
    create_deployment(world.api, "kube-system", name, replicas=2)

    bare = world.cli("shutdown", "kube-system", "--dry-run=server")
    assert bare.code == 1, bare.stderr
    assert "kube-system is protected" in bare.stderr

    everything = world.schedule(down=True, names=["kube-*", team])
    run = world.cli("run", "-s", everything)
    assert run.code in (0, 2), run.stderr
    assert run.namespace("kube-system")["reason"] == "excluded"
    assert world.replicas("kube-system", name) == 2
    assert world.ours("kube-system", name) == {}


def test_resume_ends_a_wake_early_on_a_real_api_server(world: World) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=2)
    schedule = world.schedule(down=True)

    assert world.cli("wake", ns, "--for", "1h", "-s", schedule).code == 0
    assert c.KEEP_UP_UNTIL in world.namespace_annotations(ns)
    too_long = world.cli("wake", ns, "--for", "30d", "-s", schedule)
    assert too_long.code == 1, too_long.stderr

    resumed = world.cli("resume", ns, "-s", schedule)

    assert resumed.code == 0, resumed.stderr
    assert c.KEEP_UP_UNTIL not in world.namespace_annotations(ns)
    assert world.replicas(ns, "api") == 0
