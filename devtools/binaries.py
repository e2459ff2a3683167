"""Locate (or build) the Kubernetes binaries for the local cluster and the end-to-end node.

Order: ``$KUBEBUILDER_ASSETS`` (envtest layout), then the cache directory that
``tools/k8s/build.sh`` builds into. Building is opt-in because a cold build
takes tens of minutes. The node binaries (controller-manager, scheduler, kubelet,
kube-proxy) come from the same build; an envtest directory usually lacks them, so
:func:`find_node_binaries` passes over one that does.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from devtools._proc import run_build_script

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = REPO_ROOT / "tools" / "k8s" / "build.sh"


ENVTEST_BINARIES = ("kube-apiserver", "etcd")
NODE_BINARIES = (
    *ENVTEST_BINARIES,
    "kubectl",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
)


class BinariesNotFoundError(RuntimeError):
    """Neither KUBEBUILDER_ASSETS nor the build cache holds the binaries."""


@dataclass(frozen=True)
class K8sBinaries:
    directory: Path

    @property
    def kube_apiserver(self) -> Path:
        return self.directory / "kube-apiserver"

    @property
    def etcd(self) -> Path:
        return self.directory / "etcd"

    @property
    def kubectl(self) -> Path | None:
        """The kubectl built alongside, if any (KUBEBUILDER_ASSETS may not hold one)."""
        path = self.directory / "kubectl"
        return path if os.access(path, os.X_OK) else None

    @property
    def kubectl_required(self) -> Path:
        return self._required("kubectl")

    @property
    def kube_controller_manager(self) -> Path:
        return self._required("kube-controller-manager")

    @property
    def kube_scheduler(self) -> Path:
        return self._required("kube-scheduler")

    @property
    def kubelet(self) -> Path:
        return self._required("kubelet")

    @property
    def kube_proxy(self) -> Path:
        return self._required("kube-proxy")

    def _required(self, name: str) -> Path:
        path = self.directory / name
        if not os.access(path, os.X_OK):
            raise BinariesNotFoundError(f"{name} not found in {self.directory}")
        return path


def _complete(directory: Path, names: tuple[str, ...] = ENVTEST_BINARIES) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in names)


def find_binaries(*, build: bool = False) -> K8sBinaries:
    """Return the binary directory, building it first when ``build`` is true."""
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets and _complete(Path(assets)):
        return K8sBinaries(Path(assets))
    if not BUILD_SCRIPT.exists():
        raise BinariesNotFoundError(f"{BUILD_SCRIPT} is missing and KUBEBUILDER_ASSETS is not set")
    code, directory = run_build_script(BUILD_SCRIPT, "--print-dir", stream_log=False)
    if code == 0 and directory and _complete(Path(directory)):
        return K8sBinaries(Path(directory))
    if not build:
        raise BinariesNotFoundError(
            "kube-apiserver/etcd not found: set KUBEBUILDER_ASSETS or run tools/k8s/build.sh "
            f"(expected in {directory or 'the build cache'})"
        )
    print(
        "Building kube-apiserver, kubectl and etcd from Go modules; the first build takes "
        "a while (tens of minutes on a small machine)...",
        file=sys.stderr,
        flush=True,
    )
    code, directory = run_build_script(BUILD_SCRIPT, stream_log=True)
    if code != 0 or not _complete(Path(directory)):
        raise BinariesNotFoundError(f"tools/k8s/build.sh failed with exit code {code}")
    return K8sBinaries(Path(directory))


def find_node_binaries(*, build: bool = False) -> K8sBinaries:
    """The directory holding every binary of the end-to-end node (built first when ``build``)."""
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets and _complete(Path(assets), NODE_BINARIES):
        return K8sBinaries(Path(assets))
    code, directory = run_build_script(BUILD_SCRIPT, "--node", "--print-dir", stream_log=False)
    if code == 0 and directory and _complete(Path(directory), NODE_BINARIES):
        return K8sBinaries(Path(directory))
    if not build:
        raise BinariesNotFoundError(
            f"node binaries not found: run tools/k8s/build.sh --node (expected in {directory})"
        )
    code, directory = run_build_script(BUILD_SCRIPT, "--node", stream_log=True)
    if code != 0 or not _complete(Path(directory), NODE_BINARIES):
        raise BinariesNotFoundError(f"tools/k8s/build.sh --node failed with exit code {code}")
    return K8sBinaries(Path(directory))
