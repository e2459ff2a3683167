"""One real Kubernetes node on this machine, for the end-to-end tests.

etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd (runc, bridge CNI),
the kubelet and kube-proxy, all inside a :class:`~devtools.node.sandbox.Sandbox`, plus cluster DNS
(CoreDNS as a Deployment in kube-system, as kubeadm installs it). Images come from a local
archive imported into containerd: the node never pulls.

The API server listens on the node's address (not loopback) with the default endpoint
reconciler, ServiceAccount admission and token signing, so a pod reaches ``kubernetes.default``
through kube-proxy exactly as on a real cluster. Everything is driven with ``kubectl`` run inside
the node's namespaces (:meth:`LocalNode.kubectl`): the host has no route to the node.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from devtools import _proc
from devtools._proc import Service
from devtools.binaries import K8sBinaries
from devtools.kubeconfig import client_cert_user, write_kubeconfig
from devtools.node import addons, commands
from devtools.node.config import (
    NodeLayout,
    cni_config,
    containerd_config,
    kube_proxy_config,
    kubelet_config,
)
from devtools.node.pki import NodePKI, write_node_pki
from devtools.node.sandbox import Sandbox

# Exit 0 when the URL answers 200 (run inside the node, where the host's tools cannot reach).
_HTTP_OK = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)"

COMPONENT_KUBECONFIGS = ("admin", "kube-controller-manager", "kube-scheduler", "kube-proxy")


class KubectlError(RuntimeError):
    """kubectl failed; the message carries its stderr."""


class NodeStartError(RuntimeError):
    """A component of the node did not come up; the message carries its log tail."""


class LocalNode(Service):
    """Start with :meth:`start` (or as a context manager); :meth:`stop` always cleans up."""

    def __init__(
        self, *, binaries: K8sBinaries, images_archive: Path, startup_timeout: float = 180.0
    ) -> None:
        self._binaries = binaries
        self._images_archive = images_archive
        self._timeout = startup_timeout
        self.workdir = Path(tempfile.mkdtemp(prefix="nsshutdown-e2e-"))
        self.layout = NodeLayout(workdir=self.workdir)
        self.sandbox = Sandbox(
            node_cidr=f"{self.layout.node_ip}/{self.layout.node_prefix}",
            cgroup_root=self.layout.cgroup_root,
            workdir=self.workdir,
        )
        self._pki: NodePKI | None = None
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self.timings: dict[str, float] = {}

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        try:
            self._bring_up()
        except BaseException:
            self.stop(keep_logs=True)
            raise

    def _bring_up(self) -> None:
        started = time.monotonic()
        layout = self.layout
        self._pki = write_node_pki(
            self.workdir / "pki",
            node_name=layout.node_name,
            node_ip=layout.node_ip,
            service_ip=layout.service_ip,
            cluster_domain=layout.cluster_domain,
        )
        self._write_configs()
        self.sandbox.start()
        self._timed("etcd", self._start_etcd)
        self._timed("kube-apiserver", self._start_apiserver)
        self._start_controllers()
        self._timed("containerd", self._start_containerd)
        self._timed("kubelet (node Ready)", self._start_kubelet)
        self._launch(
            "kube-proxy", commands.kube_proxy(self._binaries, self._path("kube-proxy.yaml"))
        )
        self._timed("cluster DNS", lambda: addons.install_coredns(self))
        self.timings["node start (total)"] = time.monotonic() - started

    def stop(self, *, keep_logs: bool = False) -> None:
        """Kill every process of the node and remove its files (logs kept on failure)."""
        # Killing the namespace's init ends every process inside at once; the nsenter processes
        # that started them then exit by themselves and are reaped here.
        self.sandbox.stop()
        for proc in self._procs.values():
            _proc.stop(proc, timeout=5.0)
        self._procs.clear()
        if keep_logs:
            for log in self.workdir.glob("*.log"):
                print(f"--- {log.name} (tail)\n{_proc.log_tail(log, 30)}")
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _timed(self, what: str, step: Any) -> None:
        began = time.monotonic()
        step()
        self.timings[what] = time.monotonic() - began

    # -- helpers ---------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        return self.workdir / name

    @property
    def pki(self) -> NodePKI:
        if self._pki is None:
            raise RuntimeError("the node is not started")
        return self._pki

    def _launch(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        proc = self.sandbox.start_process(argv, self._path(f"{name}.log"))
        self._procs[name] = proc
        return proc

    def _wait(self, name: str, ready: Any, timeout: float | None = None) -> None:
        try:
            _proc.wait_until(
                ready,
                proc=self._procs[name],
                what=name,
                log_path=self._path(f"{name}.log"),
                timeout=timeout or self._timeout,
            )
        except _proc.ServerStartError as exc:
            raise NodeStartError(str(exc)) from exc

    def kubectl(
        self, *args: str, check: bool = True, stdin: str | None = None, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl as the cluster admin inside the node's namespaces."""
        argv = self.sandbox.command(
            [
                str(self._binaries.kubectl_required),
                f"--kubeconfig={self.layout.kubeconfig('admin')}",
                *args,
            ]
        )
        result = subprocess.run(
            argv, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            raise KubectlError(
                f"kubectl {' '.join(args)} exited with {result.returncode}:\n{result.stderr}"
            )
        return result

    def kubectl_json(self, *args: str) -> Any:
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def _api_ready(self, path: str = "/readyz") -> bool:
        return self.kubectl("get", "--raw", path, check=False, timeout=10).returncode == 0

    # -- configuration -----------------------------------------------------------------

    def _write_configs(self) -> None:
        layout, pki = self.layout, self.pki
        for component in (*COMPONENT_KUBECONFIGS, "kubelet"):
            credential = pki.clients[component]
            write_kubeconfig(
                layout.kubeconfig(component),
                server=layout.server_url,
                ca_pem=pki.ca_cert.read_bytes(),
                user=client_cert_user(credential.cert.read_bytes(), credential.key.read_bytes()),
                name=component,
            )
        (self.workdir / "containerd").mkdir()
        self._path("containerd.toml").write_text(containerd_config(layout))
        layout.cni_conf_dir.mkdir()
        (layout.cni_conf_dir / "10-e2e.conflist").write_text(cni_config(layout))
        self._path("kubelet.yaml").write_text(kubelet_config(layout, ca_file=pki.ca_cert))
        self._path("kube-proxy.yaml").write_text(kube_proxy_config(layout))
        self._path("resolv.conf").write_text("# cluster DNS only: the node has no upstream\n")

    # -- components --------------------------------------------------------------------

    def _start_etcd(self) -> None:
        self._launch("etcd", commands.etcd(self._binaries, self.layout))
        health = [sys.executable, "-c", _HTTP_OK, f"{commands.ETCD_URL}/health"]
        self._wait("etcd", lambda: self.sandbox.run(health, check=False).returncode == 0)

    def _start_apiserver(self) -> None:
        self._launch(
            "kube-apiserver", commands.kube_apiserver(self._binaries, self.layout, self.pki)
        )
        self._wait("kube-apiserver", self._api_ready)

    def _start_controllers(self) -> None:
        self._launch(
            "kube-controller-manager",
            commands.kube_controller_manager(self._binaries, self.layout, self.pki),
        )
        self._launch("kube-scheduler", commands.kube_scheduler(self._binaries, self.layout))

    def _start_containerd(self) -> None:
        self._launch("containerd", commands.containerd(self._path("containerd.toml")))
        ready = commands.ctr(self.layout, "version")
        self._wait("containerd", lambda: self.sandbox.run(ready, check=False).returncode == 0)
        archive = str(self._images_archive)
        imported = self.sandbox.run(
            commands.ctr(self.layout, "images", "import", archive), check=False
        )
        if imported.returncode != 0:
            raise NodeStartError(f"ctr images import failed:\n{imported.stderr}")

    def _start_kubelet(self) -> None:
        argv = commands.kubelet(self._binaries, self.layout, self._path("kubelet.yaml"))
        self._launch("kubelet", argv)
        self._wait("kubelet", self._node_ready)

    def _node_ready(self) -> bool:
        result = self.kubectl(
            "get",
            "node",
            self.layout.node_name,
            "-o",
            "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
            check=False,
            timeout=10,
        )
        return result.stdout.strip() == "True"
