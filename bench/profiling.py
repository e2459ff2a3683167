"""``--profile``: where a run's time goes (cProfile of the real CLI process) and its memory
(``bench.phases``: the same steps as ``run``, with peak RSS and allocations after each).

The profiles are written next to the results (``<results>/profile-<label>.{prof,txt}``);
read a ``.prof`` with ``python -m pstats`` or snakeviz.
"""

from __future__ import annotations

import io
import json
import pstats
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.nsrun import child_env, run_nsshutdown

TOP = 35


def profile_cli(
    *, kubeconfig: Path, schedule: Path, workdir: Path, label: str, extra: list[str],
    results_dir: Path,
) -> dict[str, Any]:  # fmt: skip
    """One ``nsshutdown run`` under cProfile; writes the ``.prof`` and a top-N text summary."""
    results_dir.mkdir(parents=True, exist_ok=True)
    prof = results_dir / f"profile-{label}.prof"
    result = run_nsshutdown(
        kubeconfig=kubeconfig, schedule=schedule, workdir=workdir, label=f"profile-{label}",
        extra=extra, profile=prof,
    )  # fmt: skip
    text = results_dir / f"profile-{label}.txt"
    text.write_text(_summary(prof), encoding="utf-8")
    return {
        "wall_seconds_under_profiler": round(result.wall_seconds, 2),
        "exit_code": result.exit_code,
        "profile": str(prof),
        "summary": str(text),
    }


def _summary(prof: Path) -> str:
    out = io.StringIO()
    stats = pstats.Stats(str(prof), stream=out)
    stats.strip_dirs()
    for key in ("cumulative", "tottime"):
        out.write(f"==== top {TOP} by {key} ====\n")
        stats.sort_stats(key).print_stats(TOP)
    return out.getvalue()


def phases(*, kubeconfig: Path, schedule: Path, extra: list[str], write: bool) -> Any:
    """Run ``bench.phases`` in its own process and return its JSON."""
    argv = [sys.executable, "-m", "bench.phases", "--kubeconfig", str(kubeconfig),
            "--schedule", str(schedule), *extra, *(["--write"] if write else [])]  # fmt: skip
    proc = subprocess.run(
        argv, capture_output=True, env=child_env(), check=False, cwd=kubeconfig.parent
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.decode(errors="replace")[-2000:]}
    return json.loads(proc.stdout)
