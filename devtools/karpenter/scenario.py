"""Team namespaces to seed, and the real nsshutdown CLI to run against them.

Shared by the demo, the savings report and the integration tests, so all three tell the same story
with the same commands: the CLI runs in a subprocess (``python -m nsshutdown``), exactly as the
CronJob would, with a schedule that makes *today* a holiday for the ``env=dev`` namespaces, so
their window is open whenever this runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client

from devtools.workloads import create_deployment, create_namespace, create_statefulset

SCHEDULE = """\
version: 1
defaults:
  timezone: UTC
  gracePeriod: 0m        # the seeded workloads are seconds old
excludeNamespaces: [kube-system, kube-public, kube-node-lease, default]
schedules:
  - name: dev-nights
    namespaces:
      selector: "env=dev"
    windows:
      - shutdown: "0 20 * * 1-5"
        startup: "0 8 * * 1-5"
    holidays: ["{today}"]   # today: down all day, whenever this runs
    kinds: [Deployment, StatefulSet, CronJob]
"""


@dataclass(frozen=True)
class App:
    name: str
    replicas: int
    cpu: str
    memory: str
    kind: str = "Deployment"


@dataclass(frozen=True)
class Team:
    namespace: str
    apps: tuple[App, ...]
    labels: Mapping[str, str] = field(default_factory=lambda: {"env": "dev"})

    @property
    def pods(self) -> int:
        return sum(app.replicas for app in self.apps)


def seed(api: client.ApiClient, teams: Iterable[Team]) -> None:
    """Create the namespaces and workloads; their pods wait for Karpenter's nodes."""
    for team in teams:
        create_namespace(api, team.namespace, labels=dict(team.labels), exist_ok=True)
        for app in team.apps:
            create = create_statefulset if app.kind == "StatefulSet" else create_deployment
            create(
                api,
                team.namespace,
                app.name,
                replicas=app.replicas,
                cpu=app.cpu,
                memory=app.memory,
                exist_ok=True,
            )


def write_schedule(path: Path, *, today: datetime | None = None) -> Path:
    day = (today or datetime.now(UTC)).date().isoformat()
    path.write_text(SCHEDULE.format(today=day))
    return path


@dataclass(frozen=True)
class Cli:
    """The nsshutdown CLI bound to one cluster, schedule and (optional) Pushgateway."""

    kubeconfig: Path
    schedule: Path
    pushgateway: str = ""

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "NSSHUTDOWN_KUBECONFIG": str(self.kubeconfig),
            "NSSHUTDOWN_SCHEDULE": str(self.schedule),
            "NSSHUTDOWN_LOG_FORMAT": "text",
            "NSSHUTDOWN_LOG_LEVEL": "warning",
            # the terminal's width, or a wide default when the output is not a terminal
            "COLUMNS": str(shutil.get_terminal_size((150, 40)).columns),
        }
        if self.pushgateway:
            env["NSSHUTDOWN_PUSHGATEWAY"] = self.pushgateway
        return env

    def run(self, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "nsshutdown", *args],
            env=self.env(),
            text=True,
            capture_output=capture,
            check=False,
        )

    def json(self, *args: str) -> dict[str, Any]:
        """``nsshutdown ARGS --output json``, decoded; a non-zero exit raises with its output."""
        done = self.run(*args, "--output", "json", capture=True)
        if done.returncode != 0:
            raise RuntimeError(
                f"nsshutdown {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
            )
        result: dict[str, Any] = json.loads(done.stdout)
        return result


def estimated_savings(status: Mapping[str, Any], namespaces: Sequence[str] = ()) -> float:
    """Sum of ``estimated_hourly_savings`` in ``nsshutdown status --output json``."""
    return round(
        sum(
            float(row["estimated_hourly_savings"])
            for row in status["namespaces"]
            if not namespaces or row["namespace"] in namespaces
        ),
        6,
    )


def pushed_savings(pushgateway_url: str) -> float:
    """The sum of ``nsshutdown_estimated_hourly_savings`` the last run pushed."""
    with urllib.request.urlopen(f"{pushgateway_url}/metrics", timeout=5) as response:  # noqa: S310
        lines = response.read().decode().splitlines()
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith("nsshutdown_estimated_hourly_savings{")
    ]
    return round(sum(values), 6)
