"""The story ``make demo`` tells: one night of nsshutdown on the seeded local cluster.

Every step runs the real CLI (``python -m nsshutdown``) in a subprocess, exactly as an SRE or the
CronJob would, against the throwaway cluster's kubeconfig. The schedule makes *today* a holiday
for the dev and qa namespaces, so "down now" holds whenever the demo is run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

SCHEDULE = """\
version: 1
defaults:
  timezone: UTC
  gracePeriod: 0m        # the demo's workloads are seconds old
excludeNamespaces: [kube-system, kube-public, kube-node-lease, default]
schedules:
  - name: dev-and-qa-off-hours
    namespaces:
      selector: "env in (dev,qa)"
    windows:
      - shutdown: "0 20 * * 1-5"
        startup: "0 8 * * 1-5"
    holidays: ["{today}"]   # today: down all day, whenever the demo runs
    kinds: [Deployment, StatefulSet, CronJob, ScaledObject, Rollout]
"""

Step = tuple[str, tuple[str, ...], frozenset[int]]

#: (title, arguments after ``nsshutdown``, exit codes that count as success)
NIGHT: tuple[Step, ...] = (
    ("Check the schedule, as CI would", ("validate",), frozenset({0})),
    ("Check it against the live namespaces", ("validate", "--cluster"), frozenset({0})),
    ("What would a run do now?", ("plan",), frozenset({0})),
    ("The CronJob's run: scale down, push metrics", ("run", "--events"), frozenset({0})),
    ("Where every namespace stands", ("status",), frozenset({0})),
    ("A second run changes nothing (level-triggered)", ("run",), frozenset({0})),
)
MORNING: tuple[Step, ...] = (
    ("An SRE needs dev-a for an hour tonight", ("wake", "dev-a", "--for", "1h"), frozenset({0})),
    ("Morning: bring everything back", ("restore", "--all"), frozenset({0})),
    ("Where every namespace stands", ("status",), frozenset({0})),
)


def run_story(kubeconfig: Path, pushgateway_url: str, *, workdir: Path) -> bool:
    """Run every step; return True when any step failed."""
    schedule = workdir / "demo-schedule.yaml"
    schedule.write_text(SCHEDULE.format(today=datetime.now(UTC).date().isoformat()))
    env = {
        **os.environ,
        "NSSHUTDOWN_KUBECONFIG": str(kubeconfig),
        "NSSHUTDOWN_SCHEDULE": str(schedule),
        "NSSHUTDOWN_PUSHGATEWAY": pushgateway_url,
        "NSSHUTDOWN_LOG_FORMAT": "text",
        "NSSHUTDOWN_LOG_LEVEL": "warning",
        # the terminal's width, or a wide default when the output is not a terminal
        "COLUMNS": str(shutil.get_terminal_size((150, 40)).columns),
    }
    print(f"\nSchedule ({schedule.name}):\n{schedule.read_text()}")
    failed = False
    for number, (title, args, ok_codes) in enumerate(NIGHT, start=1):
        failed |= not _step(number, title, args, ok_codes, env=env)
    _show_metrics(pushgateway_url)
    for number, (title, args, ok_codes) in enumerate(MORNING, start=len(NIGHT) + 1):
        failed |= not _step(number, title, args, ok_codes, env=env)
    verdict = "FAILED: see the steps above." if failed else "finished: every step OK."
    print(f"\nThe demo {verdict}")
    return failed


def _step(
    number: int, title: str, args: tuple[str, ...], ok_codes: frozenset[int], *, env: dict[str, str]
) -> bool:
    print(f"\n=== {number}. {title}\n$ nsshutdown {' '.join(args)}", flush=True)
    done = subprocess.run([sys.executable, "-m", "nsshutdown", *args], env=env, check=False)
    if done.returncode not in ok_codes:
        print(f"!!! exit code {done.returncode}", flush=True)
        return False
    return True


def _show_metrics(pushgateway_url: str) -> None:
    """What the Pushgateway holds now: the gauges Prometheus would scrape and alert on."""
    wanted = (
        "nsshutdown_last_success_timestamp_seconds",
        "nsshutdown_namespaces{",
        "nsshutdown_replicas_held{",
        "nsshutdown_estimated_hourly_savings{",
    )
    with urllib.request.urlopen(f"{pushgateway_url}/metrics", timeout=5) as response:  # noqa: S310
        lines = response.read().decode().splitlines()
    print(f"\n=== Metrics on the Pushgateway ({pushgateway_url}/metrics), an excerpt")
    for line in lines:
        if line.startswith(wanted):
            print(f"  {line}")
