"""A throwaway "machine" for the end-to-end node: new PID, mount and network namespaces.

Everything the node starts (etcd, the control plane, containerd, its shims, every container,
the kubelet, kube-proxy) runs inside one PID namespace whose init is a small reaper. Killing that
init makes the kernel kill every process in the namespace and in the containers' nested ones, so
nothing survives a teardown, whatever state the node was in. The mount namespace takes every
mount the node made (overlay roots, pod volumes, network-namespace bind mounts) with it, and the
network namespace its bridge, veth pairs and iptables chains: the host keeps none of it. Only the
cgroup directories live on the shared cgroup filesystem, and :meth:`Sandbox.stop` removes them.

The init holds the read end of a pipe whose write end only this process holds: if the test
process dies without cleaning up (even SIGKILL), the init reads end-of-file and exits, which ends
the namespace all the same.

Inside, /sys is a fresh sysfs of the new network namespace (the CNI plugins and the kubelet read
interfaces there) with the host's cgroup hierarchy bound back under /sys/fs/cgroup.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from devtools import _proc

# Runs as the namespace's PID 1: reap whatever is re-parented to it, exit on end-of-file on
# stdin (the harness is gone) or on SIGTERM.
_REAPER = """
import os, select, signal, sys
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
while True:
    readable, _, _ = select.select([sys.stdin], [], [], 1.0)
    if readable and not os.read(sys.stdin.fileno(), 4096):
        os._exit(0)
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass
"""

# Shell run by the init before it becomes the reaper: private mounts, a sysfs for the new network
# namespace with the cgroup mounts carried over, loopback up, and the node's own interface.
_SETUP = """
set -eu
mount --make-rprivate /
keep=$(mktemp -d)
mount --rbind /sys/fs/cgroup "$keep"
umount -l /sys
mount -t sysfs sysfs /sys
mount --rbind "$keep" /sys/fs/cgroup
umount -l "$keep"
rmdir "$keep"
# Runtime state and logs the components write to fixed host paths stay inside: a fresh /run,
# and the node's own directories over /var/log and /var/lib/cni.
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p "$WORKDIR/var-log" "$WORKDIR/var-lib-cni" /var/lib/cni
touch "$WORKDIR/resolv.conf"
mount --bind "$WORKDIR/var-log" /var/log
mount --bind "$WORKDIR/var-lib-cni" /var/lib/cni
# No upstream DNS: the node resolves nothing outside the cluster (and sends no query out).
mount --bind "$WORKDIR/resolv.conf" /etc/resolv.conf
ip link set lo up
# A veth pair with both ends inside: the node's address lives on one end and the default route
# points at it, so components that look for a default route find one and nothing leaves.
ip link add node0 type veth peer name node0-peer
ip addr add "$NODE_CIDR" dev node0
ip link set node0-peer up
ip link set node0 up
ip route add default dev node0
sysctl -qw net.ipv4.ip_forward=1
# What reaches the peer end (anything not for the node or a pod) is dropped, not routed back.
sysctl -qw net.ipv4.conf.node0-peer.forwarding=0
sysctl -qw net.bridge.bridge-nf-call-iptables=1
exec "$PYTHON" -c "$REAPER"
"""

_UNSHARE = (
    *("unshare", "--pid", "--fork", "--mount-proc", "--mount", "--net"),
    *("--propagation", "private", "--kill-child"),
)
REQUIRED_TOOLS = ("unshare", "nsenter", "ip", "mount", "sysctl")


class SandboxError(RuntimeError):
    """The namespaces could not be created (not root, or a tool is missing)."""


class Sandbox:
    """PID, mount and network namespaces that hold the whole node; see the module docstring."""

    def __init__(self, *, node_cidr: str, cgroup_root: str, workdir: Path) -> None:
        self.node_cidr = node_cidr
        self.cgroup_root = cgroup_root
        self._workdir = workdir
        self._unshare: subprocess.Popen[bytes] | None = None
        self._init_pid = 0

    def start(self, timeout: float = 10.0) -> None:
        if os.geteuid() != 0:
            raise SandboxError("the end-to-end node needs root (namespaces, mounts, iptables)")
        missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
        if missing:
            raise SandboxError(f"missing tools: {', '.join(missing)}")
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "NODE_CIDR": self.node_cidr,
            "WORKDIR": str(self._workdir),
            "PYTHON": sys.executable,
            "REAPER": _REAPER,
        }
        log = (self._workdir / "sandbox.log").open("ab")
        with log:
            self._unshare = subprocess.Popen(
                [*_UNSHARE, "sh", "-c", _SETUP],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=_proc._die_with_parent,  # noqa: PLW1509 - only calls prctl
            )
        self._init_pid = self._wait_for_init(timeout)
        create_cgroups(self.cgroup_root)

    def _wait_for_init(self, timeout: float) -> int:
        if self._unshare is None:
            raise RuntimeError("the sandbox was not started")
        children = Path(f"/proc/{self._unshare.pid}/task/{self._unshare.pid}/children")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._unshare.poll() is not None:
                raise SandboxError(
                    "could not create the node's namespaces; log tail:\n"
                    + _proc.log_tail(self._workdir / "sandbox.log")
                )
            with contextlib.suppress(OSError):
                pids = children.read_text().split()
                if pids and self._init_is_reaping(int(pids[0])):
                    return int(pids[0])
            time.sleep(0.1)
        raise SandboxError("the node's namespaces were not ready in time")

    @staticmethod
    def _init_is_reaping(pid: int) -> bool:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False
        return b"-c\0" in cmdline and b"waitpid" in cmdline

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` wrapped to run inside the namespaces (as a process of the node)."""
        if not self._init_pid:
            raise RuntimeError("the sandbox is not running")
        return ["nsenter", f"--target={self._init_pid}", "--pid", "--mount", "--net", *argv]

    def start_process(self, argv: Sequence[str], log_path: Path) -> subprocess.Popen[bytes]:
        """Start a long-running component inside; its log goes to ``log_path``."""
        return _proc.start(self.command(argv), log_path)

    def run(
        self, argv: Sequence[str], *, check: bool = True, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        """Run a short command inside and capture its output."""
        return subprocess.run(
            self.command(argv),
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def stop(self) -> None:
        """Kill every process of the node, then remove its cgroup directories."""
        if self._init_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._init_pid, signal.SIGKILL)
        if self._unshare is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._unshare.wait(timeout=30)
            if self._unshare.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._unshare.pid, signal.SIGKILL)
                self._unshare.wait(timeout=10)
            if self._unshare.stdin is not None:
                self._unshare.stdin.close()
        self._init_pid = 0
        self._unshare = None
        remove_cgroups(self.cgroup_root)


def create_cgroups(name: str) -> None:
    """Create ``/sys/fs/cgroup/*/<name>`` in every hierarchy: the kubelet requires its cgroup root
    to exist. A new cpuset cgroup starts with no CPUs or memory nodes; it gets its parent's."""
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        if not (hierarchy / "cgroup.procs").exists():
            continue
        directory = hierarchy / name
        directory.mkdir(exist_ok=True)
        for setting in ("cpuset.cpus", "cpuset.mems"):
            inherited = hierarchy / setting
            if inherited.exists() and not (directory / setting).read_text().strip():
                (directory / setting).write_text(inherited.read_text())


def remove_cgroups(name: str, timeout: float = 30.0) -> None:
    """Remove ``/sys/fs/cgroup/*/<name>`` trees bottom-up, killing any process left in them.

    Processes of a killed PID namespace take a moment to exit, and a cgroup cannot be removed
    while it holds one, so this retries until ``timeout``.
    """
    roots = [path for path in Path("/sys/fs/cgroup").glob(f"*/{name}") if path.is_dir()]
    deadline = time.monotonic() + timeout
    for root in roots:
        for directory in sorted(
            (p for p in [root, *root.rglob("*")] if p.is_dir()),
            key=lambda p: len(p.parts),
            reverse=True,
        ):
            while True:
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    _kill_members(directory)
                    if time.monotonic() > deadline:
                        print(f"warning: could not remove cgroup {directory}", file=sys.stderr)
                        break
                    time.sleep(0.2)


def _kill_members(directory: Path) -> None:
    with contextlib.suppress(OSError):
        for pid in (directory / "cgroup.procs").read_text().split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
