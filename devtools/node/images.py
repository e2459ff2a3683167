"""The images the end-to-end node runs, built here and handed to containerd as one archive.

- nsshutdown: the real Dockerfile (:mod:`devtools.images`).
- pause: the pod sandbox, a static Go binary on an empty filesystem; the test workloads run it
  too, under a second name, so their pods are real pods that really run.
- CoreDNS: cluster DNS, a static build with the plugins the node uses.
- Pushgateway: Debian's ``prometheus-pushgateway`` binary on the local Debian base image, for
  the in-cluster Pushgateway of ``manifests/monitoring``.

Nothing is pulled: containerd gets them with ``podman save | ctr images import``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from devtools import images

PAUSE_IMAGE = "localhost/nsshutdown-e2e/pause:1"
WORKLOAD_IMAGE = "localhost/nsshutdown-e2e/sleeper:1"
COREDNS_IMAGE = "localhost/nsshutdown-e2e/coredns:1"
PUSHGATEWAY_IMAGE = "localhost/nsshutdown-e2e/pushgateway:debian"
NSSHUTDOWN_IMAGE = "localhost/nsshutdown:e2e"

ADDONS_SCRIPT = images.REPO_ROOT / "tools" / "k8s" / "build-addons.sh"
PUSHGATEWAY_BINARY = Path("/usr/bin/prometheus-pushgateway")


def addon_binaries() -> Path:
    """Directory holding the ``coredns`` and ``pause`` binaries (built when missing)."""
    result = subprocess.run(
        ["bash", str(ADDONS_SCRIPT)], stdout=subprocess.PIPE, text=True, check=False
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise images.ImageBuildError(f"{ADDONS_SCRIPT} failed with exit code {result.returncode}")
    return Path(lines[-1])


def _build_from(context_files: dict[str, Path], containerfile: str, tag: str) -> None:
    with tempfile.TemporaryDirectory(prefix="nsshutdown-e2e-image-") as tmp:
        context = Path(tmp)
        for name, source in context_files.items():
            shutil.copy2(source, context / name)
        (context / "Containerfile").write_text(containerfile)
        images.podman("build", "--pull=never", "--network=none", f"--tag={tag}", str(context))


def build_node_images(nsshutdown_image: str = NSSHUTDOWN_IMAGE) -> list[str]:
    """Build every image of the node; return their references."""
    binaries = addon_binaries()
    static = 'FROM scratch\nCOPY {name} /{name}\nUSER 65532:65532\nENTRYPOINT ["/{name}"]\n'
    _build_from({"pause": binaries / "pause"}, static.format(name="pause"), PAUSE_IMAGE)
    images.podman("tag", PAUSE_IMAGE, WORKLOAD_IMAGE)
    _build_from({"coredns": binaries / "coredns"}, static.format(name="coredns"), COREDNS_IMAGE)
    if not PUSHGATEWAY_BINARY.exists():
        raise images.ImageBuildError(
            f"{PUSHGATEWAY_BINARY} not found: apt-get install prometheus-pushgateway"
        )
    base = images.ensure_base_image()
    _build_from(
        {"pushgateway": PUSHGATEWAY_BINARY},
        f"FROM {base}\nCOPY pushgateway /bin/pushgateway\nUSER 65534:65534\n"
        'ENTRYPOINT ["/bin/pushgateway"]\n',
        PUSHGATEWAY_IMAGE,
    )
    images.build_image(nsshutdown_image)
    return [PAUSE_IMAGE, WORKLOAD_IMAGE, COREDNS_IMAGE, PUSHGATEWAY_IMAGE, nsshutdown_image]


def save_archive(refs: list[str], path: Path) -> Path:
    """One docker-archive holding every image, for ``ctr images import``."""
    images.podman(
        "save", "--multi-image-archive", "--format=docker-archive", f"--output={path}", *refs
    )
    return path
