"""``python -m bench [--quick] [--namespaces N] [--per-namespace M] [--steps ...] [--profile]``.

One invocation: start a local API server, seed it, then measure a shutdown run, a no-op run, a
restore run (each one ``nsshutdown run`` process) and the ceiling (a minimal client in this
process), print a table and write ``bench/results/<timestamp>.json``. The server is always
stopped again, whatever happens.
"""

from __future__ import annotations

import argparse
import signal
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench import nsrun, report
from bench.session import DEFAULT_STEPS, STEPS, BenchSession, KillAfter
from devtools.cluster import LocalCluster
from nsshutdown.kube import Limits


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = Limits()
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="nsshutdown at scale on a local API server: seed, then measure a shutdown, "
        "a no-op and a restore run and the server's ceiling; print a table, write JSON.",
    )
    parser.add_argument("--namespaces", type=int, default=1000, help="default: 1000")
    parser.add_argument("--per-namespace", type=int, default=10, help="default: 10")
    parser.add_argument("--quick", action="store_true", help="100 namespaces x 10 workloads")
    parser.add_argument(
        "--concurrency", type=int, default=defaults.concurrency,
        help=f"nsshutdown --concurrency and the ceiling's threads ({defaults.concurrency})",
    )  # fmt: skip
    parser.add_argument("--qps", type=float, default=None, help="nsshutdown --qps (its default)")
    parser.add_argument("--burst", type=int, default=None, help="nsshutdown --burst")
    parser.add_argument(
        "--steps", default=",".join(DEFAULT_STEPS),
        help="the measured steps, in order, comma-separated, from: " + ", ".join(STEPS)
        + "; noop-up is a run with nothing to do while every workload is up, without writes; "
        "ceiling-up is the ceiling's writes back up, shaped like a restore's "
        "(the largest sizes: --steps noop-up,shutdown,noop); killed is a shutdown stopped "
        "from outside after --kill-after seconds, then the next run (needs every workload up: "
        "put it first, e.g. --steps killed,noop,restore)",
    )  # fmt: skip
    parser.add_argument(
        "--kill-after", default=None,
        help="killed: seconds after the start of the run at which it is signalled, or a "
        "percentage (40%%) of the wall time of the shutdown step measured before it",
    )  # fmt: skip
    parser.add_argument(
        "--kill-signal", choices=("KILL", "TERM"), default="KILL",
        help="killed: SIGKILL at once (default), or SIGTERM then SIGKILL after --kill-grace, "
        "as a Job's activeDeadlineSeconds does",
    )  # fmt: skip
    parser.add_argument(
        "--kill-grace", type=float, default=30.0,
        help="killed, with --kill-signal TERM: seconds to SIGKILL (the pod's "
        "terminationGracePeriodSeconds, 30 by default)",
    )  # fmt: skip
    parser.add_argument(
        "--profile", action="store_true",
        help="also profile a no-op and a shutdown run (not in the table; with the default "
        "--qps this adds four 10,000-write runs: use --qps 0 at the default size)",
    )  # fmt: skip
    parser.add_argument(
        "--results", type=Path, default=report.RESULTS_DIR, help="where the JSON goes"
    )
    parser.add_argument(
        "--rounds", type=int, default=1,
        help="repeat the steps this many times (later rounds are reported as shutdown.2, ...): "
        "on a shared machine, interleaved repeats tell a change from the neighbours' load",
    )  # fmt: skip
    parser.add_argument(
        "--source", type=Path, default=None,
        help="run the nsshutdown package of this directory (e.g. a patched copy)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    args.steps = [step.strip() for step in args.steps.split(",") if step.strip()]
    unknown = sorted(set(args.steps) - set(STEPS))
    if unknown or not args.steps:
        parser.error(f"--steps: unknown {', '.join(unknown)}; choose from {', '.join(STEPS)}")
    if args.profile and args.steps != list(DEFAULT_STEPS):
        parser.error("--profile needs the default --steps")
    if args.rounds < 1 or (args.rounds > 1 and "killed" in args.steps):
        parser.error("--rounds: at least 1, and 1 with the killed step")
    if ("killed" in args.steps) != (args.kill_after is not None):
        parser.error("--steps killed and --kill-after go together")
    args.kill_signal = signal.Signals["SIG" + args.kill_signal]
    if args.kill_after is not None:
        args.kill_after = _kill_after(parser, args.kill_after, args.steps)
    if args.source is not None:
        nsrun.use_source(args.source)
    if args.quick:
        args.namespaces, args.per_namespace = 100, 10
    return args


def _kill_after(parser: argparse.ArgumentParser, text: str, steps: list[str]) -> KillAfter:
    percent = text.endswith("%")
    try:
        value = float(text.removesuffix("%"))
    except ValueError:
        parser.error(f"--kill-after {text}: seconds, or a percentage such as 40%")
    if value <= 0 or (percent and value >= 100):
        parser.error(f"--kill-after {text}: out of range")
    if percent and not ("shutdown" in steps and steps.index("shutdown") < steps.index("killed")):
        parser.error("--kill-after N%: needs a shutdown step before killed")
    return KillAfter(value / 100, fraction=True) if percent else KillAfter(value)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    with (
        tempfile.TemporaryDirectory(prefix="nsshutdown-bench-") as tmp,
        LocalCluster() as cluster,
    ):
        session = BenchSession(cluster, args, workdir=Path(tmp), now=started)
        try:
            results = session.run()
        finally:
            session.close()
    results["write_phases"] = report.write_phases(results["runs"])
    results["targets"] = report.evaluate(results)
    path = report.write(results, args.results)
    print(report.table(results))
    if results["write_phases"]:
        print("\nthe writes alone (each run minus the run with nothing to do before it):")
        print(report.write_phases_text(results["write_phases"]))
    print(f"\ntargets ({results['config']['workloads']} workloads):")
    print(report.targets_text(results["targets"]))
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
