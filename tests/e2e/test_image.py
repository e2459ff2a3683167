"""The image built from the Dockerfile runs the way the CronJob runs it, and carries nothing of
the machine that built it.

Locked down as in the pod: read-only root filesystem, uid 65532, a tmpfs /tmp, every capability
dropped, no network. The build mounted this machine's pip configuration; it must not be in the
image.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from devtools import images
from devtools.node.images import NSSHUTDOWN_IMAGE

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _version() -> str:
    with (images.REPO_ROOT / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def test_runs_locked_down(node_images: list[str]) -> None:
    assert NSSHUTDOWN_IMAGE in node_images
    assert images.locked_down_run(NSSHUTDOWN_IMAGE, "--version").strip().endswith(_version())
    out = images.locked_down_run(
        NSSHUTDOWN_IMAGE,
        "validate",
        "--schedule=/examples/nights-and-weekends.yaml",
        volumes=(f"{EXAMPLES}:/examples:ro",),
    )
    assert "valid" in out


def test_image_config_is_the_cronjobs(node_images: list[str]) -> None:
    (config,) = json.loads(images.podman("image", "inspect", NSSHUTDOWN_IMAGE, capture=True))
    assert config["Config"]["User"] == "65532:65532"
    assert config["Config"]["Entrypoint"] == ["nsshutdown"]
    assert config["Config"]["Labels"]["org.opencontainers.image.version"] == _version()


def test_build_configuration_is_not_baked_in(node_images: list[str]) -> None:
    # The build mounted /etc/pip.conf and the PIP_* settings; a layer must hold neither.
    probe = (
        "import os; "
        "print(os.path.exists('/etc/pip.conf'), [k for k in os.environ if k.startswith('PIP_')])"
    )
    out = images.locked_down_run(NSSHUTDOWN_IMAGE, "-c", probe, entrypoint="python")
    assert out.strip() == "False []"
