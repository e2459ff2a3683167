"""The deployment manifests against a real kube-apiserver: they apply, and the job's pod passes
Pod Security "restricted".

- Every kustomization renders and `kubectl apply --dry-run=server --validate=strict` accepts it;
  so do the Argo CD objects, with CRDs whose schemas reject unknown fields.
- The CronJob's pod is admitted in a namespace labelled like the base's, and that namespace does
  reject pods that break the profile (so the admission check can fail).

RBAC is proven in test_manifests_rbac.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from devtools import LocalCluster
from devtools.workloads import create_namespace
from tests.integration.manifest_support import (
    KUSTOMIZATIONS,
    MANIFESTS,
    REPO,
    apply,
    ensure_namespaces,
    find_kubectl,
    render_all,
    run_kubectl,
    unique,
)
from tests.rendered import Doc, one

ARGOCD_CRDS = REPO / "tests" / "fixtures" / "crds" / "argocd.yaml"
ARGOCD_FILES = sorted((MANIFESTS / "argocd").glob("*.yaml"))


@pytest.fixture(scope="module")
def kubectl(cluster: LocalCluster) -> Path:
    return find_kubectl(cluster)


@pytest.fixture(scope="module")
def rendered(kubectl: Path) -> dict[str, list[Doc]]:
    return render_all(kubectl)


# -- every kustomization applies ----------------------------------------------------------------


def _namespaces_used(docs: list[Doc]) -> set[str]:
    return {d["metadata"]["namespace"] for d in docs if d["metadata"].get("namespace")}


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_kustomization_applies_with_server_dry_run(
    name: str,
    rendered: dict[str, list[Doc]],
    kubectl: Path,
    cluster: LocalCluster,
    api_client: client.ApiClient,
) -> None:
    docs = rendered[name]
    # A server dry run persists nothing, not even the Namespace in the same apply: the
    # namespaces the objects live in must exist already.
    ensure_namespaces(api_client, *_namespaces_used(docs))
    out = apply(kubectl, cluster, docs, "--dry-run=server")
    assert out.count("(server dry run)") == len(docs), out


@pytest.fixture(scope="module")
def argocd_crds(cluster: LocalCluster) -> None:
    cluster.register_crds([ARGOCD_CRDS])


@pytest.mark.usefixtures("argocd_crds")
@pytest.mark.parametrize("path", ARGOCD_FILES, ids=lambda p: p.name)
def test_argocd_manifest_applies_with_server_dry_run(
    path: Path,
    rendered: dict[str, list[Doc]],
    kubectl: Path,
    cluster: LocalCluster,
    api_client: client.ApiClient,
) -> None:
    if path.name == "kustomization.yaml":
        docs = rendered["argocd"]
    else:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    ensure_namespaces(api_client, *_namespaces_used(docs))
    out = apply(kubectl, cluster, docs, "--dry-run=server")
    assert out.count("(server dry run)") == len(docs), out


@pytest.mark.usefixtures("argocd_crds")
def test_argocd_crds_reject_a_misspelt_field(
    kubectl: Path, cluster: LocalCluster, api_client: client.ApiClient
) -> None:
    """Negative control: the dry runs above can fail, so their passing means something."""
    app = yaml.safe_load((MANIFESTS / "argocd" / "application.yaml").read_text())
    app["spec"]["syncPolicy"]["automated"]["selfheal"] = True
    ensure_namespaces(api_client, app["metadata"]["namespace"])
    proc = run_kubectl(
        kubectl,
        cluster,
        "apply",
        "--validate=strict",
        "--dry-run=server",
        "-f",
        "-",
        stdin=yaml.safe_dump(app),
    )
    assert proc.returncode != 0
    assert "selfheal" in proc.stderr


# -- Pod Security "restricted" ------------------------------------------------------------------


def _restricted_namespace(api: client.ApiClient, rendered: dict[str, list[Doc]]) -> str:
    """A fresh namespace with the base Namespace's Pod Security labels."""
    labels = one(rendered["base"], "Namespace")["metadata"]["labels"]
    pss = {k: v for k, v in labels.items() if k.startswith("pod-security.kubernetes.io/")}
    assert pss["pod-security.kubernetes.io/enforce"] == "restricted"
    name = unique("psa")
    create_namespace(api, name, labels=pss)
    return name


def _job_pod(docs: list[Doc], name: str) -> Doc:
    template = one(docs, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": template["metadata"].get("labels", {})},
        "spec": copy.deepcopy(template["spec"]),
    }


@pytest.fixture(scope="module")
def restricted_namespace(cluster: LocalCluster, rendered: dict[str, list[Doc]]) -> str:
    with cluster.api_client() as api:
        return _restricted_namespace(api, rendered)


def _create_pod(api: client.ApiClient, namespace: str, pod: Doc) -> ApiException | None:
    try:
        client.CoreV1Api(api).create_namespaced_pod(namespace, pod)
    except ApiException as exc:
        return exc
    return None


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_cronjob_pod_is_admitted_under_restricted(
    name: str,
    rendered: dict[str, list[Doc]],
    restricted_namespace: str,
    api_client: client.ApiClient,
) -> None:
    pod = _job_pod(rendered[name], unique("job"))
    error = _create_pod(api_client, restricted_namespace, pod)
    assert error is None, error.body if error else ""


def _unset_seccomp(pod: Doc) -> None:
    pod["spec"]["securityContext"].pop("seccompProfile", None)
    pod["spec"]["containers"][0]["securityContext"].pop("seccompProfile", None)


def _container_security(**changes: Any) -> Callable[[Doc], None]:
    def mutate(pod: Doc) -> None:
        pod["spec"]["containers"][0]["securityContext"].update(changes)

    return mutate


def _run_as_root(pod: Doc) -> None:
    for context in (
        pod["spec"]["securityContext"],
        pod["spec"]["containers"][0]["securityContext"],
    ):
        context.update(runAsNonRoot=False, runAsUser=0)


# Negative controls: the same pod with one restricted requirement broken is rejected, so the
# namespace really enforces the profile and the admission above is meaningful.
BROKEN = {
    # privileged implies privilege escalation: the API rejects the pair otherwise (422).
    "privileged": _container_security(privileged=True, allowPrivilegeEscalation=True),
    "privilege-escalation": _container_security(allowPrivilegeEscalation=True),
    "capabilities-not-dropped": _container_security(capabilities={"add": ["NET_ADMIN"]}),
    "runs-as-root": _run_as_root,
    "no-seccomp-profile": _unset_seccomp,
}


@pytest.mark.parametrize("breakage", list(BROKEN))
def test_restricted_namespace_rejects_a_pod_that_breaks_the_profile(
    breakage: str,
    rendered: dict[str, list[Doc]],
    restricted_namespace: str,
    api_client: client.ApiClient,
) -> None:
    pod = _job_pod(rendered["base"], unique("broken"))
    BROKEN[breakage](pod)
    error = _create_pod(api_client, restricted_namespace, pod)
    assert error is not None, "a pod breaking the profile was admitted"
    assert error.status == 403, error.body
    assert "violates PodSecurity" in str(error.body)
