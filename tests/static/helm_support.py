"""Shared by the Helm chart tests: render the chart and the kustomizations it mirrors, and compare
them object by object.

Helm and kubectl come from the project's own builds (tools/go/build.sh, tools/k8s/build.sh): a
missing one skips the test on a developer machine and fails it when CI=true.
"""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from devtools import BinariesNotFoundError, find_binaries
from devtools.tools import ToolNotFoundError, find_tool
from tests.rendered import Doc

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "nsshutdown"
MANIFESTS = ROOT / "manifests"
NAMESPACE = "nsshutdown"  # the namespace manifests/base installs into
# Without a cluster, Helm built from its Go module assumes Kubernetes v1.20, older than the
# chart's kubeVersion: name the version the integration tests run (as mk/helm.mk does).
KUBE_VERSION = "1.34.0"
# The one label whose value differs by design: kustomize says it manages the base, Helm the chart.
MANAGED_BY = "app.kubernetes.io/managed-by"

Key = tuple[str, str, str]  # kind, namespace, name


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the chart must be checked)", pytrace=False)
    pytest.skip(reason)


def helm_path() -> str:
    try:
        return str(find_tool("helm"))
    except ToolNotFoundError as err:
        _unavailable(str(err))
        raise  # unreachable: _unavailable skips or fails


def kubectl_path() -> str:
    try:
        kubectl = find_binaries().kubectl
    except BinariesNotFoundError as err:
        kubectl, reason = None, str(err)
    else:
        reason = "no kubectl next to kube-apiserver (tools/k8s/build.sh)"
    if kubectl is None:
        _unavailable(reason)
    return str(kubectl)


def run_helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [helm_path(), *args], capture_output=True, text=True, timeout=120, check=False
    )


def render_chart(*values: str, namespace: str = NAMESPACE) -> list[Doc]:
    """`helm template` of the chart with ``values`` (``--set`` and friends), parsed."""
    proc = run_helm(
        "template",
        "nsshutdown",
        str(CHART),
        "--namespace",
        namespace,
        "--kube-version",
        KUBE_VERSION,
        *values,
    )
    assert proc.returncode == 0, f"helm template {' '.join(values)} failed:\n{proc.stderr}"
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def render_error(*values: str) -> str:
    """The error of a `helm template` that must fail."""
    proc = run_helm("template", "nsshutdown", str(CHART), "--kube-version", KUBE_VERSION, *values)
    assert proc.returncode != 0, f"helm template {' '.join(values)} rendered:\n{proc.stdout}"
    return proc.stderr


def kustomize(path: Path) -> list[Doc]:
    """`kubectl kustomize` of ``path``, parsed (outside-root references allowed, for the
    kustomizations the tests write in a temporary directory)."""
    proc = subprocess.run(
        [kubectl_path(), "kustomize", "--load-restrictor=LoadRestrictionsNone", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, f"kustomize {path} failed:\n{proc.stderr}"
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def key(doc: Doc) -> Key:
    meta = doc["metadata"]
    return doc["kind"], meta.get("namespace", ""), meta["name"]


def by_key(docs: list[Doc]) -> dict[Key, Doc]:
    """The objects by kind, namespace and name, with the managed-by label left out (the only
    normalisation: everything else must be equal)."""
    out: dict[Key, Doc] = {}
    for original in docs:
        doc = copy.deepcopy(original)
        for meta in _metadatas(doc):
            labels = meta.get("labels") or {}
            labels.pop(MANAGED_BY, None)
        assert key(doc) not in out, f"{key(doc)} twice"
        out[key(doc)] = doc
    return out


def _metadatas(doc: Doc) -> list[Doc]:
    """The object's metadata and its templates' (a CronJob's Job and Pod, a Deployment's Pod)."""
    found = [doc["metadata"]]
    spec = doc.get("spec") or {}
    if doc["kind"] == "CronJob":
        found.append(spec["jobTemplate"]["metadata"])
        found.append(spec["jobTemplate"]["spec"]["template"]["metadata"])
    elif doc["kind"] == "Deployment":
        found.append(spec["template"]["metadata"])
    return found


def differences(expected: list[Doc], actual: list[Doc]) -> list[str]:
    """What differs between two sets of objects: missing, extra, or unequal objects."""
    want, got = by_key(expected), by_key(actual)
    problems = [f"missing {k}" for k in sorted(want.keys() - got.keys())]
    problems += [f"extra {k}" for k in sorted(got.keys() - want.keys())]
    problems += [
        f"{k} differs:\n--- kustomize\n{yaml.safe_dump(want[k])}--- helm\n{yaml.safe_dump(got[k])}"
        for k in sorted(want.keys() & got.keys())
        if want[k] != got[k]
    ]
    return problems
