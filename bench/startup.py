"""``python -m bench.startup [--runs N] [--top N]``: what the offline commands cost to start.

Every command that needs no cluster (``--version``, ``--help``, ``validate`` of each example
schedule, ``plan --namespace``) runs ``--runs`` times as its own ``python -m nsshutdown``
process, after one unmeasured run that warms the bytecode and file caches. For each it prints the
median and the fastest wall time, the median CPU time (user + system, from ``wait4``: steadier
than wall time on a shared machine) and the median peak RSS.

Then it runs ``python -X importtime -m nsshutdown validate`` the same number of times and prints
where the import time goes: per top-level package (each module's own time, summed) and the
modules that cost the most themselves, medians over the runs.

Peak RSS is the kernel's ``ru_maxrss`` for the child. A child starts as a copy of this process,
so the figure can never be below this process's own peak, printed as the floor; this script
imports nothing but the standard library to keep that floor far below what is measured.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
#: The schedule the import-time table uses.
IMPORT_CASE = ("validate", "--schedule", "examples/nights-and-weekends.yaml")


def cases() -> dict[str, list[str]]:
    """Label -> arguments of each offline command measured."""
    found: dict[str, list[str]] = {
        "--version": ["--version"],
        "--help": ["--help"],
    }
    for path in EXAMPLES:
        rel = path.relative_to(ROOT).as_posix()
        found[f"validate {path.name}"] = ["validate", "--schedule", rel]
    found["validate -o json"] = [*IMPORT_CASE, "--output", "json"]
    found["plan --namespace"] = [
        "plan",
        "--schedule",
        "examples/nights-and-weekends.yaml",
        "--namespace",
        "dev-a=env=dev",
        "--at",
        "2026-11-26T21:00:00+01:00",
    ]
    return found


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float
    rss_mib: float


def _env() -> dict[str, str]:
    # the user's NSSHUTDOWN_* settings would change what the commands do
    return {k: v for k, v in os.environ.items() if not k.startswith("NSSHUTDOWN_")}


def run_once(python: str, args: list[str], *, extra: tuple[str, ...] = ()) -> tuple[Sample, str]:
    """One ``python [extra] -m nsshutdown args`` process: its sample and its stderr."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [python, *extra, "-m", "nsshutdown", *args],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr = proc.stderr.read() if proc.stderr is not None else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"nsshutdown {' '.join(args)} exited {proc.returncode}:\n{stderr}")
    cpu = usage.ru_utime + usage.ru_stime
    return Sample(wall=wall, cpu=cpu, rss_mib=usage.ru_maxrss / 1024), stderr


def measure(python: str, args: list[str], runs: int) -> list[Sample]:
    run_once(python, args)  # warm-up: bytecode and page caches
    return [run_once(python, args)[0] for _ in range(runs)]


def import_times(python: str, runs: int) -> dict[str, tuple[float, float]]:
    """module -> (median self ms, median cumulative ms) under ``-X importtime``."""
    self_ms: dict[str, list[float]] = defaultdict(list)
    cumulative_ms: dict[str, list[float]] = defaultdict(list)
    run_once(python, list(IMPORT_CASE), extra=("-X", "importtime"))
    for _ in range(runs):
        _, stderr = run_once(python, list(IMPORT_CASE), extra=("-X", "importtime"))
        for line in stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            own, cumulative, name = line.removeprefix("import time:").split("|")
            self_ms[name.strip()].append(int(own) / 1000)
            cumulative_ms[name.strip()].append(int(cumulative) / 1000)
    return {
        name: (statistics.median(self_ms[name]), statistics.median(cumulative_ms[name]))
        for name in self_ms
    }


def by_package(times: dict[str, tuple[float, float]]) -> list[tuple[str, float, int]]:
    """(top-level package, summed self ms, modules), most expensive first."""
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for name, (own, _) in times.items():
        top = name.split(".")[0]
        totals[top] += own
        counts[top] += 1
    return sorted(((k, v, counts[k]) for k, v in totals.items()), key=lambda row: -row[1])


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def print_commands(results: dict[str, list[Sample]]) -> None:
    print(_row(["command", "wall s (median)", "wall s (min)", "CPU s", "peak RSS MiB"]))
    print(_row(["---", "---:", "---:", "---:", "---:"]))
    for label, samples in results.items():
        print(
            _row(
                [
                    f"`{label}`",
                    f"{statistics.median(s.wall for s in samples):.3f}",
                    f"{min(s.wall for s in samples):.3f}",
                    f"{statistics.median(s.cpu for s in samples):.3f}",
                    f"{statistics.median(s.rss_mib for s in samples):.1f}",
                ]
            )
        )


def print_imports(times: dict[str, tuple[float, float]], top: int) -> None:
    total = sum(own for own, _ in times.values())
    print(f"\nimport time of `{' '.join(IMPORT_CASE)}`: {total:.0f} ms, {len(times)} modules")
    print("(-X importtime slows imports down: compare rows with each other, not with wall time)\n")
    print(_row(["package", "self ms (summed)", "modules"]))
    print(_row(["---", "---:", "---:"]))
    for name, own, count in by_package(times)[:top]:
        print(_row([f"`{name}`", f"{own:.1f}", str(count)]))
    print()
    print(_row(["module", "self ms", "cumulative ms"]))
    print(_row(["---", "---:", "---:"]))
    ranked = sorted(times.items(), key=lambda item: -item[1][0])[:top]
    for name, (own, cumulative) in ranked:
        print(_row([f"`{name}`", f"{own:.1f}", f"{cumulative:.1f}"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=11, help="runs per command (default: 11)")
    parser.add_argument("--top", type=int, default=20, help="rows of the import tables")
    parser.add_argument("--python", default=sys.executable, help="the interpreter to measure")
    parser.add_argument("--only", default=None, help="only the commands whose label has this")
    args = parser.parse_args(argv)
    selected = {k: v for k, v in cases().items() if args.only is None or args.only in k}
    print(f"{args.runs} runs each, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}\n")
    results = {"python -c pass": measure_baseline(args.python, args.runs)}
    results |= {label: measure(args.python, argv_, args.runs) for label, argv_ in selected.items()}
    print_commands(results)
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n(peak RSS floor, this process: {floor:.1f} MiB)")
    print_imports(import_times(args.python, args.runs), args.top)
    return 0


def measure_baseline(python: str, runs: int) -> list[Sample]:
    """The interpreter alone: what no change to nsshutdown can go below."""
    samples = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        proc = subprocess.Popen([python, "-c", "pass"], env=_env())
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0
        cpu = usage.ru_utime + usage.ru_stime
        rss = usage.ru_maxrss / 1024
        samples.append(Sample(wall=time.perf_counter() - started, cpu=cpu, rss_mib=rss))
    return samples[1:]


if __name__ == "__main__":
    raise SystemExit(main())
