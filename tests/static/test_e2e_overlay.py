"""The end-to-end overlays change only what they say they change.

tests/e2e installs nsshutdown "as a user installs it": a shipped overlay, with only the image
(reference and pull policy) and the CronJob's period changed, and the monitoring manifests with
only the Pushgateway image and the prometheus-operator kinds changed. These checks keep that
claim true as the shipped manifests evolve, without a node: a renamed image in the base, for
instance, fails here instead of as an image pull on the node.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
E2E = ROOT / "tests" / "e2e" / "manifests"


def _kustomization(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load((path / "kustomization.yaml").read_text(encoding="utf-8")))


def _json_patch_paths(kustomization: dict[str, Any]) -> set[str]:
    paths = set()
    for patch in kustomization.get("patches") or []:
        for op in yaml.safe_load(patch["patch"]):
            if isinstance(op, dict) and "op" in op:
                paths.add(op["path"])
    return paths


def _base_image() -> str:
    base = _kustomization(ROOT / "manifests" / "base")
    (image,) = base["images"]
    return str(image["name"])


def test_nsshutdown_overlay_is_a_shipped_overlay_plus_image_and_period() -> None:
    kustomization = _kustomization(E2E / "nsshutdown")
    (resource,) = kustomization["resources"]
    shipped = (E2E / "nsshutdown" / resource).resolve()
    assert shipped.parent == ROOT / "manifests" / "overlays"
    assert set(kustomization) == {"apiVersion", "kind", "resources", "images", "patches"}
    (image,) = kustomization["images"]
    assert image["name"] == _base_image()
    assert _json_patch_paths(kustomization) == {
        "/spec/schedule",
        "/spec/jobTemplate/spec/template/spec/containers/0/imagePullPolicy",
    }


def test_monitoring_overlay_changes_only_the_pushgateway_image_and_operator_kinds() -> None:
    kustomization = _kustomization(E2E / "monitoring")
    assert kustomization["resources"] == ["../../../../manifests/monitoring"]
    (image,) = kustomization["images"]
    pushgateway = yaml.safe_load_all(
        (ROOT / "manifests" / "monitoring" / "pushgateway.yaml").read_text(encoding="utf-8")
    )
    (deployment,) = [d for d in pushgateway if d and d["kind"] == "Deployment"]
    shipped_image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert shipped_image.split(":")[0] == image["name"]
    assert _json_patch_paths(kustomization) == {"/spec/template/spec/containers/0/imagePullPolicy"}
    deleted = {
        yaml.safe_load(p["patch"])["kind"]
        for p in kustomization["patches"]
        if "$patch: delete" in p["patch"]
    }
    assert deleted == {"ServiceMonitor", "PrometheusRule"}
