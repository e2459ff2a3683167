"""The Helm chart against a real kube-apiserver.

- `helm install --dry-run=server --take-ownership` of each value set of `make lint-helm` (Helm
  checks the release against what the cluster holds: ownership of the namespace and of the
  cluster-wide RBAC names), and `kubectl apply --dry-run=server --validate=strict` of the same
  rendering (the API server validates each object; a misspelt field fails).
- The install of the docs (create the namespace, then `helm install --take-ownership`) installs for
  real: the chart adopts the namespace and labels it for Pod Security "restricted".

The prometheus-operator kinds are left out of the monitoring set: this API server has no CRDs for
them (their content is compared with manifests/monitoring in tests/static/test_helm_chart.py).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from devtools import LocalCluster
from tests.integration.manifest_support import (
    apply,
    ensure_namespaces,
    find_kubectl,
    run_kubectl,
    unique,
)
from tests.integration.tool_support import require_tool
from tests.static.helm_support import CHART, MANIFESTS, render_chart

NAMESPACED = MANIFESTS / "overlays" / "namespaced"

VALUE_SETS = {
    "default": [],
    "observe": ["--set", "dryRun=true"],
    "monitoring": [
        "--set",
        "monitoring.enabled=true",
        "--set",
        "monitoring.serviceMonitor.enabled=false",
        "--set",
        "monitoring.prometheusRule.enabled=false",
    ],
    "custom": [
        "--set",
        "image.digest=sha256:" + "0" * 64,
        "--set",
        "cronjob.schedule=*/10 * * * *",
        "--set",
        "pushgateway.url=",
        "--set",
        "resources.limits.memory=1Gi",
        "--set",
        "extraArgs={--log-level=debug}",
    ],
}


@pytest.fixture(scope="module")
def helm() -> str:
    return require_tool("helm")


def _helm(
    helm: str, cluster: LocalCluster, *args: str, namespace: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HELM_CACHE_HOME": "", "KUBECONFIG": str(cluster.kubeconfig_path)}
    return subprocess.run(
        [helm, "--kubeconfig", str(cluster.kubeconfig_path), "--namespace", namespace, *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=env,
    )


def _install_dry_run(helm: str, cluster: LocalCluster, namespace: str, *values: str) -> str:
    proc = _helm(
        helm,
        cluster,
        "install",
        "nsshutdown",
        str(CHART),
        "--dry-run=server",
        "--take-ownership",
        *values,
        namespace=namespace,
    )
    assert proc.returncode == 0, f"helm install --dry-run=server {values} failed:\n{proc.stderr}"
    return proc.stdout


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_each_value_set_installs_with_server_dry_run(
    name: str, helm: str, cluster: LocalCluster, api_client: client.ApiClient
) -> None:
    namespace = unique("helm")
    ensure_namespaces(api_client, namespace, "monitoring")
    out = _install_dry_run(helm, cluster, namespace, *VALUE_SETS[name])
    assert "STATUS: pending-install" in out
    assert "kind: CronJob" in out
    # Helm's server dry run checks ownership and lookups, not the objects themselves: the API
    # server validates them (strict fields, admission) through kubectl, as for the manifests.
    docs = render_chart(*VALUE_SETS[name], namespace=namespace)
    applied = apply(find_kubectl(cluster), cluster, docs, "--dry-run=server")
    assert applied.count("(server dry run)") == len(docs), applied


def test_the_namespaced_scope_installs_with_server_dry_run(
    helm: str, cluster: LocalCluster, api_client: client.ApiClient
) -> None:
    namespace, team_a, team_b = unique("helm"), unique("team-a"), unique("team-b")
    ensure_namespaces(api_client, namespace, team_a, team_b)
    out = _install_dry_run(
        helm,
        cluster,
        namespace,
        "--set",
        f"scope.namespaces={{{team_a},{team_b}}}",
        "--set-file",
        f"schedule={NAMESPACED / 'schedule.yaml'}",
    )
    assert out.count("kind: RoleBinding") == 3  # the schedule reader's and one per namespace


def test_the_server_refuses_a_misspelt_field(cluster: LocalCluster) -> None:
    """values.schema.json does not describe extraEnv entries beyond name and value: the API
    server refuses a misspelt field, so the check above can fail."""
    docs = render_chart("--set", "extraEnv[0].name=A", "--set", "extraEnv[0].valueFromm=x")
    proc = run_kubectl(
        find_kubectl(cluster),
        cluster,
        "apply",
        "--validate=strict",
        "--dry-run=server",
        "-f",
        "-",
        stdin=yaml.safe_dump_all(docs),
    )
    assert proc.returncode != 0
    assert "valueFromm" in proc.stderr


def test_the_documented_install_adopts_the_namespace_it_creates(
    helm: str, cluster: LocalCluster, api_client: client.ApiClient, tmp_path: Path
) -> None:
    namespace = unique("nsshutdown")
    ensure_namespaces(api_client, namespace)  # `kubectl create namespace`, as the docs say
    install = _helm(
        helm, cluster, "install", "nsshutdown", str(CHART), "--take-ownership", namespace=namespace
    )
    try:
        assert install.returncode == 0, install.stderr
        labels = client.CoreV1Api(api_client).read_namespace(namespace).metadata.labels
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        cronjob = client.BatchV1Api(api_client).read_namespaced_cron_job("nsshutdown", namespace)
        assert cronjob.spec.schedule == "*/5 * * * *"
    finally:
        # Frees the cluster-wide names (ClusterRole and ClusterRoleBinding nsshutdown).
        _helm(helm, cluster, "uninstall", "nsshutdown", "--wait=false", namespace=namespace)
