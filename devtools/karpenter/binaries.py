"""Locate (or build) the binaries the Karpenter harness runs on top of the local API server.

Two directories: the Kubernetes one (``tools/k8s/build.sh``: kube-apiserver, etcd, and the
kube-controller-manager and kube-scheduler that turn Deployments into scheduled pods) and the
Karpenter one (``tools/karpenter/build.sh``: karpenter-kwok, kwok, the CRDs and the KWOK stages).
Building is opt-in, as for the API server: a cold build takes about ten minutes.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from devtools._proc import run_build_script
from devtools.binaries import REPO_ROOT, BinariesNotFoundError, K8sBinaries, find_node_binaries

BUILD_SCRIPT = REPO_ROOT / "tools" / "karpenter" / "build.sh"
KARPENTER = ("karpenter-kwok", "kwok")


class KarpenterNotFoundError(BinariesNotFoundError):
    """A binary the Karpenter harness needs is neither built nor buildable here."""


@dataclass(frozen=True)
class KarpenterBinaries:
    k8s: K8sBinaries
    directory: Path

    @property
    def kube_controller_manager(self) -> Path:
        return self.k8s.kube_controller_manager

    @property
    def kube_scheduler(self) -> Path:
        return self.k8s.kube_scheduler

    @property
    def karpenter(self) -> Path:
        return self.directory / "karpenter-kwok"

    @property
    def kwok(self) -> Path:
        return self.directory / "kwok"

    @property
    def crds(self) -> list[Path]:
        return sorted((self.directory / "crds").glob("*.yaml"))

    @property
    def stages(self) -> list[Path]:
        return sorted((self.directory / "stages").glob("*.yaml"))


def _executables(directory: Path, names: tuple[str, ...]) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in names)


def _karpenter_dir(*, build: bool) -> Path:
    code, directory = run_build_script(BUILD_SCRIPT, "--print-dir", stream_log=False)
    if code == 0 and directory and _executables(Path(directory), KARPENTER):
        return Path(directory)
    if not build:
        raise KarpenterNotFoundError(
            "karpenter-kwok/kwok not found: run tools/karpenter/build.sh (or `make karpenter-bin`)"
            f" (expected in {directory or 'the build cache'})"
        )
    print(
        "Building Karpenter's KWOK provider and kwok from Go modules; the first build takes "
        "about ten minutes on a small machine...",
        file=sys.stderr,
        flush=True,
    )
    code, directory = run_build_script(BUILD_SCRIPT, stream_log=True)
    if code != 0 or not _executables(Path(directory), KARPENTER):
        raise KarpenterNotFoundError(f"tools/karpenter/build.sh failed with exit code {code}")
    return Path(directory)


def find_karpenter_binaries(*, build: bool = False) -> KarpenterBinaries:
    """Both directories, building them first when ``build`` is true.

    The controller-manager and scheduler come with the API server build; an envtest
    ``$KUBEBUILDER_ASSETS`` without them is passed over for the build cache.
    """
    k8s = find_node_binaries(build=build)
    return KarpenterBinaries(k8s=k8s, directory=_karpenter_dir(build=build))
