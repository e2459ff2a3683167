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
class RunResult:
    exit_code: int
    wall_seconds: float
    cpu_seconds: float
    max_rss_mib: float
    output: dict[str, Any]  # the run's --output json document
    stderr_path: Path

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
    profile: Path | None = None,
) -> RunResult:  # fmt: skip
    """One ``nsshutdown run --output json``; logs (JSON lines) go to ``workdir/<label>.log``."""
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
        _, status, usage = os.wait4(proc.pid, 0)
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
    )
