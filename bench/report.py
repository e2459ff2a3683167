"""The benchmark's results: machine facts, the table, the targets and the JSON file."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"

#: Targets of issue 10 (docs/performance.md); the killed run's checks and the write path's
#: targets (writes at 0.9 of the ceiling, the server's CPU per write within 5% of the ceiling's)
#: are issue 19's.
NOOP_MAX_SECONDS = 3.0
MIN_CEILING_FRACTION = 0.5
MIN_WRITES_CEILING_FRACTION = 0.9
MAX_SERVER_CPU_RATIO = 1.05
MAX_RSS_MIB = 150.0
#: A converging run, and the run with nothing to do that lists the same state before it: what
#: the first costs beyond the second (start, imports, lists, plan, report) is its writes.
WRITE_BASES = {"shutdown": "noop-up", "restore": "noop"}
#: The ceiling each converging run's writes are held to: raw writes of the same shape.
CEILINGS = {"shutdown": "ceiling", "restore": "ceiling-up"}


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
    out |= _write_path_targets(write_phases(runs))
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


def write_phases(runs: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The writes of each converging run alone, and the ceilings', per write.

    A run's writes are what it costs beyond its base (``WRITE_BASES``, same round): wall and CPU
    time, and the servers' CPU (kube-apiserver, etcd). A ceiling does nothing but its writes.
    """
    out: dict[str, dict[str, float]] = {}
    for key, run in runs.items():
        step, dot, number = key.partition(".")
        if not run.get("server_writes"):
            continue
        if step in WRITE_BASES and (base := runs.get(WRITE_BASES[step] + dot + number)):
            out[key] = _per_write(run, base)
        elif step in CEILINGS.values():
            out[key] = _per_write(run, None)
    return out


def _per_write(run: dict[str, Any], base: dict[str, Any] | None) -> dict[str, float]:
    def beyond(*keys: str) -> float:
        def value(entry: dict[str, Any]) -> float:
            for key in keys:
                entry = entry[key]
            return float(entry)  # type: ignore[arg-type]

        return value(run) - (value(base) if base is not None else 0.0)

    writes = run["server_writes"]
    wall = beyond("wall_seconds")
    return {
        "writes": writes,
        "wall_seconds": round(wall, 3),
        "writes_per_second": round(writes / wall, 1) if wall > 0 else 0.0,
        "client_cpu_ms": round(1000 * beyond("cpu_seconds") / writes, 3),
        "apiserver_cpu_ms": round(1000 * beyond("server_cpu_seconds", "apiserver") / writes, 3),
        "etcd_cpu_ms": round(1000 * beyond("server_cpu_seconds", "etcd") / writes, 3),
    }


def _write_path_targets(phases: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Each run's writes against its ceiling in the same round; the median over the rounds."""
    out: dict[str, Any] = {}
    for step, ceiling_step in CEILINGS.items():
        fractions, ratios = [], []
        for key, run in phases.items():
            name, dot, number = key.partition(".")
            ceiling = phases.get(ceiling_step + dot + number)
            if name != step or ceiling is None:
                continue
            fractions.append(run["writes_per_second"] / max(ceiling["writes_per_second"], 1e-9))
            ratios.append(run["apiserver_cpu_ms"] / max(ceiling["apiserver_cpu_ms"], 1e-9))
        if not fractions:
            continue
        fraction, ratio = statistics.median(fractions), statistics.median(ratios)
        out[f"{step}_writes_fraction_of_{ceiling_step}"] = _check(
            round(fraction, 3), fraction >= MIN_WRITES_CEILING_FRACTION,
            rounds=[round(f, 3) for f in fractions],
        )  # fmt: skip
        out[f"{step}_apiserver_cpu_per_write_vs_{ceiling_step}"] = _check(
            round(ratio, 3), ratio <= MAX_SERVER_CPU_RATIO, rounds=[round(r, 3) for r in ratios]
        )
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
    ("apiserver CPU s", "{}", "apiserver_cpu"),
    ("etcd CPU s", "{}", "etcd_cpu"),
)


def table(results: dict[str, Any]) -> str:
    rows = [[name for name, _, _ in _COLUMNS]]
    for label, run in results["runs"].items():
        row = []
        for _, fmt, key in _COLUMNS:
            value = label if key == "label" else _cell(run, key)
            row.append("-" if value is None else fmt.format(value))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(run: dict[str, Any], key: str) -> Any:
    if key in ("apiserver_cpu", "etcd_cpu"):
        return (run.get("server_cpu_seconds") or {}).get(key.removesuffix("_cpu"))
    return run.get(key)


def write_phases_text(phases: dict[str, dict[str, float]]) -> str:
    """One line per run: its writes alone, per write (``write_phases``)."""
    return "\n".join(
        f"  {name}: {p['writes']} writes in {p['wall_seconds']} s ({p['writes_per_second']}/s);"
        f" per write: client {p['client_cpu_ms']} ms, kube-apiserver {p['apiserver_cpu_ms']} ms,"
        f" etcd {p['etcd_cpu_ms']} ms CPU"
        for name, p in phases.items()
    )


def targets_text(targets: dict[str, Any]) -> str:
    return "\n".join(
        f"  {'MET ' if t['met'] else 'MISS'}  {name}: {t['value']}"
        + (f" (expected {t['expected']})" if "expected" in t else "")
        + (f" (rounds: {', '.join(map(str, t['rounds']))})" if len(t.get("rounds", ())) > 1 else "")
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
