"""The four processes the harness adds to the local API server, each on loopback ports.

- kube-controller-manager, with only the controllers the story needs: Deployments, ReplicaSets,
  StatefulSets, DaemonSets, Jobs and CronJobs make pods; the garbage collectors clean up after
  them; the node lifecycle controller untaints Ready nodes. No service-account controllers (the
  local API server runs without that admission plugin).
- kube-scheduler: binds pending pods to the nodes Karpenter launches.
- kwok: makes the simulated nodes Ready (with leases) and their pods Running, and finishes the
  pods Karpenter evicts. Only nodes annotated ``kwok.x-k8s.io/node=fake`` (all of Karpenter's).
- karpenter-kwok: Karpenter with the KWOK cloud provider. It reads only ``KUBECONFIG`` (a
  ``--kubeconfig`` flag makes it panic) and binds its metrics and probe ports on every interface:
  the ports are chosen free on loopback and only probed there.

Each ``start_*`` returns the process once it answers its health endpoint.
"""

from __future__ import annotations

import functools
import os
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devtools import _proc
from devtools.karpenter.binaries import KarpenterBinaries

CONTROLLERS = (
    "deployment-controller",
    "replicaset-controller",
    "statefulset-controller",
    "daemonset-controller",
    "job-controller",
    "cronjob-controller",
    "garbage-collector-controller",
    "pod-garbage-collector-controller",
    # Lifts the node.kubernetes.io/not-ready taint the API server puts on every new node, once
    # kwok reports the node Ready: without it no pod is ever scheduled.
    "node-lifecycle-controller",
)
KWOK_NODE_SELECTOR = "kwok.x-k8s.io/node=fake"
_INSECURE = ssl.create_default_context()
_INSECURE.check_hostname = False
_INSECURE.verify_mode = ssl.CERT_NONE


def _healthy(url: str) -> bool:
    """True on HTTP 200. The self-signed serving certificates of the components are not checked:
    the probe only asks whether the process is up, on a loopback port it was just given."""
    try:
        with urllib.request.urlopen(url, timeout=2, context=_INSECURE) as resp:  # noqa: S310
            return int(resp.status) == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass(frozen=True)
class Launch:
    """One attempt at starting a process: its command line, health URL and environment."""

    argv: list[str]
    health: str
    env: dict[str, str] | None = None


def _start(
    launch: Callable[[], Launch], *, what: str, log: Path, timeout: float, attempts: int = 3
) -> subprocess.Popen[bytes]:
    """Start what ``launch`` describes and wait until healthy.

    A port picked free can be taken by another process before ours binds it (test sessions run
    side by side): then ``launch`` is called again for fresh ports.
    """
    for attempt in range(1, attempts + 1):
        spec = launch()
        proc = _proc.start(spec.argv, log, env=spec.env)
        try:
            _proc.wait_until(
                functools.partial(_healthy, spec.health),
                proc=proc,
                what=what,
                log_path=log,
                timeout=timeout,
            )
        except _proc.ServerStartError as exc:
            _proc.stop(proc)
            if "address already in use" not in str(exc) or attempt == attempts:
                raise
            continue
        except BaseException:
            _proc.stop(proc)
            raise
        return proc
    raise AssertionError("unreachable")


def _component_args(kubeconfig: Path, workdir: Path, port: int) -> list[str]:
    return [
        f"--kubeconfig={kubeconfig}",
        # No delegated authentication or authorization: nothing but the health probe calls these
        # servers, and /healthz is always allowed.
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
        f"--secure-port={port}",
        f"--cert-dir={workdir}",
    ]


def start_controller_manager(
    binaries: KarpenterBinaries, kubeconfig: Path, workdir: Path, *, timeout: float
) -> subprocess.Popen[bytes]:
    (workdir / "kcm").mkdir(exist_ok=True)

    def launch() -> Launch:
        port = _proc.free_port()
        argv = [
            str(binaries.kube_controller_manager),
            *_component_args(kubeconfig, workdir / "kcm", port),
            f"--controllers={','.join(CONTROLLERS)}",
            "--use-service-account-credentials=false",
            "--concurrent-deployment-syncs=10",
            "--concurrent-replicaset-syncs=10",
        ]
        return Launch(argv, f"https://127.0.0.1:{port}/healthz")

    return _start(
        launch,
        what="kube-controller-manager",
        log=workdir / "kube-controller-manager.log",
        timeout=timeout,
    )


def start_scheduler(
    binaries: KarpenterBinaries, kubeconfig: Path, workdir: Path, *, timeout: float
) -> subprocess.Popen[bytes]:
    (workdir / "scheduler").mkdir(exist_ok=True)

    def launch() -> Launch:
        port = _proc.free_port()
        args = _component_args(kubeconfig, workdir / "scheduler", port)
        return Launch([str(binaries.kube_scheduler), *args], f"https://127.0.0.1:{port}/healthz")

    return _start(
        launch, what="kube-scheduler", log=workdir / "kube-scheduler.log", timeout=timeout
    )


KWOK_CONFIGURATION = f"""\
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  manageNodesWithAnnotationSelector: {KWOK_NODE_SELECTOR}
  # Read from a file, these stay at zero (and kwok refuses to start): spell them out.
  podPlayStageParallelism: 4
  nodePlayStageParallelism: 4
  nodeLeaseParallelism: 4
  podsOnNodeSyncParallelism: 1
  nodeLeaseDurationSeconds: 40
  enableDebuggingHandlers: false
  enableProfilingHandler: false
"""


def start_kwok(
    binaries: KarpenterBinaries, kubeconfig: Path, workdir: Path, *, timeout: float
) -> subprocess.Popen[bytes]:
    config = workdir / "kwok.yaml"
    config.write_text(KWOK_CONFIGURATION)

    def launch() -> Launch:
        port = _proc.free_port()
        argv = [
            str(binaries.kwok),
            f"--kubeconfig={kubeconfig}",
            f"--config={config}",
            *(f"--config={stage}" for stage in binaries.stages),
            f"--manage-nodes-with-annotation-selector={KWOK_NODE_SELECTOR}",
            f"--server-address=127.0.0.1:{port}",
            "--node-ip=127.0.0.1",
        ]
        return Launch(argv, f"http://127.0.0.1:{port}/healthz")

    return _start(launch, what="kwok", log=workdir / "kwok.log", timeout=timeout)


def start_karpenter(
    binaries: KarpenterBinaries,
    kubeconfig: Path,
    workdir: Path,
    *,
    instance_types: Path,
    timeout: float,
) -> subprocess.Popen[bytes]:
    def launch() -> Launch:
        metrics_port, probe_port = _proc.free_port(), _proc.free_port()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(workdir),
            "KUBECONFIG": str(kubeconfig),
            "DISABLE_LEADER_ELECTION": "true",
            "METRICS_PORT": str(metrics_port),
            "HEALTH_PROBE_PORT": str(probe_port),
            "INSTANCE_TYPES_FILE_PATH": str(instance_types),
            "SYSTEM_NAMESPACE": "kube-system",
            "LOG_LEVEL": "info",
            # Provision as soon as pods stop arriving: a short batch keeps the demo brisk.
            "BATCH_IDLE_DURATION": "1s",
            "BATCH_MAX_DURATION": "3s",
        }
        return Launch([str(binaries.karpenter)], f"http://127.0.0.1:{probe_port}/readyz", env)

    return _start(launch, what="karpenter-kwok", log=workdir / "karpenter.log", timeout=timeout)
