"""``python -m bench.phases``: the steps of ``nsshutdown run``, one at a time, timed and weighed.

The same calls the ``run`` command makes (open_session, observe, plan, execute, the JSON report
and the per-action log lines), each followed by its wall time, the process's current RSS and its
peak RSS so far. Prints one JSON object. Without ``--write`` the execution is a client dry-run.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any


def _rss_mib() -> tuple[float, float]:
    """Current and peak RSS of this address space (``ru_maxrss`` would include the parent's)."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return (
        round(int(status["VmRSS"].split()[0]) / 1024, 1),
        round(int(status["VmHWM"].split()[0]) / 1024, 1),
    )


class Steps:
    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self._last = time.perf_counter()

    def mark(self, name: str, **extra: Any) -> None:
        now = time.perf_counter()
        current, peak = _rss_mib()
        self.steps.append({"step": name, "seconds": round(now - self._last, 3),
                           "rss_mib": current, "peak_rss_mib": peak, **extra})  # fmt: skip
        self._last = now


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--schedule", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--qps", type=float, default=None)
    parser.add_argument("--burst", type=int, default=None)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    steps = Steps()
    steps.mark("interpreter")
    from nsshutdown.cli import converge  # noqa: F401 - what the CLI imports

    steps.mark("import nsshutdown.cli.main (with kubernetes)")
    print(json.dumps({"steps": _run(args, steps)}, indent=1))


def _run(args: argparse.Namespace, steps: Steps) -> list[dict[str, Any]]:
    import logging
    from dataclasses import replace
    from datetime import UTC, datetime

    from nsshutdown.kube import Limits
    from nsshutdown.observe import logs
    from nsshutdown.observe.logs import LogFormat, LogLevel
    from nsshutdown.run.report import DryRun
    from nsshutdown.session.session import ClusterOptions, open_session
    from nsshutdown.session.sources import ScheduleSource
    from nsshutdown.views.run import report_to_json

    limits = Limits(concurrency=args.concurrency)
    if args.qps is not None:
        limits = replace(limits, qps=args.qps)
    if args.burst is not None:
        limits = replace(limits, burst=args.burst)
    with Path(os.devnull).open("w") as sink:
        logs.configure(fmt=LogFormat.JSON, level=LogLevel.INFO, run_id="bench", stream=sink)
        session = open_session(
            ScheduleSource(file=args.schedule),
            ClusterOptions(kubeconfig=args.kubeconfig, limits=limits),
            now=datetime.now(UTC), schedule_required=True,
        )  # fmt: skip
        steps.mark("load schedule + connect")
        state = session.observe()
        steps.mark("observe (list + parse)", workloads=len(state.workloads))
        plan = session.plan(state)
        steps.mark("plan", actions=len(plan.actions()))
        dry_run = DryRun.NONE if args.write else DryRun.CLIENT
        run = session.execute(plan, dry_run=dry_run, run_id="bench")
        steps.mark("execute", dry_run=str(dry_run), api_requests=run.api_requests)
        logger = logging.getLogger("nsshutdown.cli.converge")
        lines = 0
        for ns in run.namespaces:
            for result in ns.results:
                if result.action.writes or result.action.reason is not None:
                    logs.log_action(logger, result)
                    lines += 1
        steps.mark("log lines", lines=lines)
        text = report_to_json(run, session.schedule, at=session.now)
        steps.mark("render --output json", bytes=len(text))
    return steps.steps


if __name__ == "__main__":
    main()
