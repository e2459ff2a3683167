"""``python -m bench.startup [--runs N] [--top N]``: what the offline commands cost to start.

Every command that needs no cluster (``--version``, ``--help``, ``validate`` of each example
schedule, ``plan --namespace``) runs ``--runs`` times as its own ``python -m nsshutdown``
process, after one unmeasured run that warms the bytecode and file caches; so do the interpreter
alone and the libraries ``validate`` needs, imported alone (:data:`LIBRARIES`): the floor that
nsshutdown's own code adds to. For each it prints the median and the fastest wall time, the
median CPU time (user + system, from ``wait4``: steadier than wall time on a shared machine) and
the median peak RSS.

``--source DIR`` measures the ``nsshutdown`` package of another checkout (``git worktree add
DIR COMMIT``), with that checkout's examples. ``--baseline DIR`` measures two checkouts in
alternation, run by run, so that both see the same load on a shared machine, and prints them
side by side: before and after a change.

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

#: Where ``python -m nsshutdown`` runs by default (the current directory comes first on
#: ``sys.path``, so the package of the directory it runs in is the one measured).
ROOT = Path(__file__).resolve().parents[1]
#: The schedule the import-time table uses.
IMPORT_CASE = ("validate", "--schedule", "examples/nights-and-weekends.yaml")
#: The libraries ``validate`` cannot do without, imported alone, with the one pydantic model that
#: makes pydantic import the rest of itself (its schema builder, its plugin look-up).
LIBRARIES = (
    "import typer.main, yaml, croniter\n"
    "from pydantic import BaseModel\n"
    "class Model(BaseModel):\n"
    "    field: int\n"
)
#: The rows measured before the commands: the interpreter's arguments, not the command's.
FLOORS = {
    "python -c pass": ["-c", "pass"],
    "typer, pydantic (1 model), yaml, croniter": ["-c", LIBRARIES],
}


def cases(root: Path) -> dict[str, list[str]]:
    """Label -> the interpreter's arguments (``-m nsshutdown ...``) of each command measured."""
    found: dict[str, list[str]] = {
        "--version": ["--version"],
        "--help": ["--help"],
    }
    for path in sorted((root / "examples").glob("*.yaml")):
        found[f"validate {path.name}"] = ["validate", "--schedule", f"examples/{path.name}"]
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
    return {label: ["-m", "nsshutdown", *args] for label, args in found.items()}


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float
    rss_mib: float


def _env() -> dict[str, str]:
    # the user's NSSHUTDOWN_* settings would change what the commands do
    return {k: v for k, v in os.environ.items() if not k.startswith("NSSHUTDOWN_")}


def run_once(
    python: str, root: Path, args: list[str], *, extra: tuple[str, ...] = ()
) -> tuple[Sample, str]:
    """One ``python [extra] args`` process in ``root``: its sample and stderr."""
    command = [python, *extra, *args]
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=root, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    stderr = proc.stderr.read() if proc.stderr is not None else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode} in {root}:\n{stderr}")
    cpu = usage.ru_utime + usage.ru_stime
    return Sample(wall=wall, cpu=cpu, rss_mib=usage.ru_maxrss / 1024), stderr


def measure(python: str, roots: list[Path], args: list[str], runs: int) -> list[list[Sample]]:
    """``runs`` samples of ``args`` in each root, the roots taking turns run by run."""
    for root in roots:
        run_once(python, root, args)  # warm-up: bytecode and page caches
    samples: list[list[Sample]] = [[] for _ in roots]
    for _ in range(runs):
        for i, root in enumerate(roots):
            samples[i].append(run_once(python, root, args)[0])
    return samples


def import_times(python: str, roots: list[Path], runs: int) -> list[dict[str, tuple[float, float]]]:
    """For each root, module -> (median self ms, median cumulative ms) under ``-X importtime``;
    the roots take turns run by run, as in :func:`measure`."""
    self_ms: list[dict[str, list[float]]] = [defaultdict(list) for _ in roots]
    cumulative_ms: list[dict[str, list[float]]] = [defaultdict(list) for _ in roots]
    import_case = ["-m", "nsshutdown", *IMPORT_CASE]
    for root in roots:
        run_once(python, root, import_case, extra=("-X", "importtime"))
    for _ in range(runs):
        for i, root in enumerate(roots):
            _, stderr = run_once(python, root, import_case, extra=("-X", "importtime"))
            for line in stderr.splitlines():
                if not line.startswith("import time:") or "self [us]" in line:
                    continue
                own, cumulative, name = line.removeprefix("import time:").split("|")
                self_ms[i][name.strip()].append(int(own) / 1000)
                cumulative_ms[i][name.strip()].append(int(cumulative) / 1000)
    return [
        {name: (statistics.median(own[name]), statistics.median(cumulative[name])) for name in own}
        for own, cumulative in zip(self_ms, cumulative_ms, strict=True)
    ]


def by_package(times: dict[str, tuple[float, float]]) -> dict[str, tuple[float, int]]:
    """top-level package -> (summed self ms, modules), most expensive first."""
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for name, (own, _) in times.items():
        top = name.split(".")[0]
        totals[top] += own
        counts[top] += 1
    ranked = sorted(totals, key=lambda k: -totals[k])
    return {k: (totals[k], counts[k]) for k in ranked}


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _summary(samples: list[Sample]) -> list[str]:
    return [
        f"{statistics.median(s.wall for s in samples):.3f}",
        f"{min(s.wall for s in samples):.3f}",
        f"{statistics.median(s.cpu for s in samples):.3f}",
        f"{statistics.median(s.rss_mib for s in samples):.1f}",
    ]


def print_commands(names: list[str], results: dict[str, list[list[Sample]]]) -> None:
    columns = ["wall s (median)", "wall s (min)", "CPU s", "peak RSS MiB"]
    head = ["command"] + [f"{c}, {n}" if len(names) > 1 else c for n in names for c in columns]
    print(_row(head))
    print(_row(["---"] + ["---:"] * (len(head) - 1)))
    for label, per_root in results.items():
        print(_row([f"`{label}`"] + [cell for samples in per_root for cell in _summary(samples)]))


def print_imports(names: list[str], times: list[dict[str, tuple[float, float]]], top: int) -> None:
    for name, found in zip(names, times, strict=True):
        total = sum(own for own, _ in found.values())
        print(
            f"import time of `{' '.join(IMPORT_CASE)}` ({name}): {total:.0f} ms, "
            f"{len(found)} modules"
        )
    print("(-X importtime slows imports down: compare rows with each other, not with wall time)\n")
    packages = [by_package(found) for found in times]
    print(_row(["package"] + [f"self ms (modules), {n}" for n in names]))
    print(_row(["---"] + ["---:"] * len(names)))
    for package in list(dict.fromkeys(k for p in packages for k in p))[:top]:
        cells = [
            f"{p[package][0]:.1f} ({p[package][1]})" if package in p else "-" for p in packages
        ]
        print(_row([f"`{package}`", *cells]))
    found = times[-1]
    print(f"\n{names[-1]}: the modules that cost the most themselves\n")
    print(_row(["module", "self ms", "cumulative ms"]))
    print(_row(["---", "---:", "---:"]))
    for name, (own, cumulative) in sorted(found.items(), key=lambda item: -item[1][0])[:top]:
        print(_row([f"`{name}`", f"{own:.1f}", f"{cumulative:.1f}"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=11, help="runs per command (default: 11)")
    parser.add_argument("--top", type=int, default=20, help="rows of the import tables")
    parser.add_argument("--python", default=sys.executable, help="the interpreter to measure")
    parser.add_argument("--only", default=None, help="only the commands whose label has this")
    parser.add_argument("--source", type=Path, default=ROOT, help="the checkout to measure")
    parser.add_argument("--baseline", type=Path, default=None, help="a checkout to compare with")
    args = parser.parse_args(argv)
    roots = [p.resolve() for p in (args.baseline, args.source) if p is not None]
    names = ["before", "after"] if len(roots) == 2 else ["this checkout"]
    for name, root in zip(names, roots, strict=True):
        print(f"{name}: {root}")
    load = os.getloadavg()[0]
    print(f"{args.runs} runs each, {os.cpu_count()} cores, load {load:.2f} at the start\n")
    selected = {k: v for k, v in cases(roots[-1]).items() if args.only is None or args.only in k}
    results = {
        label: measure(args.python, roots, argv, args.runs) for label, argv in FLOORS.items()
    }
    results |= {
        label: measure(args.python, roots, command, args.runs)
        for label, command in selected.items()
    }
    print_commands(names, results)
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n(peak RSS floor, this process: {floor:.1f} MiB; load {os.getloadavg()[0]:.2f} now)\n")
    print_imports(names, import_times(args.python, roots, args.runs), args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
