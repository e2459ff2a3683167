"""``python -m bench.peer [--runs N]``: a run with nothing to do, nsshutdown against
py-kube-downscaler's ``--once``, on the same local API server.

Seeds 10 namespaces x 10 workloads (``bench.seed``: the main benchmark's objects, and its CRDs),
then runs each tool as its own process ``--runs`` times after one unmeasured warm-up of each, in
alternation run by run (the order swapping every round) so both see the same load: nsshutdown's
``run`` with a closed window and every workload up (the main benchmark's ``noop-up``, same
flags), and the peer with :data:`PEER_FLAGS`, from its exported source and its own venv. Per
run: wall and CPU time (``wait4``), peak RSS (``VmHWM`` at exit, as ``bench.child`` reads it) and
the API server's requests (``/metrics`` before and after). Then each tool's third-party
libraries (:data:`LIBRARIES`) are imported alone as many times, in the same alternation: the floor
under each tool's start-up, before any code of its own runs. Prints medians and the fastest,
checks every workload is still up, writes ``bench/results/peer-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bench import apimetrics, report, seed, verify
from bench.nsrun import compile_tree, run_nsshutdown, use_source, write_schedule
from bench.rawapi import RawApi
from bench.session import _checkout
from devtools.cluster import LocalCluster
from nsshutdown.kube import Limits

PEER_HOME = Path.home() / ".cache" / "nsshutdown" / "peer"
PEER_REPO = "https://github.com/caas-team/py-kube-downscaler"
#: One loop and exit; change nothing; every workload's uptime is "always", so none is due for a
#: change; the kinds of the seeded workloads and the two CRDs nsshutdown also lists.
PEER_FLAGS = (
    "--once", "--dry-run", "--default-uptime", "always",
    "--include-resources", "deployments,statefulsets,cronjobs,rollouts,scaledobjects",
)  # fmt: skip
#: ``python -c``: record the process's own peak RSS at exit, then run the peer's ``__main__``.
_WRAPPER = """\
import atexit, runpy, sys
def _hwm(path=sys.argv[1]):
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            open(path, "w").write(str(int(line.split()[1]) / 1024))
atexit.register(_hwm)
sys.argv = ["kube_downscaler", *sys.argv[2:]]
runpy.run_module("kube_downscaler", run_name="__main__", alter_sys=True)
"""
#: The third-party libraries each tool's ``run`` imports, imported alone by the interpreter it
#: runs on (one pydantic model, as the first one makes pydantic import the rest of itself): the
#: floor under each tool's start-up, before a line of its own code runs.
LIBRARIES = {
    "nsshutdown": (
        "typer, pydantic (1 model), PyYAML, croniter, urllib3",
        "import croniter, typer.main, urllib3, yaml\n"
        "from pydantic import BaseModel\n"
        "class Model(BaseModel):\n"
        "    field: int\n",
    ),
    "py-kube-downscaler": ("pykube, requests, PyYAML, pytz", "import pykube, pytz, requests, yaml"),
}
_PEER_FAILED = re.compile(r"Traceback|Failed to autoscale| ERROR: ")
TOOLS = ("nsshutdown", "py-kube-downscaler")
Ran = tuple[float, float, float]  # one process: wall and CPU seconds, peak RSS MiB
Floor = tuple[float, float]  # the libraries alone: wall and CPU seconds
T = TypeVar("T")


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float
    rss_mib: float
    requests: int
    apiserver_cpu: float
    load_1m: float
    breakdown: dict[str, int]
    background: dict[str, int]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.peer", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--runs", type=int, default=11, help="measured runs of each (11)")
    parser.add_argument("--namespaces", type=int, default=10, help="default: 10")
    parser.add_argument("--per-namespace", type=int, default=10, help="default: 10")
    parser.add_argument("--peer-source", type=Path, default=PEER_HOME / "py-kube-downscaler")
    parser.add_argument("--peer-python", type=Path, default=PEER_HOME / "venv" / "bin" / "python")
    parser.add_argument("--source", type=Path, default=None, help="nsshutdown package of DIR")
    parser.add_argument("--results", type=Path, default=report.RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.source is not None:
        use_source(args.source)
    return args


def missing_peer(source: Path, python: Path) -> str | None:
    """What to run when the peer's source or venv is not there; None when both are."""
    if (source / "kube_downscaler" / "__main__.py").is_file() and python.is_file():
        return None
    venv = python.parent.parent
    return (
        f"py-kube-downscaler not found (--peer-source {source}, --peer-python {python}).\n"
        "It is not on PyPI; export its source and give it a venv of its own:\n\n"
        f"  git clone {PEER_REPO} /tmp/py-kube-downscaler\n"
        f"  mkdir -p {source}\n"
        f"  git -C /tmp/py-kube-downscaler archive HEAD | tar -x -C {source}\n"
        f"  git -C /tmp/py-kube-downscaler rev-parse HEAD > {source}/COMMIT\n"
        f"  python3.11 -m venv {venv}\n"
        f"  {venv}/bin/pip install new-pykube pytz\n\n"
        f"(pin them to the versions of {source}/poetry.lock to measure what its image ships)\n"
    )


def run_peer(*, python: Path, source: Path, kubeconfig: Path, workdir: Path, label: str) -> Ran:
    """One ``--once`` process; its log is ``workdir/<label>.log``. Raises if it failed: the peer
    logs a failed loop and still exits 0."""
    memfile, log_path = workdir / f"{label}.rss", workdir / f"{label}.log"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(Path.home()), "LANG": "C.UTF-8"}
    env |= {"KUBECONFIG": str(kubeconfig), "PYTHONPATH": str(source)}
    argv = [str(python), "-c", _WRAPPER, str(memfile), *PEER_FLAGS]
    with log_path.open("wb") as log:
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=source)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
    text = log_path.read_text(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0 or _PEER_FAILED.search(text) or not memfile.exists():
        raise SystemExit(f"{label}: exit {code}\n{text[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, float(memfile.read_text())


def run_ours(*, kubeconfig: Path, schedule: Path, workdir: Path, label: str) -> Ran:
    """One ``nsshutdown run`` with the main benchmark's flags; raises unless it changed nothing."""
    flags = ["--concurrency", str(Limits().concurrency)]
    result = run_nsshutdown(
        kubeconfig=kubeconfig, schedule=schedule, workdir=workdir, label=label, extra=flags
    )
    if result.exit_code != 0 or result.actions() != 0:
        tail = result.stderr_path.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{label}: exit {result.exit_code}, {result.actions()} changed\n{tail}")
    return result.wall_seconds, result.cpu_seconds, result.max_rss_mib


def run_libraries(python: Path, tool: str, workdir: Path) -> Floor:
    """:data:`LIBRARIES` of ``tool`` imported alone by ``python``: wall and CPU seconds."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(Path.home()), "LANG": "C.UTF-8"}
    started = time.monotonic()
    proc = subprocess.Popen([str(python), "-c", LIBRARIES[tool][1]], env=env, cwd=workdir)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    if (code := os.waitstatus_to_exitcode(status)) != 0:
        raise SystemExit(f"{tool}'s libraries alone: exit {code}")
    return wall, usage.ru_utime + usage.ru_stime


class PeerBench:
    def __init__(self, cluster: LocalCluster, args: argparse.Namespace, workdir: Path) -> None:
        self.cluster, self.args, self.workdir = cluster, args, workdir
        self.api = RawApi(cluster)
        self.workloads = seed.plan_workloads(args.namespaces, args.per_namespace)
        now = datetime.now(UTC)
        self.schedule = write_schedule(workdir / "closed.yaml", now=now, window_open=False)

    def run(self) -> dict[str, list[Sample]]:
        ours = (self.args.source or Path(__file__).resolve().parent.parent) / "nsshutdown"
        compile_tree(Path(sys.executable), ours)
        compile_tree(self.args.peer_python, self.args.peer_source / "kube_downscaler")
        self.cluster.register_crds()
        report.say(f"seeded: {seed.seed(self.api, self.workloads)}")
        samples = self._alternating(
            lambda tool: self._once(tool, f"{tool}-warmup"),
            lambda tool, i: self._measured(tool, f"{tool}-{i + 1}"),
        )
        if wrong := verify.mismatches(self.api, self.workloads, down=False):
            raise SystemExit(f"workloads changed by a run that should change nothing: {wrong[:5]}")
        return samples

    def libraries(self) -> dict[str, list[Floor]]:
        """Each tool's :data:`LIBRARIES` alone, ``--runs`` times, in alternation as the runs."""
        pythons = {"nsshutdown": Path(sys.executable), "py-kube-downscaler": self.args.peer_python}
        return self._alternating(
            lambda tool: run_libraries(pythons[tool], tool, self.workdir),
            lambda tool, _: run_libraries(pythons[tool], tool, self.workdir),
        )

    def _alternating(
        self, warm_up: Callable[[str], object], measure: Callable[[str, int], T]
    ) -> dict[str, list[T]]:
        """One unmeasured ``warm_up`` of each tool, then ``--runs`` of ``measure`` each, the tools
        taking turns and the order swapping every round: both see the same load."""
        for tool in TOOLS:
            warm_up(tool)
        found: dict[str, list[T]] = {tool: [] for tool in TOOLS}
        for i in range(self.args.runs):
            for tool in TOOLS if i % 2 == 0 else TOOLS[::-1]:
                found[tool].append(measure(tool, i))
        return found

    def _once(self, tool: str, label: str) -> Ran:
        where = {"kubeconfig": self.cluster.kubeconfig_path, "workdir": self.workdir}
        if tool == "nsshutdown":
            return run_ours(schedule=self.schedule, label=label, **where)
        a = self.args
        return run_peer(python=a.peer_python, source=a.peer_source, label=label, **where)

    def _server(self) -> tuple[Counter[apimetrics.Key], apimetrics.ServerCpu]:
        time.sleep(0.2)  # let the server settle the previous run's counters
        return apimetrics.scrape(self.api), apimetrics.server_cpu(self.api, self.cluster.etcd_url)

    def _measured(self, tool: str, label: str) -> Sample:
        before = self._server()
        ran = self._once(tool, label)
        after = self._server()
        counts = apimetrics.difference(before[0], after[0])
        measured = Sample(
            *ran, counts.total,
            (after[1] - before[1]).apiserver, os.getloadavg()[0],
            counts.summary(), counts.background_summary(),
        )  # fmt: skip
        report.say(f"{label}: wall {measured.wall:.3f} s, {measured.requests} requests")
        return measured


def summary(samples: list[Sample]) -> dict[str, Any]:
    walls, requests = [s.wall for s in samples], [s.requests for s in samples]
    server_cpu = statistics.median(s.apiserver_cpu for s in samples)
    return {
        "wall_seconds_median": round(statistics.median(walls), 3),
        "wall_seconds_min": round(min(walls), 3),
        "cpu_seconds_median": round(statistics.median(s.cpu for s in samples), 3),
        "peak_rss_mib_median": round(statistics.median(s.rss_mib for s in samples), 1),
        "server_requests_median": statistics.median(requests),
        "server_requests_range": [min(requests), max(requests)],
        "apiserver_cpu_seconds_median": round(server_cpu, 3),
        "requests": samples[0].breakdown,
    }


def libraries_summary(found: list[Floor]) -> dict[str, float]:
    return {
        "wall_seconds_median": round(statistics.median(wall for wall, _ in found), 3),
        "wall_seconds_min": round(min(wall for wall, _ in found), 3),
        "cpu_seconds_median": round(statistics.median(cpu for _, cpu in found), 3),
    }


def libraries_table(summaries: dict[str, dict[str, float]]) -> str:
    rows = [
        "| libraries alone (the floor) | wall s (median) | wall s (min) | CPU s |",
        "|---|---:|---:|---:|",
    ]
    for tool, s in summaries.items():
        rows.append(
            f"| {tool}: {LIBRARIES[tool][0]} | "
            f"{s['wall_seconds_median']:.3f} | {s['wall_seconds_min']:.3f} | "
            f"{s['cpu_seconds_median']:.3f} |"
        )
    return "\n".join(rows)


def table(summaries: dict[str, dict[str, Any]]) -> str:
    head = "| tool | wall s (median) | wall s (min) | CPU s | peak RSS MiB | requests (server) |"
    rows = [head, "|---|---:|---:|---:|---:|---:|"]
    for tool, s in summaries.items():
        low, high = s["server_requests_range"]
        requests = str(low) if low == high else f"{s['server_requests_median']} ({low}-{high})"
        rows.append(
            f"| {tool} | {s['wall_seconds_median']:.3f} | {s['wall_seconds_min']:.3f} | "
            f"{s['cpu_seconds_median']:.3f} | {s['peak_rss_mib_median']:.1f} | {requests} |"
        )
    return "\n".join(rows)


def peer_info(args: argparse.Namespace) -> dict[str, Any]:
    source: Path = args.peer_source
    version = re.search(r'^version = "([^"]+)"', (source / "pyproject.toml").read_text(), re.M)
    commit = source / "COMMIT"
    pip = [str(args.peer_python), "-m", "pip", "list", "--format=freeze"]
    freeze = subprocess.run(pip, capture_output=True, text=True, check=False)
    return {
        "source": str(source),
        "version": version[1] if version else None,
        "commit": commit.read_text().strip() if commit.exists() else None,
        "flags": list(PEER_FLAGS),
        "packages": freeze.stdout.split(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if (problem := missing_peer(args.peer_source, args.peer_python)) is not None:
        report.say(problem)
        return 2
    started, load_start = datetime.now(UTC), round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="nsshutdown-peer-") as tmp, LocalCluster() as cluster:
        bench = PeerBench(cluster, args, Path(tmp))
        try:
            version = bench.api.get_json("/version").get("gitVersion", "")
            machine = report.machine_info(version, cluster.binaries.directory.name)
            samples = bench.run()
            libraries = bench.libraries()
        finally:
            bench.api.close()
    load_end = round(os.getloadavg()[0], 2)
    summaries = {tool: summary(found) for tool, found in samples.items()}
    floors = {tool: libraries_summary(found) for tool, found in libraries.items()}
    results = {
        "started": started.isoformat(),
        "machine": machine,
        "load_average_1m": {"start": load_start, "end": load_end},
        "config": {"namespaces": args.namespaces, "per_namespace": args.per_namespace,
                   "workloads": args.namespaces * args.per_namespace, "runs": args.runs,
                   "nsshutdown_flags": ["--concurrency", str(Limits().concurrency)],
                   "nsshutdown_source": str(args.source) if args.source else _checkout()},
        "peer": peer_info(args),
        "summary": summaries,
        "libraries_alone": {tool: {"code": LIBRARIES[tool][1], **floors[tool]} for tool in TOOLS},
        "samples": {tool: [asdict(s) for s in found] for tool, found in samples.items()},
    }  # fmt: skip
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"peer-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(table(summaries))
    print()
    print(libraries_table(floors))
    print(f"\n{args.runs} runs each; 1-minute load {load_start} at start, {load_end} at end")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
