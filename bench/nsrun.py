"""Run ``python -m nsshutdown run`` the way the CronJob does, one process per run.

A separate process per run is the honest measurement: wall time includes interpreter start and
imports (a CronJob pays them every time), ``os.wait4`` returns that one child's CPU time, and
``bench.child`` reports its own peak RSS, untouched by the benchmark's memory (seeding, checks).

``run`` has no ``--at``: it reads the clock. The schedules are therefore written relative to the
benchmark's start: a daily window that opened an hour ago (shutdown) or closed an hour ago
(restore) and changes again two hours from now, in UTC: true for the whole benchmark.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.seed import NAMESPACE_PREFIX

_SCHEDULE = """\
version: 1
defaults:
  timezone: UTC
  gracePeriod: 0m
schedules:
  - name: bench
    namespaces:
      names: ["{prefix}*"]
    windows:
      - shutdown: "{shutdown}"
        startup: "{startup}"
"""


def _daily(at: datetime) -> str:
    return f"{at.minute} {at.hour} * * *"


def write_schedule(path: Path, *, now: datetime, window_open: bool) -> Path:
    """A schedule whose one window is open (or closed) at ``now`` and for two hours more."""
    before, after = now - timedelta(hours=1), now + timedelta(hours=2)
    shutdown, startup = (before, after) if window_open else (after, before)
    text = _SCHEDULE.format(
        prefix=NAMESPACE_PREFIX, shutdown=_daily(shutdown), startup=_daily(startup)
    )
    path.write_text(text, encoding="utf-8")
    return path


@dataclass(frozen=True)
class Stop:
    """Stop a run from outside after ``after`` seconds, the way a Job's deadline does: the
    kubelet sends SIGTERM, then SIGKILL once the pod's termination grace period is over (30 s
    unless the pod sets ``terminationGracePeriodSeconds``; the shipped CronJob does not).
    ``signal`` SIGKILL skips the first step: nothing the process could do on SIGTERM runs."""

    after: float
    signal: signal.Signals = signal.SIGKILL
    grace: float = 30.0


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    wall_seconds: float
    cpu_seconds: float
    max_rss_mib: float
    output: dict[str, Any]  # the run's --output json document
    stderr_path: Path
    #: The signals sent, with the seconds since start of each; empty if the run ended first.
    signals: tuple[tuple[str, float], ...] = ()

    def actions(self, outcome: str = "applied") -> int:
        return sum(
            1
            for ns in self.output.get("namespaces", [])
            for action in ns.get("actions", [])
            if action.get("outcome") == outcome and action.get("action") != "skip"
        )


#: ``--source DIR``: run the ``nsshutdown`` package found in DIR (a patched copy, to measure a
#: change before it lands) instead of this checkout's.
_source: list[Path] = []


def use_source(directory: Path) -> None:
    if not (directory / "nsshutdown" / "__init__.py").is_file():
        raise SystemExit(f"--source {directory}: no nsshutdown package there")
    _source[:] = [directory.resolve()]
    compile_tree(Path(sys.executable), directory / "nsshutdown")


def compile_tree(python: Path, package: Path) -> None:
    """Its bytecode, as ``pip install`` writes it: with ``PYTHONDONTWRITEBYTECODE`` set, every
    run of a tree exported from git would otherwise compile its package again."""
    subprocess.run([str(python), "-m", "compileall", "-q", str(package)], check=True)


def child_env() -> dict[str, str]:
    """The caller's environment without any NSSHUTDOWN_* setting (or pod namespace)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NSSHUTDOWN_")}
    env.pop("POD_NAMESPACE", None)
    repo = str(Path(__file__).resolve().parent.parent)
    paths = [*map(str, _source), repo, env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


def default_limits(workdir: Path) -> str:
    """The ``Limits`` the measured nsshutdown starts from (its own defaults, before flags)."""
    code = "from nsshutdown.kube import Limits; print(repr(Limits()))"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), cwd=workdir, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    return proc.stdout.strip() or proc.stderr.strip()[-300:]


def run_nsshutdown(
    *, kubeconfig: Path, schedule: Path, workdir: Path, label: str, extra: list[str],
    profile: Path | None = None, stop: Stop | None = None,
) -> RunResult:  # fmt: skip
    """One ``nsshutdown run --output json``; logs (JSON lines) go to ``workdir/<label>.log``.
    With ``stop``, the process is signalled from outside if it still runs then (its peak RSS is
    then unknown: the wrapper that reads it never gets to run)."""
    memfile = workdir / f"{label}.rss"
    argv = [
        sys.executable, "-m", "bench.child", str(memfile),
        *(["--profile", str(profile)] if profile else []), "--", "run",
        "--kubeconfig", str(kubeconfig), "--schedule", str(schedule),
        "--output", "json", "--log-format", "json", *extra,
    ]  # fmt: skip
    out_path, err_path = workdir / f"{label}.json", workdir / f"{label}.log"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.monotonic()
        # cwd: ``-m`` puts the working directory first on sys.path, ahead of --source
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=child_env(), cwd=workdir)
        status, usage, signals = _wait(proc.pid, started, stop)
        wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    try:
        output = json.loads(out_path.read_bytes() or b"{}")
    except ValueError:
        output = {}
    return RunResult(
        exit_code=proc.returncode,
        wall_seconds=wall,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        max_rss_mib=float(memfile.read_text()) if memfile.exists() else float("nan"),
        output=output,
        stderr_path=err_path,
        signals=signals,
    )


def _wait(
    pid: int, started: float, stop: Stop | None
) -> tuple[int, resource.struct_rusage, tuple[tuple[str, float], ...]]:
    """``os.wait4`` the child; with ``stop``, signal it at its times while it still runs."""
    if stop is None:
        _, status, usage = os.wait4(pid, 0)
        return status, usage, ()
    plan = [(stop.signal, stop.after)]
    if stop.signal != signal.SIGKILL:
        plan.append((signal.SIGKILL, stop.after + stop.grace))
    sent: list[tuple[str, float]] = []
    for sig, at in plan:
        while (now := time.monotonic() - started) < at:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                return status, usage, tuple(sent)
            time.sleep(min(0.02, at - now))
        os.kill(pid, sig)
        sent.append((sig.name, round(time.monotonic() - started, 3)))
    _, status, usage = os.wait4(pid, 0)
    return status, usage, tuple(sent)
