"""The local cluster and Pushgateway harness itself: proves what later integration tests rely on."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

from devtools import LocalCluster, LocalPushgateway
from devtools._proc import port_is_free
from devtools.cluster import api_client_from_kubeconfig
from devtools.workloads import create_custom_object, create_deployment, set_ready_status

FIELD_MANAGER = "harness-test"


def _eventually(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_apiserver_is_ready_and_reports_its_real_version(cluster: LocalCluster) -> None:
    assert cluster.server_url.startswith("https://127.0.0.1:")
    version = cluster.get_raw("/version")
    assert version["gitVersion"].startswith("v1.")
    assert version["gitVersion"] != "v0.0.0-master"
    assert cluster.kubeconfig_path.is_file()


def test_deployment_create_merge_patch_get_round_trip(
    api_client: client.ApiClient, namespace: str
) -> None:
    create_deployment(api_client, namespace, "web", replicas=3, cpu="250m", memory="256Mi")
    set_ready_status(api_client, namespace, "web")
    apps = client.AppsV1Api(api_client)
    patch = {
        "metadata": {"annotations": {"nsshutdown.io/original-replicas": "3"}},
        "spec": {"replicas": 0},
    }
    apps.patch_namespaced_deployment(
        "web",
        namespace,
        patch,
        field_manager=FIELD_MANAGER,
        _content_type="application/merge-patch+json",
    )

    got = apps.read_namespaced_deployment("web", namespace).to_dict()
    assert got["spec"]["replicas"] == 0
    assert got["metadata"]["annotations"] == {"nsshutdown.io/original-replicas": "3"}
    assert got["status"]["ready_replicas"] == 3  # status is ours to write: no controllers run
    requests = got["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]
    assert requests == {"cpu": "250m", "memory": "256Mi"}
    ours = [m for m in got["metadata"]["managed_fields"] if m["manager"] == FIELD_MANAGER]
    assert len(ours) == 1
    assert ours[0]["operation"] == "Update"
    owned = ours[0]["fields_v1"]
    assert "f:replicas" in owned["f:spec"]
    assert "f:nsshutdown.io/original-replicas" in owned["f:metadata"]["f:annotations"]


def _list_deployments_as(kubeconfig: Path) -> int:
    """HTTP status of a cluster-wide Deployment list with the given kubeconfig."""
    with api_client_from_kubeconfig(kubeconfig) as api:
        try:
            client.AppsV1Api(api).list_deployment_for_all_namespaces(limit=1)
        except ApiException as exc:
            return int(exc.status)
    return 200


def test_rbac_denies_an_unprivileged_token_and_allows_a_granted_one(
    cluster: LocalCluster, api_client: client.ApiClient, namespace: str, tmp_path: Path
) -> None:
    denied = cluster.kubeconfig_for_token(
        cluster.create_service_account_token(namespace, "nobody"), tmp_path / "nobody.kubeconfig"
    )
    assert _list_deployments_as(denied) == 403

    rbac = client.RbacAuthorizationV1Api(api_client)
    role = f"{namespace}-list-deployments"
    rbac.create_cluster_role(
        client.V1ClusterRole(
            metadata=client.V1ObjectMeta(name=role),
            rules=[
                client.V1PolicyRule(api_groups=["apps"], resources=["deployments"], verbs=["list"])
            ],
        )
    )
    rbac.create_cluster_role_binding(
        client.V1ClusterRoleBinding(
            metadata=client.V1ObjectMeta(name=role),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=role
            ),
            subjects=[
                client.RbacV1Subject(kind="ServiceAccount", name="reader", namespace=namespace)
            ],
        )
    )
    granted = cluster.kubeconfig_for_token(
        cluster.create_service_account_token(namespace, "reader", expiration=600),
        tmp_path / "reader.kubeconfig",
    )
    assert _eventually(lambda: _list_deployments_as(granted) == 200)
    assert _list_deployments_as(denied) == 403


def _scaled_object(namespace: str) -> dict[str, Any]:
    spec = {
        "scaleTargetRef": {"name": "worker"},
        "minReplicaCount": 1,
        "triggers": [{"type": "cron", "metadata": {"timezone": "UTC"}}],
    }
    meta = {"name": "worker", "namespace": namespace}
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": meta,
        "spec": spec,
    }


def _rollout(namespace: str) -> dict[str, Any]:
    spec = {"replicas": 4, "selector": {"matchLabels": {"app": "canary"}}}
    meta = {"name": "canary", "namespace": namespace}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": meta, "spec": spec}


def test_crds_are_served_and_rollout_has_a_scale_subresource(
    api_client: client.ApiClient, namespace: str
) -> None:
    create_custom_object(api_client, _scaled_object(namespace), plural="scaledobjects")
    create_custom_object(api_client, _rollout(namespace), plural="rollouts")

    custom = client.CustomObjectsApi(api_client)
    scaled: Any = custom.get_namespaced_custom_object(
        "keda.sh", "v1alpha1", namespace, "scaledobjects", "worker"
    )
    assert scaled["spec"]["scaleTargetRef"] == {"name": "worker"}
    scale: Any = custom.get_namespaced_custom_object_scale(
        "argoproj.io", "v1alpha1", namespace, "rollouts", "canary"
    )
    assert scale["spec"]["replicas"] == 4
    custom.patch_namespaced_custom_object_scale(
        "argoproj.io",
        "v1alpha1",
        namespace,
        "rollouts",
        "canary",
        {"spec": {"replicas": 0}},
        _content_type="application/merge-patch+json",
    )
    rollout: Any = custom.get_namespaced_custom_object(
        "argoproj.io", "v1alpha1", namespace, "rollouts", "canary"
    )
    assert rollout["spec"]["replicas"] == 0


def test_kubectl_server_side_dry_run(cluster: LocalCluster, namespace: str) -> None:
    if cluster.kubectl is None:
        pytest.skip("no kubectl next to kube-apiserver (KUBEBUILDER_ASSETS without kubectl)")
    manifest = (
        "apiVersion: v1\nkind: ConfigMap\n"
        f"metadata: {{name: probe, namespace: {namespace}}}\ndata: {{k: v}}\n"
    )
    result = subprocess.run(
        [
            str(cluster.kubectl),
            f"--kubeconfig={cluster.kubeconfig_path}",
            "apply",
            "--dry-run=server",
            "-f",
            "-",
        ],
        input=manifest,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "configmap/probe created (server dry run)" in result.stdout
    with cluster.api_client() as api, pytest.raises(ApiException) as err:
        client.CoreV1Api(api).read_namespaced_config_map("probe", namespace)
    assert err.value.status == 404


def test_pushgateway_accepts_a_push_and_serves_it_back(pushgateway: LocalPushgateway) -> None:
    registry = CollectorRegistry()
    gauge = Gauge("harness_probe_value", "Probe pushed by the harness test.", registry=registry)
    gauge.set(42)
    push_to_gateway(pushgateway.url.removeprefix("http://"), job="harness", registry=registry)

    lines = pushgateway.metrics_text().splitlines()
    assert 'harness_probe_value{instance="",job="harness"} 42' in lines
    pushgateway.wipe()
    assert not any(
        line.startswith("harness_probe_value") for line in pushgateway.metrics_text().splitlines()
    )


class _BoomError(Exception):
    pass


def _record_then_fail(cluster: LocalCluster) -> None:
    with cluster:
        assert cluster.etcd_process is not None
        assert cluster.apiserver_process is not None
        pids = [cluster.etcd_process.pid, cluster.apiserver_process.pid]
        assert all(_pid_alive(pid) for pid in pids)
        raise _BoomError(pids, cluster.ports, cluster.workdir)


@pytest.mark.slow
def test_stop_leaves_no_process_port_or_directory_behind(cluster: LocalCluster) -> None:
    second = LocalCluster(binaries=cluster.binaries)  # the fixture proves the binaries exist
    with pytest.raises(_BoomError) as failed:  # stop() must run when the body raises, too
        _record_then_fail(second)

    pids, ports, workdir = failed.value.args
    assert len(ports) == 3
    assert not any(_pid_alive(pid) for pid in pids)
    assert all(port_is_free(port) for port in ports)
    assert not workdir.exists()


def test_pushgateway_stop_leaves_no_process_or_port_behind(pushgateway: LocalPushgateway) -> None:
    with LocalPushgateway() as gateway:
        assert gateway.process is not None
        pid, port = gateway.process.pid, gateway.port
    assert not _pid_alive(pid)
    assert port_is_free(port)
