"""The benchmark's results: machine facts, the table, the targets and the JSON file."""

from __future__ import annotations

import json
import math
import os
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"

#: Targets of issue 10 (docs/performance.md); the killed run's checks are issue 19's.
NOOP_MAX_SECONDS = 3.0
MIN_CEILING_FRACTION = 0.5
MAX_RSS_MIB = 150.0


def machine_info(server_version: str, binaries: str) -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "kubernetes_server": server_version,
        "server_binaries": binaries,
        "kubernetes_client": metadata.version("kubernetes"),
        "urllib3": metadata.version("urllib3"),
    }


def expected_list_requests(counts: dict[str, int], page_size: int) -> int:
    """One request per page of each list; an empty list is still one request."""
    return sum(max(1, math.ceil(n / page_size)) for n in counts.values())


def evaluate(results: dict[str, Any]) -> dict[str, Any]:
    """The targets that the steps run (``--steps``) can tell."""
    runs = results["runs"]
    expected = results["expected_noop_requests"]
    out: dict[str, Any] = {}
    for name in ("noop", "noop-up"):
        if (noop := runs.get(name)) is not None:
            wall, requests = noop["wall_seconds"], noop["server_requests"]
            out[f"{name}_wall_seconds"] = _check(wall, wall <= NOOP_MAX_SECONDS)
            out[f"{name}_requests"] = _check(requests, requests == expected, expected=expected)
    if (shutdown := runs.get("shutdown")) is not None:
        writes, changed = shutdown["server_writes"], shutdown["changed"]
        out["shutdown_one_write_per_change"] = _check(writes, writes == changed, expected=changed)
        if (ceiling := runs.get("ceiling")) is not None:
            fraction = shutdown["throughput_per_second"] / max(
                ceiling["throughput_per_second"], 1e-9
            )
            out["shutdown_fraction_of_ceiling"] = _check(
                round(fraction, 3), fraction >= MIN_CEILING_FRACTION
            )
    if (killed := results["checks"].get("killed")) is not None:
        neither = killed["neither_after_kill"]
        out["killed_run_started_all_up"] = _check(killed["all_up_before"], killed["all_up_before"])
        out["killed_run_lost_nothing"] = _check(neither, neither == 0, expected=0)
        out["killed_run_stopped_while_writing"] = _check(
            killed["down_after_kill"], killed["stopped_while_writing"]
        )
        out["next_run_writes_the_rest"] = _check(
            killed["next_run_server_writes"], killed["next_run_writes_are_the_rest"],
            expected=results["config"]["workloads"] - killed["down_after_kill"],
        )  # fmt: skip
    peaks = [
        run["peak_rss_mib"]
        for name, run in runs.items()
        if name != "ceiling" and run.get("peak_rss_mib") is not None
    ]
    if peaks:
        out["peak_rss_mib"] = _check(round(max(peaks), 1), max(peaks) <= MAX_RSS_MIB)
    return out


def _check(value: Any, ok: bool, **extra: Any) -> dict[str, Any]:
    return {"value": value, "met": bool(ok), **extra}


_COLUMNS = (
    ("run", "{}", "label"),
    ("wall s", "{:.2f}", "wall_seconds"),
    ("changed", "{}", "changed"),
    ("req client", "{}", "client_requests"),
    ("req server", "{}", "server_requests"),
    ("writes", "{}", "server_writes"),
    ("req/changed", "{}", "requests_per_changed"),
    ("changed/s", "{:.0f}", "throughput_per_second"),
    ("peak RSS MiB", "{}", "peak_rss_mib"),
    ("CPU s", "{}", "cpu_seconds"),
)


def table(results: dict[str, Any]) -> str:
    rows = [[name for name, _, _ in _COLUMNS]]
    for label, run in results["runs"].items():
        row = []
        for _, fmt, key in _COLUMNS:
            value = label if key == "label" else run.get(key)
            row.append("-" if value is None else fmt.format(value))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def targets_text(targets: dict[str, Any]) -> str:
    return "\n".join(
        f"  {'MET ' if t['met'] else 'MISS'}  {name}: {t['value']}"
        + (f" (expected {t['expected']})" if "expected" in t else "")
        for name, t in targets.items()
    )


def write(results: dict[str, Any], directory: Path = RESULTS_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"{stamp}.json"
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
