"""A local cluster whose nodes come from Karpenter: the API server plus four processes.

:class:`KarpenterCluster` starts the devtools :class:`~devtools.cluster.LocalCluster` (etcd and
kube-apiserver), then kube-controller-manager and kube-scheduler, registers Karpenter's CRDs,
starts kwok and Karpenter's KWOK provider, and applies a KWOKNodeClass and a NodePool. Pods that
Deployments create stay Pending until Karpenter launches a priced, simulated node for them; kwok
makes that node Ready and the pods Running. Nothing needs root; every port is on loopback (Karpenter
binds its two on every interface, see :mod:`devtools.karpenter.processes`), and :meth:`stop`
stops everything, in reverse order, whatever happened.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from kubernetes import client

from devtools import _proc
from devtools._proc import Service
from devtools.cluster import LocalCluster
from devtools.karpenter import nodepool, processes
from devtools.karpenter.binaries import KarpenterBinaries, find_karpenter_binaries
from devtools.karpenter.catalog import write_instance_types


class KarpenterCluster(Service):
    """Use as a context manager, or call :meth:`start` / :meth:`stop` yourself.

    ``startup_seconds`` records how long each step of :meth:`start` took (the docs quote them).
    """

    def __init__(
        self,
        *,
        disruption: nodepool.Disruption | None = None,
        instance_types: Sequence[str] = (),
        build: bool = False,
        startup_timeout: float = 120.0,
    ) -> None:
        self.disruption = disruption or nodepool.Disruption()
        self.instance_types = tuple(instance_types)
        self._build = build
        self._timeout = startup_timeout
        self._binaries: KarpenterBinaries | None = None
        self._api: LocalCluster | None = None
        self._processes: list[subprocess.Popen[bytes]] = []
        self.startup_seconds: dict[str, float] = {}

    @property
    def local(self) -> LocalCluster:
        if self._api is None:
            raise RuntimeError("KarpenterCluster is not started")
        return self._api

    @property
    def kubeconfig_path(self) -> Path:
        return self.local.kubeconfig_path

    @property
    def workdir(self) -> Path:
        return self.local.workdir

    @property
    def pids(self) -> dict[str, int]:
        """Every process this cluster runs, by name (for measuring their memory)."""
        local = self.local
        named = {"etcd": local.etcd_process, "kube-apiserver": local.apiserver_process}
        extra = ("kube-controller-manager", "kube-scheduler", "kwok", "karpenter-kwok")
        found = {name: proc.pid for name, proc in named.items() if proc is not None}
        return found | {name: proc.pid for name, proc in zip(extra, self._processes, strict=False)}

    def memory_mib(self) -> dict[str, float]:
        """Resident memory of each process now, in MiB (Linux /proc; empty elsewhere)."""
        found = {}
        for name, pid in self.pids.items():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    found[name] = round(int(line.split()[1]) / 1024, 1)
        return found

    def api_client(self) -> client.ApiClient:
        return self.local.api_client()

    def start(self) -> None:
        """Find the binaries first (a missing one raises before anything starts), then start."""
        self._binaries = find_karpenter_binaries(build=self._build)
        self._api = LocalCluster(binaries=self._binaries.k8s, startup_timeout=self._timeout)
        try:
            self._timed("api-server", self._api.start)
            self._timed("control-plane", self._start_control_plane)
            self._timed("crds", lambda: self.local.register_crds(self._binaries_.crds))
            self._timed("kwok", self._start_kwok)
            self._timed("karpenter", self._start_karpenter)
            self._timed("nodepool", self._apply_nodepool)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop Karpenter first (so it launches nothing more), then the rest, then the API."""
        try:
            while self._processes:
                _proc.stop(self._processes.pop())
        finally:
            if self._api is not None:
                self._api.stop()
                self._api = None

    @property
    def _binaries_(self) -> KarpenterBinaries:
        if self._binaries is None:
            raise RuntimeError("KarpenterCluster is not started")
        return self._binaries

    def _timed(self, step: str, action: Callable[[], object]) -> None:
        start = time.monotonic()
        action()
        self.startup_seconds[step] = round(time.monotonic() - start, 2)

    def _start_control_plane(self) -> None:
        kubeconfig, workdir = self.kubeconfig_path, self.workdir
        for start in (processes.start_controller_manager, processes.start_scheduler):
            self._processes.append(
                start(self._binaries_, kubeconfig, workdir, timeout=self._timeout)
            )

    def _start_kwok(self) -> None:
        self._processes.append(
            processes.start_kwok(
                self._binaries_, self.kubeconfig_path, self.workdir, timeout=self._timeout
            )
        )

    def _start_karpenter(self) -> None:
        catalog = write_instance_types(self.workdir / "instance-types.json")
        self._processes.append(
            processes.start_karpenter(
                self._binaries_,
                self.kubeconfig_path,
                self.workdir,
                instance_types=catalog,
                timeout=self._timeout,
            )
        )

    def _apply_nodepool(self) -> None:
        with self.api_client() as api:
            custom = client.CustomObjectsApi(api)
            custom.create_cluster_custom_object(
                nodepool.NODECLASS_GROUP,
                nodepool.NODECLASS_VERSION,
                "kwoknodeclasses",
                nodepool.node_class(),
            )
            custom.create_cluster_custom_object(
                nodepool.GROUP,
                nodepool.VERSION,
                "nodepools",
                nodepool.node_pool(self.disruption, instance_types=self.instance_types),
            )

    def set_disruption(self, disruption: nodepool.Disruption) -> None:
        """Change the NodePool's disruption settings on the running cluster."""
        with self.api_client() as api:
            client.CustomObjectsApi(api).patch_cluster_custom_object(
                nodepool.GROUP,
                nodepool.VERSION,
                "nodepools",
                nodepool.NAME,
                {"spec": {"disruption": disruption.to_spec()}},
            )
        self.disruption = disruption
