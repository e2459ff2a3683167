"""The image the manifests pull is the image the release workflow publishes, and the docs agree.

One name and one tag scheme everywhere: ``ghcr.io/nsshutdown/nsshutdown:X.Y.Z``, where X.Y.Z is the
version in pyproject.toml and ``vX.Y.Z`` the git tag that releases it. The base CronJob names the
image without a tag, every kustomization pins X.Y.Z, Argo CD deploys the manifests of ``vX.Y.Z``,
the release workflow pushes that name with the tag that ``tools/ci/image-tag.sh`` derives from the
git tag, and every image reference in the docs uses the same name and version. The Helm chart's
version and appVersion are X.Y.Z too (its image defaults to the appVersion), and the release
workflow publishes it next to the image as oci://ghcr.io/nsshutdown/charts/nsshutdown X.Y.Z.
Bumping the version in one place and not the others fails here, before a user installs an image
or a chart that does not exist.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "ghcr.io/nsshutdown/nsshutdown"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
KUSTOMIZATIONS = sorted(
    [
        ROOT / "manifests" / "base" / "kustomization.yaml",
        *(ROOT / "manifests" / "overlays").glob("*/kustomization.yaml"),
        *(ROOT / "manifests" / "components").glob("*/kustomization.yaml"),
    ]
)
ARGOCD = [ROOT / "manifests" / "argocd" / n for n in ("application.yaml", "applicationset.yaml")]
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
CHART = ROOT / "charts" / "nsshutdown"
CHART_REPOSITORY = "oci://ghcr.io/nsshutdown/charts"
DOCS = sorted(
    [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "manifests").rglob("*.md")]
)
IMAGE_REF = re.compile(re.escape(IMAGE) + r":(?P<tag>[^\s`'\"@]+)")
NEW_TAG = re.compile(r"^\s*newTag:\s*(?P<tag>\S+)", re.MULTILINE)


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text("utf-8"))


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _containers(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    pod = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    yield from pod.get("initContainers", [])
    yield from pod["containers"]


def test_the_version_is_a_release_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+[0-9A-Za-z.]*", VERSION), VERSION


def test_the_cronjob_names_the_published_image_and_leaves_the_tag_to_kustomize() -> None:
    cronjob = _load(ROOT / "manifests" / "base" / "cronjob.yaml")
    assert [c["image"] for c in _containers(cronjob)] == [IMAGE]


@pytest.mark.parametrize("path", KUSTOMIZATIONS, ids=_rel)
def test_every_kustomization_pins_the_project_version(path: Path) -> None:
    for entry in _load(path).get("images", []):
        assert entry["name"] == IMAGE, f"{_rel(path)}: images: names {entry['name']}"
        assert entry.get("newName", IMAGE) == IMAGE, f"{_rel(path)}: newName {entry['newName']}"
        assert entry.get("newTag") == VERSION, (
            f"{_rel(path)}: newTag {entry.get('newTag')}, but pyproject.toml says {VERSION}"
        )


def test_the_base_pins_the_tag_itself() -> None:
    """So an overlay that sets no images: still pulls a published tag (and the test above is
    never vacuous)."""
    images = _load(ROOT / "manifests" / "base" / "kustomization.yaml")["images"]
    assert images == [{"name": IMAGE, "newTag": VERSION}]


@pytest.mark.parametrize("path", ARGOCD, ids=_rel)
def test_argocd_deploys_the_manifests_of_this_release(path: Path) -> None:
    doc = _load(path)
    spec = doc["spec"]["template"]["spec"] if doc["kind"] == "ApplicationSet" else doc["spec"]
    assert spec["source"]["targetRevision"] == f"v{VERSION}"
    assert spec["source"]["path"].startswith("manifests/overlays/")


def test_the_release_workflow_pushes_that_name_on_version_tags() -> None:
    workflow = _load(RELEASE)
    # PyYAML reads the bare key `on:` as the boolean True.
    assert workflow[True]["push"]["tags"] == ["v*"]
    assert workflow["env"]["GHCR_IMAGE"] == IMAGE
    job = workflow["jobs"]["image"]
    assert job["permissions"]["packages"] == "write"
    pushes = [s for s in job["steps"] if "tools/ci/push-image.sh" in s.get("run", "")]
    ghcr = [s for s in pushes if '"$GHCR_IMAGE"' in s["run"]]
    assert ghcr, "no step pushes $GHCR_IMAGE with tools/ci/push-image.sh"
    assert "if" not in ghcr[0], "the GHCR push must not be optional"


def test_the_chart_is_this_version_and_pulls_this_image() -> None:
    chart = _load(CHART / "Chart.yaml")
    assert (chart["version"], chart["appVersion"]) == (VERSION, VERSION), (
        f"charts/nsshutdown/Chart.yaml: version {chart['version']}, appVersion "
        f"{chart['appVersion']}, but pyproject.toml says {VERSION}"
    )
    image = _load(CHART / "values.yaml")["image"]
    # An empty tag means the appVersion (templates/_helpers.tpl), checked rendered in
    # tests/static/test_helm_chart.py.
    assert (image["repository"], image["tag"], image["digest"]) == (IMAGE, "", "")


def test_the_release_workflow_pushes_the_chart_next_to_the_image() -> None:
    workflow = _load(RELEASE)
    assert workflow["env"]["CHART_REPOSITORY"] == CHART_REPOSITORY
    job = workflow["jobs"]["chart"]
    assert job["needs"] == "image"
    assert job["if"] == "github.ref_type == 'tag'"
    assert job["permissions"]["packages"] == "write"
    script = "\n".join(step.get("run", "") for step in job["steps"])
    assert 'version="$(tools/ci/image-tag.sh)"' in script
    assert '--version "$version" --app-version "$version"' in script
    assert '"$helm" push "build/chart/nsshutdown-$version.tgz" "$CHART_REPOSITORY"' in script


def _image_tag(ref_name: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "GITHUB_REF_TYPE": "tag",
        "GITHUB_REF_NAME": ref_name,
        "GITHUB_SHA": "0" * 40,
    }
    return subprocess.run(
        ["bash", str(ROOT / "tools" / "ci" / "image-tag.sh")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


def test_the_release_tag_of_this_version_is_pushed_as_the_manifests_tag() -> None:
    result = _image_tag(f"v{VERSION}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == VERSION


def test_a_git_tag_that_is_not_this_version_publishes_nothing() -> None:
    result = _image_tag("v999.0.0")
    assert result.returncode != 0
    assert f"v{VERSION}" in result.stderr


def _is_a_version(tag: str) -> bool:
    """``0.1.0`` is; placeholders such as ``X.Y.Z`` or ``<version>`` are not."""
    return any(c.isdigit() for c in tag)


def test_the_docs_name_the_published_image_and_version() -> None:
    wrong = [
        f"{_rel(path)}: {IMAGE}:{match['tag']}"
        for path in DOCS
        for match in IMAGE_REF.finditer(path.read_text("utf-8"))
        if match["tag"] != VERSION and _is_a_version(match["tag"])
    ]
    wrong += [
        f"{_rel(path)}: newTag: {match['tag']}"
        for path in DOCS
        for match in NEW_TAG.finditer(path.read_text("utf-8"))
        if match["tag"] != VERSION
    ]
    assert not wrong, f"docs that disagree with pyproject's version {VERSION}: {wrong}"


@pytest.mark.parametrize("name", ["getting-started.md", "deploy/container-image.md"])
def test_the_install_docs_say_which_image_to_pull(name: str) -> None:
    text = (ROOT / "docs" / name).read_text("utf-8")
    assert f"{IMAGE}:{VERSION}" in text
