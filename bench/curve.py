"""``python -m bench.curve [RESULTS.json ...] [--png PATH]``: the scaling curve.

Reads benchmark results (by default the newest file of each size in ``bench/results/``), prints
one Markdown table of the no-op, shutdown and restore runs and the ceiling by number of workloads
(a step a run left out, ``--steps``, is shown as ``-``),
fits the straight lines the CronJob's sizing rule is derived from (peak RSS and wall time against
workloads, least squares), and draws both as one PNG (matplotlib, a development dependency; the
``nsshutdown`` package never imports it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.report import RESULTS_DIR

DEFAULT_PNG = Path(__file__).resolve().parents[1] / "docs" / "_static" / "performance-curve.png"
#: The shipped CronJob (manifests/base): its memory limit and its deadline.
MEMORY_LIMIT_MIB = 512
DEADLINE_SECONDS = 240
RUNS = ("noop", "shutdown", "restore")


def newest_per_size(directory: Path) -> list[Path]:
    """The newest results file of each workload count (files are named by their UTC time)."""
    chosen: dict[int, Path] = {}
    for path in sorted(directory.glob("2*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if "runs" in doc and all(k in doc["runs"] for k in ("noop", "shutdown")):
            chosen[int(doc["config"]["workloads"])] = path
    return [chosen[size] for size in sorted(chosen)]


def load(paths: list[Path]) -> list[dict[str, Any]]:
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    return sorted(docs, key=lambda d: int(d["config"]["workloads"]))


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line through the points."""
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    var = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var
    return mean_y - slope * mean_x, slope


def _cell(runs: dict[str, Any], run: str, key: str, fmt: str) -> str:
    return format(runs[run][key], fmt) if run in runs else "-"


def table(docs: list[dict[str, Any]]) -> str:
    head = (
        "| workloads | no-op s | shutdown s | restore s | ceiling s | shutdown / ceiling "
        "| peak RSS MiB (no-op / shutdown / restore) | requests (no-op / shutdown) | CPU s "
        "(no-op / shutdown) | load (1 min) | checks |"
    )
    lines = [head, "|" + "---:|" * 10 + "---|"]
    for doc in docs:
        runs = doc["runs"]
        ratio = "-"
        if "ceiling" in runs:
            shutdown, ceiling = runs["shutdown"], runs["ceiling"]
            ratio = f"{shutdown['throughput_per_second'] / ceiling['throughput_per_second']:.2f}"
        rss = " / ".join(_cell(runs, r, "peak_rss_mib", ".0f") for r in RUNS)
        requests = " / ".join(_cell(runs, r, "server_requests", ",") for r in ("noop", "shutdown"))
        cpu = " / ".join(_cell(runs, r, "cpu_seconds", ".1f") for r in ("noop", "shutdown"))
        loads = [run["load_average_1m"] for run in runs.values()]
        wrong = sum(c["workloads_not_as_expected"] for c in doc["checks"].values())
        codes = {c["exit_code"] for c in doc["checks"].values() if "exit_code" in c}  # not ceilings
        checks = "all as expected" if wrong == 0 and codes == {0} else f"{wrong} off, exit {codes}"
        walls = " | ".join(_cell(runs, r, "wall_seconds", ".2f") for r in (*RUNS, "ceiling"))
        lines.append(
            f"| {doc['config']['workloads']:,} | {walls} | {ratio} | {rss} | {requests} | {cpu} "
            f"| {min(loads):.1f}-{max(loads):.1f} | {checks} |"
        )
    return "\n".join(lines)


def sizing(docs: list[dict[str, Any]]) -> str:
    """The fitted lines, in the units the sizing rule uses."""
    out = []
    for run in (*RUNS, "ceiling"):
        points = [
            (float(d["config"]["workloads"]), d["runs"][run]) for d in docs if run in d["runs"]
        ]
        if len(points) < 2:
            continue
        sizes = [size for size, _ in points]
        start, slope = fit(sizes, [r["wall_seconds"] for _, r in points])
        line = f"{run}: wall ~ {start:.2f} s + {slope * 1000:.2f} s per 1,000 workloads"
        if run != "ceiling":
            base, per = fit(sizes, [r["peak_rss_mib"] for _, r in points])
            line += f"; peak RSS ~ {base:.0f} MiB + {per * 1000:.2f} MiB per 1,000 workloads"
        out.append(line)
    return "\n".join(out)


def plot(docs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [d["config"]["workloads"] for d in docs]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    styles = {"noop": ("no-op", "o-"), "shutdown": ("shutdown", "s-"), "restore": ("restore", "^-")}
    for run, (label, style) in styles.items():
        xs = [d["config"]["workloads"] for d in docs if run in d["runs"]]
        present = [d["runs"][run] for d in docs if run in d["runs"]]
        left.plot(xs, [r["wall_seconds"] for r in present], style, label=label)
        right.plot(xs, [r["peak_rss_mib"] for r in present], style, label=label)
    xs = [d["config"]["workloads"] for d in docs if "ceiling" in d["runs"]]
    ceiling = [d["runs"]["ceiling"]["wall_seconds"] for d in docs if "ceiling" in d["runs"]]
    left.plot(xs, ceiling, "k--", label="ceiling (raw client)")
    left.axhline(DEADLINE_SECONDS, color="red", linewidth=1, linestyle=":")
    left.annotate(
        f"activeDeadlineSeconds {DEADLINE_SECONDS}",
        (sizes[-1], DEADLINE_SECONDS),
        textcoords="offset points",
        xytext=(0, 4),
        ha="right",
        color="red",
        fontsize=8,
    )
    right.axhline(MEMORY_LIMIT_MIB, color="red", linewidth=1, linestyle=":")
    right.annotate(
        f"memory limit {MEMORY_LIMIT_MIB} MiB",
        (sizes[0], MEMORY_LIMIT_MIB),
        textcoords="offset points",
        xytext=(0, 4),
        ha="left",
        color="red",
        fontsize=8,
    )
    left.set(xscale="log", yscale="log", xlabel="workloads", ylabel="wall time, s")
    left.set_title("Wall time (whole process)", fontsize=10)
    right.set(xscale="log", xlabel="workloads", ylabel="peak RSS, MiB", ylim=(0, 560))
    right.set_title("Peak memory of the process", fontsize=10)
    for axes, where in ((left, "upper left"), (right, "center left")):
        axes.grid(True, which="major", alpha=0.3)
        axes.legend(fontsize=8, loc=where)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})  # no version string: a stable file
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.curve", description=__doc__)
    parser.add_argument("results", nargs="*", type=Path, help="default: newest of each size")
    parser.add_argument("--png", type=Path, default=DEFAULT_PNG, help="where the plot goes")
    parser.add_argument("--no-png", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    paths = args.results or newest_per_size(RESULTS_DIR)
    if len(paths) < 2:
        raise SystemExit("need results of at least two sizes (python -m bench --namespaces N)")
    docs = load(paths)
    print(table(docs))
    print()
    print(sizing(docs))
    print("\nfrom: " + ", ".join(p.name for p in paths))
    if not args.no_png:
        plot(docs, args.png)
        print(f"plot: {args.png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
