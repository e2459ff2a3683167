"""Observe mode for a first install (manifests/components/observe), on the real API server.

The getting-started guide has a new installation include this component, so that the CronJob plans
and reports but changes nothing until the line is deleted. Here kustomize renders the base with
the component, and the CronJob's own arguments, as rendered, run against namespaces whose schedule
wants them down right now: the run says what it would do and every workload keeps its replicas.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools import LocalCluster
from devtools.workloads import create_deployment
from tests.integration.converge_support import World
from tests.integration.manifest_support import find_kubectl

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"


@pytest.fixture
def world(cluster: LocalCluster, tmp_path: Path) -> Iterator[World]:
    with World(cluster, tmp_path) as w:
        yield w


def _render(kubectl: Path, overlay: Path, *, observe: bool) -> list[dict[str, Any]]:
    """The base as a user's overlay renders it, with or without the observe component.

    kustomize takes only relative paths, and outside the overlay's own tree only without its load
    restrictions: the overlay lives in a temporary directory, not in the repository.
    """
    overlay.mkdir()
    kustomization: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(MANIFESTS / "base", overlay)],
    }
    if observe:
        kustomization["components"] = [os.path.relpath(MANIFESTS / "components/observe", overlay)]
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump(kustomization), encoding="utf-8")
    proc = subprocess.run(
        [str(kubectl), "kustomize", "--load-restrictor=LoadRestrictionsNone", str(overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def _run_args(docs: list[dict[str, Any]]) -> list[str]:
    (cronjob,) = [d for d in docs if d["kind"] == "CronJob"]
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return list(container["args"])


def test_the_component_adds_dry_run_and_nothing_else(cluster: LocalCluster, tmp_path: Path) -> None:
    kubectl = find_kubectl(cluster)
    plain = _render(kubectl, tmp_path / "acting", observe=False)
    observing = _render(kubectl, tmp_path / "observing", observe=True)
    assert _run_args(observing) == [*_run_args(plain), "--dry-run"]
    assert "--dry-run" not in _run_args(plain)
    (cronjob,) = [d for d in observing if d["kind"] == "CronJob"]
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    pod["containers"][0]["args"].remove("--dry-run")
    assert observing == plain


def test_the_rendered_cronjob_plans_and_touches_nothing(world: World, tmp_path: Path) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=3)
    schedule = world.schedule(down=True)
    args = _run_args(_render(find_kubectl(world.cluster), tmp_path / "overlay", observe=True))
    # The pod reads its schedule from a ConfigMap in its own namespace; here, from the same
    # schedule as a file. Every other argument is the CronJob's own.
    args = [f"--schedule={schedule}" if a.startswith("--configmap=") else a for a in args]

    result = world.cli(*args)

    assert result.code == 0, result.stderr
    assert result.doc["dry_run"] == "client"
    action = result.action(ns, "api")
    assert (action["action"], action["outcome"]) == ("shutdown", "dry-run")
    assert world.replicas(ns, "api") == 3
    assert world.ours(ns, "api") == {}
