"""What the writes touch on a real API server: only our fields, our annotations, our manager;
CRD kinds (KEDA ScaledObject, Argo Rollout); and dry runs that persist nothing."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools import LocalCluster
from devtools.workloads import create_custom_object, create_deployment
from nsshutdown import constants as c
from tests.integration.converge_support import World, service_account_kubeconfig

VOLATILE = ("resourceVersion", "generation", "managedFields")


@pytest.fixture
def world(cluster: LocalCluster, tmp_path: Path) -> Iterator[World]:
    with World(cluster, tmp_path) as w:
        yield w


def _without_our_changes(obj: dict[str, Any]) -> dict[str, Any]:
    """The object minus what a shutdown may change: replicas, our annotations, bookkeeping."""
    obj = copy.deepcopy(obj)
    obj.pop("status", None)
    meta = obj["metadata"]
    for key in VOLATILE:
        meta.pop(key, None)
    meta["annotations"] = {
        k: v for k, v in (meta.get("annotations") or {}).items() if not k.startswith(c.PREFIX)
    }
    obj["spec"].pop("replicas", None)
    return obj


def _owned_by(obj: dict[str, Any], manager: str) -> list[dict[str, Any]]:
    return [m for m in obj["metadata"]["managedFields"] if m["manager"] == manager]


def _leaves(fields: dict[str, Any], prefix: str = "") -> set[str]:
    out = set()
    for key, value in fields.items():
        path = f"{prefix}.{key}" if prefix else key
        out |= _leaves(value, path) if value else {path}
    return out


def test_only_replicas_and_our_annotations_change_and_only_nsshutdown_owns_them(
    world: World,
) -> None:
    ns = world.namespace()
    create_deployment(
        world.api, ns, "api", replicas=3,
        labels={"app.kubernetes.io/name": "api", "team": "payments"},
        annotations={"argocd.argoproj.io/tracking-id": "app:apps/Deployment:api", "team": "x"},
    )  # fmt: skip
    before = world.get("Deployment", ns, "api")
    others_before = [m for m in before["metadata"]["managedFields"] if m["manager"] != "nsshutdown"]

    world.cli("run", "-s", world.schedule(down=True))
    after = world.get("Deployment", ns, "api")

    assert _without_our_changes(after) == _without_our_changes(before)
    assert after["spec"]["replicas"] == 0
    (ours,) = _owned_by(after, c.FIELD_MANAGER)
    assert ours["operation"] == "Update"
    assert _leaves(ours["fieldsV1"]) == {
        "f:spec.f:replicas",
        f"f:metadata.f:annotations.f:{c.ORIGINAL_REPLICAS}",
        f"f:metadata.f:annotations.f:{c.SHUTDOWN_AT}",
        f"f:metadata.f:annotations.f:{c.SHUTDOWN_BY}",
    }
    others_after = [m for m in after["metadata"]["managedFields"] if m["manager"] != "nsshutdown"]
    assert [m["manager"] for m in others_after] == [m["manager"] for m in others_before]

    world.cli("run", "-s", world.schedule(down=False))
    restored = world.get("Deployment", ns, "api")

    assert _without_our_changes(restored) == _without_our_changes(before)
    assert restored["metadata"]["annotations"] == before["metadata"]["annotations"]
    assert restored["metadata"]["labels"] == before["metadata"]["labels"]
    (ours,) = _owned_by(restored, c.FIELD_MANAGER)
    assert _leaves(ours["fieldsV1"]) == {"f:spec.f:replicas"}


def test_keda_scaledobject_is_paused_its_target_skipped_and_a_rollout_scaled(
    world: World,
) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "worker", replicas=3)
    for name, paused in (("worker", None), ("batch", "2")):
        annotations = {c.KEDA_PAUSED_REPLICAS: paused} if paused else {}
        create_custom_object(
            world.api,
            {
                "apiVersion": "keda.sh/v1alpha1",
                "kind": "ScaledObject",
                "metadata": {"name": name, "namespace": ns, "annotations": annotations},
                "spec": {"scaleTargetRef": {"name": name}, "triggers": [{"type": "cpu"}]},
            },
            plural="scaledobjects",
        )
    create_custom_object(
        world.api,
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "metadata": {"name": "canary", "namespace": ns},
            "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "canary"}}},
        },
        plural="rollouts",
    )

    down = world.cli("run", "-s", world.schedule(down=True))

    assert down.code == 0, down.stderr
    kinds = {(a["kind"], a["name"]): a for a in down.namespace(ns)["actions"]}
    assert kinds[("Deployment", "worker")]["reason"] == "keda-managed"
    assert world.replicas(ns, "worker") == 3  # KEDA's target: never scaled by us
    assert world.ours(ns, "worker", "ScaledObject")[c.ORIGINAL_PAUSED_REPLICAS] == ""
    assert world.annotations(ns, "worker", "ScaledObject")[c.KEDA_PAUSED_REPLICAS] == "0"
    assert world.annotations(ns, "batch", "ScaledObject")[c.KEDA_PAUSED_REPLICAS] == "0"
    assert world.ours(ns, "batch", "ScaledObject")[c.ORIGINAL_PAUSED_REPLICAS] == "2"
    assert world.replicas(ns, "canary", "Rollout") == 0
    assert world.ours(ns, "canary", "Rollout")[c.ORIGINAL_REPLICAS] == "4"

    up = world.cli("run", "-s", world.schedule(down=False))

    assert up.code == 0, up.stderr
    assert c.KEDA_PAUSED_REPLICAS not in world.annotations(ns, "worker", "ScaledObject")
    assert world.annotations(ns, "batch", "ScaledObject") == {c.KEDA_PAUSED_REPLICAS: "2"}
    assert world.replicas(ns, "canary", "Rollout") == 4
    assert world.ours(ns, "canary", "Rollout") == {}


@pytest.mark.parametrize("mode", ["server", "client"])
def test_dry_run_writes_nothing(world: World, mode: str) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=3)
    before = world.get("Deployment", ns, "api")

    flag = "--dry-run" if mode == "client" else "--dry-run=server"
    result = world.cli("run", flag, "-s", world.schedule(down=True))

    assert result.code == 0, result.stderr
    assert result.doc["dry_run"] == mode
    assert result.action(ns, "api")["outcome"] == "dry-run"
    after = world.get("Deployment", ns, "api")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert after["spec"]["replicas"] == 3
    assert world.ours(ns, "api") == {}


def test_server_dry_run_reports_what_the_api_server_would_refuse(
    world: World, cluster: LocalCluster, tmp_path: Path
) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=3)
    readonly = _read_only_kubeconfig(world, cluster, tmp_path)

    result = world.cli("run", "--dry-run=server", "-s", world.schedule(), kubeconfig=readonly)

    assert result.code == 2
    assert result.namespace(ns)["status"] == "failed"
    assert "403" in result.action(ns, "api")["error"]
    assert world.replicas(ns, "api") == 3


def _read_only_kubeconfig(world: World, cluster: LocalCluster, tmp_path: Path) -> Path:
    return service_account_kubeconfig(world, "viewer", patch_in=())
