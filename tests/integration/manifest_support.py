"""Shared by the manifest integration tests: render with the built kubectl, rename to unique
names, apply, and call the API server as a ServiceAccount.

The manifests name fixed namespaces (nsshutdown, team-a, ...) and cluster-wide RBAC objects. Tests
that create objects rewrite those names to unique ones first (:func:`isolate`), so tests never
share state through the session's API server.
"""

from __future__ import annotations

import copy
import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from devtools import LocalCluster
from devtools.workloads import create_namespace
from tests.rendered import Doc

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
KUSTOMIZATIONS = [
    "base",
    *sorted(
        f"overlays/{p.parent.name}" for p in (MANIFESTS / "overlays").glob("*/kustomization.yaml")
    ),
]
HOME_NAMESPACE = "nsshutdown"  # the namespace every manifest installs into


# -- rendering ----------------------------------------------------------------------------------


def find_kubectl(cluster: LocalCluster) -> Path:
    """The kubectl built with the API server (never a kubectl from PATH: it may be any version)."""
    if cluster.kubectl is None:
        message = f"no kubectl next to kube-apiserver in {cluster.binaries.directory}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return cluster.kubectl


def run_kubectl(
    kubectl: Path, cluster: LocalCluster, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig_path)}
    return subprocess.run(
        [str(kubectl), "--kubeconfig", str(cluster.kubeconfig_path), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def render_all(kubectl: Path) -> dict[str, list[Doc]]:
    """`kubectl kustomize` of every kustomization, parsed."""
    out: dict[str, list[Doc]] = {}
    for name in [*KUSTOMIZATIONS, "argocd"]:
        proc = subprocess.run(
            [str(kubectl), "kustomize", str(MANIFESTS / name)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, f"kustomize {name} failed:\n{proc.stderr}"
        out[name] = [doc for doc in yaml.safe_load_all(proc.stdout) if doc]
    return out


# -- isolation: unique names for everything a test creates --------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def isolate(docs: list[Doc], namespaces: Mapping[str, str], suffix: str) -> list[Doc]:
    """Copy ``docs`` with namespaces renamed per ``namespaces`` and cluster-scoped RBAC suffixed.

    Namespace objects are dropped (the test creates its namespaces). Renamed: object namespaces,
    ServiceAccount subjects, ClusterRole names and the roleRefs to them, and namespace names in
    the CronJob's arguments (``--scope-namespaces``).
    """
    out = []
    for original in docs:
        doc = copy.deepcopy(original)
        meta = doc["metadata"]
        if doc["kind"] == "Namespace":
            continue
        if "namespace" in meta:
            meta["namespace"] = namespaces.get(meta["namespace"], meta["namespace"])
        if doc["kind"] in ("ClusterRole", "ClusterRoleBinding"):
            meta["name"] = f"{meta['name']}-{suffix}"
        if doc["kind"] in ("RoleBinding", "ClusterRoleBinding"):
            if doc["roleRef"]["kind"] == "ClusterRole":
                doc["roleRef"]["name"] = f"{doc['roleRef']['name']}-{suffix}"
            for subject in doc["subjects"]:
                subject["namespace"] = namespaces.get(subject["namespace"], subject["namespace"])
        if doc["kind"] == "CronJob":
            container = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
            container["args"] = [_rename_in_arg(a, namespaces) for a in container["args"]]
        out.append(doc)
    return out


def _rename_in_arg(arg: str, namespaces: Mapping[str, str]) -> str:
    if not arg.startswith("--scope-namespaces="):
        return arg
    flag, names = arg.split("=", 1)
    return flag + "=" + ",".join(namespaces.get(n, n) for n in names.split(","))


def apply(kubectl: Path, cluster: LocalCluster, docs: list[Doc], *extra: str) -> str:
    proc = run_kubectl(
        kubectl,
        cluster,
        "apply",
        "--validate=strict",
        *extra,
        "-f",
        "-",
        stdin=yaml.safe_dump_all(docs),
    )
    assert proc.returncode == 0, f"kubectl apply {' '.join(extra)} failed:\n{proc.stderr}"
    return proc.stdout


def ensure_namespaces(api: client.ApiClient, *names: str) -> None:
    for name in names:
        create_namespace(api, name, labels={"nsshutdown.io/test": "true"}, exist_ok=True)


# -- raw API calls with a bearer token ----------------------------------------------------------


@dataclass(frozen=True)
class TokenClient:
    """HTTP calls to the API server as one ServiceAccount: returns the status code only."""

    server: str
    token: str
    context: ssl.SSLContext

    def status(self, method: str, path: str, body: Any = None) -> int:
        data = None if body is None else json.dumps(body).encode()
        content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
        request = urllib.request.Request(  # noqa: S310 - loopback API server
            self.server + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": content_type},
        )
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.context) as resp:  # noqa: S310
                return int(resp.status)
        except urllib.error.HTTPError as err:
            return int(err.code)

    def allowed(self, verb: str, resource: str, *, namespace: str = "", group: str = "") -> bool:
        """A SelfSubjectAccessReview, as `nsshutdown check` would ask it."""
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {
                "resourceAttributes": {
                    "verb": verb,
                    "resource": resource,
                    "group": group,
                    "namespace": namespace,
                }
            },
        }
        request = urllib.request.Request(  # noqa: S310 - loopback API server
            self.server + "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            data=json.dumps(review).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10, context=self.context) as resp:  # noqa: S310
            return bool(json.loads(resp.read())["status"]["allowed"])


def token_client(cluster: LocalCluster, namespace: str) -> TokenClient:
    token = cluster.create_service_account_token(namespace, "nsshutdown")
    context = ssl.create_default_context(cafile=str(cluster.pki.ca_cert))
    return TokenClient(cluster.server_url, token, context)


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()
