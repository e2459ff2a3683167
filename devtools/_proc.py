"""Child-process plumbing shared by the local cluster and the Pushgateway.

Every server is started in its own session (process group) so that stopping it
also stops anything it forked. All live servers are tracked in one registry that
an ``atexit`` hook and a SIGTERM handler drain, so an interrupted test run or
demo never leaves etcd or kube-apiserver behind.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Self

_PR_SET_PDEATHSIG = 1
_live: dict[int, subprocess.Popen[bytes]] = {}
_live_lock = threading.Lock()
_handlers_installed = threading.Event()


def run_build_script(script: Path, *args: str, stream_log: bool) -> tuple[int, str]:
    """Run one of tools/*/build.sh; (exit code, last stdout line: the directory it names)."""
    proc = subprocess.run(
        ["bash", str(script), *args],
        stdout=subprocess.PIPE,
        stderr=None if stream_log else subprocess.DEVNULL,
        text=True,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    return proc.returncode, lines[-1] if lines else ""


class Service:
    """A local process group a test or the demo starts and must always stop: a context manager
    around ``start`` and ``stop``."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ServerStartError(RuntimeError):
    """A local server did not become ready; the message carries its log tail."""


def free_port() -> int:
    """Return a loopback TCP port that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """True when a new server could listen on ``port`` (TIME_WAIT leftovers do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _die_with_parent() -> None:
    # Linux only: the kernel kills the child if the parent dies without cleanup
    # (e.g. SIGKILL). Best effort; ignored where prctl is unavailable.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def start(
    argv: Sequence[str], log_path: Path, *, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new session with stdout and stderr going to ``log_path``.

    ``env`` replaces the environment (the default inherits this process's).
    """
    _install_cleanup_handlers()
    # PDEATHSIG fires when the parent *thread* exits, so only use it from the
    # main thread; servers started from worker threads rely on stop()/atexit.
    preexec = _die_with_parent if threading.current_thread() is threading.main_thread() else None
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            preexec_fn=preexec,  # noqa: PLW1509 - only calls prctl
        )
    with _live_lock:
        _live[proc.pid] = proc
    return proc


def stop(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """SIGTERM the process group, SIGKILL it after ``timeout``; always reap."""
    if proc is None:
        return
    try:
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
        # The leader may be gone while forked children linger: sweep the group.
        _signal_group(proc.pid, signal.SIGKILL)
    finally:
        with _live_lock:
            _live.pop(proc.pid, None)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def stop_all() -> None:
    with _live_lock:
        procs = list(_live.values())
    for proc in procs:
        stop(proc, timeout=5.0)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception so context managers and finally blocks run.
    raise SystemExit(128 + signum)


def _install_cleanup_handlers() -> None:
    if _handlers_installed.is_set():
        return
    _handlers_installed.set()
    atexit.register(stop_all)
    in_main = threading.current_thread() is threading.main_thread()
    if in_main and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def wait_until(
    ready: Callable[[], bool],
    *,
    proc: subprocess.Popen[bytes],
    what: str,
    log_path: Path,
    timeout: float,
) -> None:
    """Poll ``ready`` until it is true; fail early if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerStartError(
                f"{what} exited with code {proc.returncode}; log tail:\n{log_tail(log_path)}"
            )
        if ready():
            return
        time.sleep(0.2)
    raise ServerStartError(
        f"{what} not ready after {timeout:.0f} s; log tail:\n{log_tail(log_path)}"
    )
