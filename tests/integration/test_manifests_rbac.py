"""Least privilege, proven against a real kube-apiserver with the job's own ServiceAccount token.

- The base's RBAC allows what a run does, and reading Secrets, deleting or creating workloads,
  patching Pods and editing RBAC are all 403 (real calls, and SelfSubjectAccessReview).
- `nsshutdown run`, driven with the CronJob's own arguments and that token, converges a namespace
  and restores it.
- The namespaced overlay cannot touch a namespace outside its list.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from devtools import LocalCluster
from devtools.workloads import create_cronjob, create_deployment, create_statefulset
from tests.integration.manifest_support import (
    HOME_NAMESPACE,
    REPO,
    TokenClient,
    apply,
    ensure_namespaces,
    eventually,
    find_kubectl,
    isolate,
    render_all,
    token_client,
    unique,
)
from tests.rendered import Doc, container

SCHEDULE_KEY = "schedule.yaml"
OWN_ANNOTATIONS = "nsshutdown.io/"


@pytest.fixture(scope="module")
def kubectl(cluster: LocalCluster) -> Path:
    return find_kubectl(cluster)


@pytest.fixture(scope="module")
def rendered(kubectl: Path) -> dict[str, list[Doc]]:
    return render_all(kubectl)


# -- least privilege: the base's RBAC with the job's own token ----------------------------------


@dataclass(frozen=True)
class Installed:
    """The base installed under unique names, and a client holding the job's token."""

    home: str  # stands for the nsshutdown namespace
    target: str  # a namespace with workloads for the job to scale
    docs: list[Doc]
    token: TokenClient


@pytest.fixture(scope="module")
def base_installed(
    cluster: LocalCluster, kubectl: Path, rendered: dict[str, list[Doc]]
) -> Installed:
    home, target = unique("nss-home"), unique("nss-target")
    docs = isolate(rendered["base"], {HOME_NAMESPACE: home}, suffix=home)
    with cluster.api_client() as api:
        ensure_namespaces(api, home, target)
        apply(kubectl, cluster, docs)
        create_deployment(api, target, "api", replicas=2)
        create_statefulset(api, target, "db", replicas=1)
        create_cronjob(api, target, "report")
        core = client.CoreV1Api(api)
        core.create_namespaced_secret(
            target,
            client.V1Secret(
                metadata=client.V1ObjectMeta(name="db-password"),
                string_data={"password": "not-for-nsshutdown"},
            ),
        )
        core.create_namespaced_pod(target, _plain_pod("web"))
    token = token_client(cluster, home)
    deployments = f"/apis/apps/v1/namespaces/{target}/deployments"
    # RBAC reaches the authorizer's cache asynchronously: wait for a grant to be in effect
    # before asserting any denial (a denial seen earlier would prove nothing).
    assert eventually(lambda: token.status("GET", deployments) == 200)
    return Installed(home=home, target=target, docs=docs, token=token)


def _plain_pod(name: str) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(containers=[client.V1Container(name="main", image="pause")]),
    )


def _allowed_calls(home: str, target: str) -> list[tuple[str, str, Any]]:
    """What one run does, each as (method, path, body); writes use dryRun so nothing changes."""
    dry = "?dryRun=All"
    patch = {
        "metadata": {"annotations": {"nsshutdown.io/shutdown-by": "test"}},
        "spec": {"replicas": 0},
    }
    regarding = {"kind": "Deployment", "namespace": target, "name": "api"}
    event = {
        "metadata": {"generateName": "api."},
        "involvedObject": regarding,
        "reason": "ScaledDown",
        "message": "test",
        "type": "Normal",
    }
    new_event = {
        "metadata": {"generateName": "api-"},
        "regarding": regarding,
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "nsshutdown.io/nsshutdown",
        "reportingInstance": "test",
        "action": "ScaleDown",
        "reason": "ScaledDown",
        "note": "test",
        "type": "Normal",
    }
    ns = f"/namespaces/{target}"
    return [
        ("GET", "/api/v1/namespaces", None),
        ("GET", f"/api/v1{ns}", None),
        ("GET", "/apis/apps/v1/deployments?limit=50", None),
        ("GET", "/apis/apps/v1/statefulsets?limit=50", None),
        ("GET", "/apis/batch/v1/cronjobs?limit=50", None),
        ("GET", "/apis/keda.sh/v1alpha1/scaledobjects?limit=50", None),
        ("GET", "/apis/argoproj.io/v1alpha1/rollouts?limit=50", None),
        ("GET", "/api/v1/pods?limit=50", None),
        ("GET", f"/apis/apps/v1{ns}/deployments/api", None),
        ("PATCH", f"/apis/apps/v1{ns}/deployments/api{dry}", patch),
        ("PATCH", f"/apis/apps/v1{ns}/statefulsets/db{dry}", patch),
        ("PATCH", f"/apis/batch/v1{ns}/cronjobs/report{dry}", {"spec": {"suspend": True}}),
        ("POST", f"/api/v1{ns}/events{dry}", event),
        ("POST", f"/apis/events.k8s.io/v1{ns}/events{dry}", new_event),
        ("GET", f"/api/v1/namespaces/{home}/configmaps/nsshutdown-schedule", None),
    ]


#: Patches of custom resources that do not exist here: 404 means the request got past
#: authorization (a denial is 403, decided before the object is looked up).
AUTHORIZED_BUT_ABSENT = [
    ("PATCH", "/apis/keda.sh/v1alpha1/namespaces/{target}/scaledobjects/none"),
    ("PATCH", "/apis/argoproj.io/v1alpha1/namespaces/{target}/rollouts/none"),
]


def test_the_job_token_may_do_what_a_run_does(base_installed: Installed) -> None:
    token, target = base_installed.token, base_installed.target
    calls = _allowed_calls(base_installed.home, target)
    statuses = {f"{m} {p}": token.status(m, p, b) for m, p, b in calls}
    assert {call: code for call, code in statuses.items() if code not in (200, 201)} == {}
    for method, path in AUTHORIZED_BUT_ABSENT:
        assert token.status(method, path.format(target=target), {"spec": {}}) == 404, path


FORBIDDEN: list[tuple[str, str, str, Any]] = [
    # (id, method, path template, body); {home} and {target} are filled in per test.
    ("read-a-secret", "GET", "/api/v1/namespaces/{target}/secrets/db-password", None),
    ("list-secrets", "GET", "/api/v1/secrets", None),
    ("list-configmaps-elsewhere", "GET", "/api/v1/namespaces/{target}/configmaps", None),
    (
        "read-another-configmap",
        "GET",
        "/api/v1/namespaces/{home}/configmaps/kube-root-ca.crt",
        None,
    ),
    ("delete-a-deployment", "DELETE", "/apis/apps/v1/namespaces/{target}/deployments/api", None),
    (
        "create-a-deployment",
        "POST",
        "/apis/apps/v1/namespaces/{target}/deployments",
        {"metadata": {"name": "x"}},
    ),
    (
        "create-a-statefulset",
        "POST",
        "/apis/apps/v1/namespaces/{target}/statefulsets",
        {"metadata": {"name": "x"}},
    ),
    (
        "patch-the-scale-subresource",
        "PATCH",
        "/apis/apps/v1/namespaces/{target}/deployments/api/scale",
        {"spec": {"replicas": 0}},
    ),
    ("create-a-pod", "POST", "/api/v1/namespaces/{target}/pods", {"metadata": {"name": "x"}}),
    (
        "patch-a-pod",
        "PATCH",
        "/api/v1/namespaces/{target}/pods/web",
        {"metadata": {"labels": {"x": "y"}}},
    ),
    ("delete-a-pod", "DELETE", "/api/v1/namespaces/{target}/pods/web", None),
    (
        "patch-a-namespace",
        "PATCH",
        "/api/v1/namespaces/{target}",
        {"metadata": {"annotations": {"nsshutdown.io/keep-up-until": "2099-01-01T00:00:00Z"}}},
    ),
    ("delete-a-namespace", "DELETE", "/api/v1/namespaces/{target}", None),
    (
        "create-a-rolebinding",
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/{target}/rolebindings",
        {
            "metadata": {"name": "x"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "admin",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "nsshutdown", "namespace": "{home}"}],
        },
    ),
    (
        "patch-its-own-clusterrole",
        "PATCH",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/nsshutdown-{home}",
        {"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]},
    ),
    (
        "create-a-clusterrolebinding",
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        {"metadata": {"name": "x"}},
    ),
    (
        "create-a-crd",
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        {"metadata": {"name": "x"}},
    ),
]


def _fill(value: Any, **names: str) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, list):
        return [_fill(v, **names) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, **names) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("method", "path", "body"), [f[1:] for f in FORBIDDEN], ids=[f[0] for f in FORBIDDEN]
)
def test_the_job_token_is_forbidden(
    method: str, path: str, body: Any, base_installed: Installed
) -> None:
    names = {"home": base_installed.home, "target": base_installed.target}
    assert base_installed.token.status(method, _fill(path, **names), _fill(body, **names)) == 403


def test_self_subject_access_review_agrees(base_installed: Installed) -> None:
    """What `nsshutdown check` would see: allowed where the run needs it, and nowhere else."""
    token, target = base_installed.token, base_installed.target
    assert token.allowed("patch", "deployments", group="apps", namespace=target)
    assert token.allowed("list", "namespaces")
    assert not token.allowed("get", "secrets", namespace=target)
    assert not token.allowed("delete", "deployments", group="apps", namespace=target)
    assert not token.allowed("escalate", "clusterroles", group="rbac.authorization.k8s.io")
    assert not token.allowed("impersonate", "serviceaccounts")


# -- nsshutdown run with the job's token and the CronJob's own arguments ------------------------


def _run_supported(*flags: str) -> bool:
    """True when ``nsshutdown run`` exists and accepts every flag in ``flags``."""
    proc = subprocess.run(
        [sys.executable, "-m", "nsshutdown", "run", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "300"},
    )
    return proc.returncode == 0 and all(flag in proc.stdout for flag in flags)


def _cronjob_argv(docs: list[Doc], home: str) -> list[str]:
    """The CronJob container's arguments, with $(POD_NAMESPACE) expanded as the kubelet does."""
    args = container(docs)["args"]
    return [str(a).replace("$(POD_NAMESPACE)", home) for a in args]


def _run_nsshutdown(
    argv: list[str], *, cluster: LocalCluster, token: TokenClient, home: str, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    kubeconfig = cluster.kubeconfig_for_token(token.token, tmp_path / "job.kubeconfig")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NSSHUTDOWN_")}
    env.update({"POD_NAMESPACE": home, "HOME": str(tmp_path), "KUBECONFIG": "/nonexistent"})
    return subprocess.run(
        [sys.executable, "-m", "nsshutdown", *argv, "--kubeconfig", str(kubeconfig)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=REPO,
        env=env,
    )


def _set_schedule(api: client.ApiClient, home: str, schedule: Doc) -> None:
    client.CoreV1Api(api).patch_namespaced_config_map(
        "nsshutdown-schedule", home, {"data": {SCHEDULE_KEY: yaml.safe_dump(schedule)}}
    )


def _always_down(*names: str) -> Doc:
    # The window opened this minute (shutdown every minute) and last closed on 1 January.
    return {
        "version": 1,
        "defaults": {
            "timezone": "Etc/UTC",
            "gracePeriod": "0m",
            "kinds": ["Deployment", "StatefulSet", "CronJob"],
        },
        "schedules": [
            {
                "name": "test-always-down",
                "namespaces": {"names": list(names)},
                "windows": [{"shutdown": "* * * * *", "startup": "0 0 1 1 *"}],
            }
        ],
    }


def _own_annotations(obj: Any) -> dict[str, str]:
    annotations = obj.metadata.annotations or {}
    return {k: v for k, v in annotations.items() if k.startswith(OWN_ANNOTATIONS)}


def _assert_ran_without_rbac_errors(proc: subprocess.CompletedProcess[str]) -> None:
    output = proc.stdout + proc.stderr
    # 2 (partial) is accepted only because the session's API server may hold other tests'
    # leftovers that a cluster-wide run tries to restore; this namespace's state is asserted below.
    assert proc.returncode in (0, 2), output
    assert "forbidden" not in output.lower(), output


def test_run_with_the_job_token_converges_and_restores(
    base_installed: Installed, cluster: LocalCluster, tmp_path: Path
) -> None:
    argv = _cronjob_argv(base_installed.docs, base_installed.home)
    flags = [a.split("=", 1)[0] for a in argv if a.startswith("--")]
    if not _run_supported(*flags):
        pytest.skip(f"`nsshutdown run` with {' '.join(flags)} is not available yet")
    home, target = base_installed.home, base_installed.target
    with cluster.api_client() as api:
        _set_schedule(api, home, _always_down(target))
        down = _run_nsshutdown(
            argv, cluster=cluster, token=base_installed.token, home=home, tmp_path=tmp_path
        )
        _assert_ran_without_rbac_errors(down)
        apps, batch = client.AppsV1Api(api), client.BatchV1Api(api)
        deployment = apps.read_namespaced_deployment("api", target)
        assert deployment.spec.replicas == 0, down.stderr
        assert _own_annotations(deployment)["nsshutdown.io/original-replicas"] == "2"
        assert apps.read_namespaced_stateful_set("db", target).spec.replicas == 0
        assert batch.read_namespaced_cron_job("report", target).spec.suspend is True
        assert client.CoreV1Api(api).list_namespaced_event(target).items, "--events wrote none"

        _set_schedule(api, home, _always_down("no-such-namespace"))
        up = _run_nsshutdown(
            argv, cluster=cluster, token=base_installed.token, home=home, tmp_path=tmp_path
        )
        _assert_ran_without_rbac_errors(up)
        deployment = apps.read_namespaced_deployment("api", target)
        assert deployment.spec.replicas == 2, up.stderr
        assert _own_annotations(deployment) == {}
        assert batch.read_namespaced_cron_job("report", target).spec.suspend is False


def test_check_with_the_job_token_and_the_cronjob_options_passes(
    base_installed: Installed, cluster: LocalCluster, tmp_path: Path
) -> None:
    """`nsshutdown check` asks for exactly what the ClusterRole grants: every check passes."""
    home = base_installed.home
    run_args = _cronjob_argv(base_installed.docs, home)[1:]
    options = [a for a in run_args if a.split("=", 1)[0] in ("--configmap", "--events")]
    with cluster.api_client() as api:
        _set_schedule(api, home, _always_down("no-such-namespace"))
    proc = _run_nsshutdown(
        ["check", *options, "--output", "json"],
        cluster=cluster, token=base_installed.token, home=home, tmp_path=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = json.loads(proc.stdout)["checks"]
    assert {c["status"] for c in checks} <= {"pass", "info"}
    asked = {c["subject"] for c in checks if c["check"] == "permission"}
    assert f"configmaps in {home}" in asked
    assert "events.events.k8s.io (all namespaces)" in asked


# -- namespaced mode: nothing outside the listed namespaces -------------------------------------


@dataclass(frozen=True)
class NamespacedInstall:
    home: str
    listed: tuple[str, str]
    outside: str
    docs: list[Doc]
    token: TokenClient


@pytest.fixture(scope="module")
def namespaced_installed(
    cluster: LocalCluster, kubectl: Path, rendered: dict[str, list[Doc]]
) -> NamespacedInstall:
    home, a, b, outside = (unique(p) for p in ("nss-home", "team-a", "team-b", "outside"))
    mapping = {HOME_NAMESPACE: home, "team-a": a, "team-b": b}
    docs = isolate(rendered["overlays/namespaced"], mapping, suffix=home)
    with cluster.api_client() as api:
        ensure_namespaces(api, home, a, b, outside)
        apply(kubectl, cluster, docs)
        for namespace in (a, outside):
            create_deployment(api, namespace, "api", replicas=2)
    token = token_client(cluster, home)
    assert eventually(
        lambda: token.status("GET", f"/apis/apps/v1/namespaces/{a}/deployments") == 200
    )
    return NamespacedInstall(home=home, listed=(a, b), outside=outside, docs=docs, token=token)


def test_namespaced_overlay_has_no_cluster_wide_binding(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered["overlays/namespaced"]
    assert [d for d in docs if d["kind"] == "ClusterRoleBinding"] == []
    bound = {
        d["metadata"]["namespace"]
        for d in docs
        if d["kind"] == "RoleBinding" and d["roleRef"]["kind"] == "ClusterRole"
    }
    scope = [a for a in container(docs)["args"] if a.startswith("--scope-namespaces=")]
    assert scope == [f"--scope-namespaces={','.join(sorted(bound))}"]


def test_namespaced_overlay_acts_on_its_listed_namespaces(
    namespaced_installed: NamespacedInstall,
) -> None:
    token, (a, b) = namespaced_installed.token, namespaced_installed.listed
    patch = {"spec": {"replicas": 0}}
    for namespace in (a, b):
        assert token.status("GET", f"/api/v1/namespaces/{namespace}") == 200
        assert token.status("GET", f"/apis/apps/v1/namespaces/{namespace}/statefulsets") == 200
        assert token.status("GET", f"/apis/batch/v1/namespaces/{namespace}/cronjobs") == 200
    path = f"/apis/apps/v1/namespaces/{a}/deployments/api?dryRun=All"
    assert token.status("PATCH", path, patch) == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/namespaces/{outside}"),
        ("GET", "/apis/apps/v1/namespaces/{outside}/deployments"),
        ("GET", "/apis/apps/v1/namespaces/{outside}/deployments/api"),
        ("PATCH", "/apis/apps/v1/namespaces/{outside}/deployments/api"),
        ("GET", "/apis/batch/v1/namespaces/{outside}/cronjobs"),
        ("GET", "/api/v1/namespaces"),
        ("GET", "/apis/apps/v1/deployments"),
        ("GET", "/api/v1/namespaces/{listed}/secrets"),
        ("DELETE", "/apis/apps/v1/namespaces/{listed}/deployments/api"),
    ],
    ids=[
        "get-namespace",
        "list-deployments",
        "get-deployment",
        "patch-deployment",
        "list-cronjobs",
        "list-all-namespaces",
        "list-deployments-cluster-wide",
        "secrets-in-a-listed-namespace",
        "delete-in-a-listed-namespace",
    ],
)
def test_namespaced_overlay_cannot_touch_anything_else(
    method: str, path: str, namespaced_installed: NamespacedInstall
) -> None:
    filled = path.format(
        outside=namespaced_installed.outside, listed=namespaced_installed.listed[0]
    )
    body = {"spec": {"replicas": 0}} if method == "PATCH" else None
    assert namespaced_installed.token.status(method, filled, body) == 403


def test_namespaced_run_converges_only_its_namespaces(
    namespaced_installed: NamespacedInstall, cluster: LocalCluster, tmp_path: Path
) -> None:
    install = namespaced_installed
    argv = _cronjob_argv(install.docs, install.home)
    flags = [a.split("=", 1)[0] for a in argv if a.startswith("--")]
    if not _run_supported(*flags):
        pytest.skip(f"`nsshutdown run` with {' '.join(flags)} is not available yet")
    with cluster.api_client() as api:
        # Even a schedule naming the outside namespace cannot reach it in this mode.
        _set_schedule(api, install.home, _always_down(*install.listed, install.outside))
        proc = _run_nsshutdown(
            argv, cluster=cluster, token=install.token, home=install.home, tmp_path=tmp_path
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        apps = client.AppsV1Api(api)
        assert apps.read_namespaced_deployment("api", install.listed[0]).spec.replicas == 0
        outside = apps.read_namespaced_deployment("api", install.outside)
        assert outside.spec.replicas == 2
        assert _own_annotations(outside) == {}
