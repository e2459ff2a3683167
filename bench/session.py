"""The benchmark's sequence on one local API server: seed, shutdown, no-op, restore, ceiling."""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import apimetrics, ceiling, profiling, report, seed, verify
from bench.nsrun import RunResult, Stop, default_limits, run_nsshutdown, write_schedule
from bench.rawapi import RawApi
from devtools.cluster import LocalCluster

#: Every kind nsshutdown lists on each run, and where. The CRDs are registered so that each
#: kind is a real (empty) list rather than a 404.
LISTED = {
    "namespaces": "/api/v1/namespaces",
    "Deployment": "/apis/apps/v1/deployments",
    "StatefulSet": "/apis/apps/v1/statefulsets",
    "CronJob": "/apis/batch/v1/cronjobs",
    "Job": "/apis/batch/v1/jobs",
    "ScaledObject": "/apis/keda.sh/v1alpha1/scaledobjects",
    "Rollout": "/apis/argoproj.io/v1alpha1/rollouts",
}


def nsshutdown_page_size() -> int:
    """nsshutdown's list page size, wherever its kube package keeps it (500 if not found)."""
    for module in ("nsshutdown.kube.transport", "nsshutdown.kube.client"):
        try:
            return int(importlib.import_module(module).PAGE_SIZE)
        except (ImportError, AttributeError):
            continue
    return 500


PAGE_SIZE = nsshutdown_page_size()
NOOP_REPEATS = 3
#: Every step ``--steps`` can name; the first six, in this order, are the default (they end
#: where they started: every workload up).
STEPS = ("noop-up", "shutdown", "noop", "restore", "ceiling", "ceiling-up", "killed")
DEFAULT_STEPS = STEPS[:6]


@dataclass(frozen=True)
class KillAfter:
    """When ``killed`` stops its run: seconds, or a fraction of the earlier shutdown's wall."""

    value: float
    fraction: bool = False

    def seconds(self, runs: dict[str, dict[str, Any]]) -> float:
        return self.value * runs["shutdown"]["wall_seconds"] if self.fraction else self.value


class BenchSession:
    def __init__(
        self, cluster: LocalCluster, args: argparse.Namespace, *, workdir: Path, now: datetime
    ) -> None:
        self.cluster, self.args, self.workdir, self.now = cluster, args, workdir, now
        self.api = RawApi(cluster, maxsize=max(16, args.concurrency))
        self.workloads = seed.plan_workloads(args.namespaces, args.per_namespace)
        self.open_schedule = write_schedule(workdir / "open.yaml", now=now, window_open=True)
        self.closed_schedule = write_schedule(workdir / "closed.yaml", now=now, window_open=False)
        self.checks: dict[str, Any] = {}

    def close(self) -> None:
        self.api.close()

    def run(self) -> dict[str, Any]:
        report.say(f"seeding {len(self.workloads)} workloads ...")
        self.cluster.register_crds()
        seeding = seed.seed(self.api, self.workloads)
        report.say(f"seeded: {seeding}")
        self._warm_up()
        runs: dict[str, dict[str, Any]] = {}
        for number in range(1, self.args.rounds + 1):
            for step in self.args.steps:
                if step == "killed":  # two runs: the one stopped part-way, and the next one
                    runs |= self._killed(round(self.args.kill_after.seconds(runs), 2))
                else:  # rounds after the first: "shutdown.2", ...
                    runs[step if number == 1 else f"{step}.{number}"] = self._step(step)
        results = {
            "started": self.now.isoformat(),
            "machine": self._machine(),
            "config": self._config(),
            "seeding": seeding,
            "expected_noop_requests": self._expected_noop_requests(),
            "runs": runs,
            "checks": self.checks,
        }
        if self.args.profile:
            results["profiles"] = self._profile()
        return results

    # --- the measured steps --------------------------------------------------------------------

    def _step(self, step: str) -> dict[str, Any]:
        if step == "shutdown":
            return self._cli("shutdown", self.open_schedule, expect_down=True)
        if step == "noop":  # after a shutdown: everything down already
            return self._median_of(NOOP_REPEATS, "noop", self.open_schedule, expect_down=True)
        if step == "noop-up":  # before a shutdown: everything up, and the window closed
            return self._median_of(NOOP_REPEATS, "noop-up", self.closed_schedule, expect_down=False)
        if step == "restore":
            return self._cli("restore", self.closed_schedule, expect_down=False)
        return self._ceiling(up=step == "ceiling-up")

    def _measured(self) -> tuple[Counter[apimetrics.Key], apimetrics.ServerCpu]:
        """The servers' request counts and CPU time so far."""
        time.sleep(0.2)  # let the server settle the previous step's counters
        return apimetrics.scrape(self.api), apimetrics.server_cpu(self.api, self.cluster.etcd_url)

    def _since(
        self, before: tuple[Counter[apimetrics.Key], apimetrics.ServerCpu]
    ) -> tuple[apimetrics.RequestCounts, apimetrics.ServerCpu]:
        counts, cpu = self._measured()
        return apimetrics.difference(before[0], counts), cpu - before[1]

    def _cli(self, label: str, schedule: Path, *, expect_down: bool) -> dict[str, Any]:
        report.say(f"run: {label} ...")
        before = self._measured()
        result = run_nsshutdown(
            kubeconfig=self.cluster.kubeconfig_path, schedule=schedule, workdir=self.workdir,
            label=label, extra=self._cli_flags(),
        )  # fmt: skip
        counts, cpu = self._since(before)
        wrong = verify.mismatches(self.api, self.workloads, down=expect_down)
        self.checks[label] = {
            "exit_code": result.exit_code,
            "workloads_not_as_expected": len(wrong),
            "examples": wrong[:5],
        }
        if result.exit_code != 0:
            tail = result.stderr_path.read_text(errors="replace")[-2000:]
            report.say(f"{label}: exit {result.exit_code}\n{tail}")
        entry = _entry(result.wall_seconds, result.actions(), counts, cpu, client=_client(result))
        entry |= {
            "peak_rss_mib": round(result.max_rss_mib, 1),
            "cpu_seconds": round(result.cpu_seconds, 2),
            "execute_seconds": result.output.get("duration_seconds"),
            "exit_code": result.exit_code,
            "load_average_1m": round(os.getloadavg()[0], 2),
        }
        report.say(f"{label}: {entry}")
        return entry

    def _killed(self, after: float) -> dict[str, dict[str, Any]]:
        """A shutdown stopped from outside ``after`` seconds in, as a Job's deadline
        stops one, then the next run. The stopped run must leave every workload either untouched
        or fully down with its original count saved, and the next run must write exactly the
        workloads the first did not finish. Needs every workload up before (e.g. first)."""
        total = len(self.workloads)
        up_before, _, broken_before = verify.split(self.api, self.workloads)
        stop = Stop(after, self.args.kill_signal, self.args.kill_grace)
        report.say(f"run: killed ({stop.signal.name} after {stop.after} s) ...")
        before = self._measured()
        result = run_nsshutdown(
            kubeconfig=self.cluster.kubeconfig_path, schedule=self.open_schedule,
            workdir=self.workdir, label="killed", extra=self._cli_flags(), stop=stop,
        )  # fmt: skip
        counts, cpu = self._since(before)
        up, down, broken = verify.split(self.api, self.workloads)
        accepted = sum(
            n for (verb, _, code), n in counts.by_key.items()
            if verb == "PATCH" and code.startswith("2")
        )  # fmt: skip
        killed = _entry(result.wall_seconds, down, counts, cpu, client=None)
        killed |= {
            "peak_rss_mib": None,  # the wrapper that reads it does not run when signalled
            "cpu_seconds": round(result.cpu_seconds, 2),
            "exit_code": result.exit_code,
            "signals": [list(s) for s in result.signals],
            "load_average_1m": round(os.getloadavg()[0], 2),
        }
        killed["writes_accepted"] = accepted
        report.say(f"killed: {killed}")
        report.say(f"after the kill: {down} down, {up} untouched, {len(broken)} neither")
        nxt = self._cli("killed-next", self.open_schedule, expect_down=True)
        self.checks["killed"] = {
            "all_up_before": up_before == total and not broken_before,
            "stopped_while_writing": bool(result.signals) and 0 < down < total,
            "signals": killed["signals"],
            "exit_code": result.exit_code,
            "down_after_kill": down,
            "untouched_after_kill": up,
            "neither_after_kill": len(broken),
            "examples": broken[:5],
            "killed_run_server_writes": killed["server_writes"],
            "killed_run_writes_accepted": accepted,
            "next_run_changed": nxt["changed"],
            "next_run_server_writes": nxt["server_writes"],
            "next_run_writes_are_the_rest": nxt["server_writes"] == nxt["changed"] == total - down,
        }
        report.say(f"killed, then the next run: {self.checks['killed']}")
        return {"killed": killed, "killed-next": nxt}

    def _median_of(
        self, times: int, label: str, schedule: Path, *, expect_down: bool
    ) -> dict[str, Any]:
        """A run that changes nothing, repeated: the one with the median wall time, plus all walls
        (a few seconds on a shared 2-core machine are easily disturbed by its neighbours)."""
        runs = [
            self._cli(f"{label}-{i + 1}", schedule, expect_down=expect_down) for i in range(times)
        ]
        runs.sort(key=lambda r: r["wall_seconds"])
        median = dict(runs[len(runs) // 2])
        median["wall_seconds_all"] = sorted(r["wall_seconds"] for r in runs)
        median["peak_rss_mib"] = max(r["peak_rss_mib"] for r in runs)
        return median

    def _ceiling(self, *, up: bool) -> dict[str, Any]:
        label = "ceiling-up" if up else "ceiling"
        report.say(f"{label} ...")
        versions = ceiling.resource_versions(verify.observed(self.api), self.workloads)
        before = self._measured()
        result = ceiling.measure(
            self.api, self.workloads, versions, concurrency=self.args.concurrency, up=up
        )
        counts, cpu = self._since(before)
        entry = _entry(result.wall_seconds, result.patches, counts, cpu, client=result.patches)
        entry["cpu_seconds"] = round(result.cpu_seconds, 2)
        entry["load_average_1m"] = round(os.getloadavg()[0], 2)
        wrong = verify.mismatches(self.api, self.workloads, down=not up)
        self.checks[label] = {"workloads_not_as_expected": len(wrong), "examples": wrong[:5]}
        report.say(f"{label}: {entry}")
        return entry

    def _profile(self) -> dict[str, Any]:
        """The default steps leave every workload up: weigh a shutdown's steps (which shuts
        down); profile a no-op and weigh its steps; restore; profile a shutdown; restore. The
        restores are not reported."""
        kw = {"kubeconfig": self.cluster.kubeconfig_path, "extra": self._cli_flags()}
        out: dict[str, Any] = {}
        report.say("profiling: shutdown steps ...")
        phases = profiling.phases(schedule=self.open_schedule, write=True, **kw)
        report.say("profiling: no-op ...")
        out["noop"] = profiling.profile_cli(
            schedule=self.open_schedule, workdir=self.workdir, label="noop",
            results_dir=self.args.results, **kw,
        )  # fmt: skip
        out["noop"]["phases"] = profiling.phases(schedule=self.open_schedule, write=True, **kw)
        self._plain_restore("profile-restore-1")
        report.say("profiling: shutdown ...")
        out["shutdown"] = profiling.profile_cli(
            schedule=self.open_schedule, workdir=self.workdir, label="shutdown",
            results_dir=self.args.results, **kw,
        )  # fmt: skip
        out["shutdown"]["phases"] = phases
        self._plain_restore("profile-restore-2")
        return out

    def _plain_restore(self, label: str) -> None:
        run_nsshutdown(
            kubeconfig=self.cluster.kubeconfig_path, schedule=self.closed_schedule,
            workdir=self.workdir, label=label, extra=self._cli_flags(),
        )  # fmt: skip

    # --- helpers -------------------------------------------------------------------------------

    def _cli_flags(self) -> list[str]:
        flags = ["--concurrency", str(self.args.concurrency)]
        if self.args.qps is not None:
            flags += ["--qps", str(self.args.qps)]
        if self.args.burst is not None:
            flags += ["--burst", str(self.args.burst)]
        return flags

    def _warm_up(self) -> None:
        """One throwaway process, so the first measured run does not pay a cold page cache."""
        run_nsshutdown(
            kubeconfig=self.cluster.kubeconfig_path, schedule=self.open_schedule,
            workdir=self.workdir, label="warmup", extra=["--dry-run=client"],
        )  # fmt: skip

    def _expected_noop_requests(self) -> int:
        counts = {}
        for kind, path in LISTED.items():
            doc = self.api.get_json(path + "?limit=1")
            remaining = int((doc.get("metadata") or {}).get("remainingItemCount") or 0)
            counts[kind] = len(doc.get("items") or []) + remaining
        return report.expected_list_requests(counts, PAGE_SIZE)

    def _config(self) -> dict[str, Any]:
        a = self.args
        return {
            "namespaces": a.namespaces, "per_namespace": a.per_namespace,
            "workloads": len(self.workloads), "concurrency": a.concurrency,
            "qps": a.qps, "burst": a.burst, "page_size": PAGE_SIZE, "rounds": a.rounds,
            "nsshutdown_flags": self._cli_flags(),
            "nsshutdown_source": str(a.source) if a.source else _checkout(),
            "nsshutdown_default_limits": default_limits(self.workdir),
        }  # fmt: skip

    def _machine(self) -> dict[str, Any]:
        version = self.api.get_json("/version").get("gitVersion", "")
        return report.machine_info(version, self.cluster.binaries.directory.name)


def _checkout() -> str:
    """The checkout's commit, marked ``+changes`` when nsshutdown/ differs from it."""
    try:
        head = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--", "nsshutdown")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}+changes" if dirty else head


def _git(*args: str) -> str:
    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _client(result: RunResult) -> int | None:
    value = result.output.get("api_requests")
    return int(value) if value is not None else None


def _entry(
    wall: float,
    changed: int,
    counts: apimetrics.RequestCounts,
    cpu: apimetrics.ServerCpu,
    *,
    client: int | None,
) -> dict[str, Any]:
    server = counts.total
    return {
        "wall_seconds": round(wall, 3),
        "changed": changed,
        "client_requests": client,
        "server_requests": server,
        "server_writes": counts.verb("PATCH") + counts.verb("PUT") + counts.verb("POST"),
        "requests_per_changed": round(server / changed, 3) if changed else None,
        "throughput_per_second": round(changed / wall, 1) if wall else 0.0,
        "server_cpu_seconds": {"apiserver": round(cpu.apiserver, 2), "etcd": round(cpu.etcd, 2)},
        "server_breakdown": counts.summary(),
        "server_background": counts.background_summary(),
    }
