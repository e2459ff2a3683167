"""What the CLI-tier tests share: the real CLI invoked in-process, schedules that are always down
or always up, the in-memory cluster put where a command connects, and a plan made by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from typer.testing import CliRunner

from nsshutdown.cli.main import app
from nsshutdown.model import Context, Desired, NamespacePlan, Plan, Reason
from nsshutdown.plan.decisions import decide
from nsshutdown.session import session
from tests.fakes import FakeCluster

NOW = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)
T = TypeVar("T")

ALWAYS_DOWN = """
version: 1
defaults: {{gracePeriod: {grace}}}
schedules:
  - name: always-down
    namespaces: {{names: ["dev-*"]}}
    windows: [{{shutdown: "* * * * *", startup: "0 0 1 1 *"}}]
"""
ALWAYS_UP = """
version: 1
defaults: {{gracePeriod: {grace}}}
schedules:
  - name: always-up
    namespaces: {{names: ["dev-*"]}}
    holidays: ["2001-01-01"]
"""


def schedule(tmp_path: Path, text: str = ALWAYS_DOWN, grace: str = "0s") -> Path:
    path = tmp_path / "schedule.yaml"
    path.write_text(text.format(grace=grace))
    return path


def cli(*args: str | Path) -> tuple[int, Any, str]:
    """Exit code, parsed JSON stdout (when JSON) and stderr."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    try:
        doc = json.loads(result.stdout)
    except ValueError:
        doc = result.stdout
    return result.exit_code, doc, result.stderr


def connect_to(monkeypatch: pytest.MonkeyPatch, fake: T, *, attribute: str = "connect") -> T:
    """Make every command that connects (``session.<attribute>``) get ``fake``.

    The options each connection was made with are kept in ``fake.connected``.
    """
    connected: list[session.ClusterOptions] = []

    def connect(options: session.ClusterOptions, **how: object) -> T:
        connected.append(options)
        fake.connected_how = how  # type: ignore[attr-defined]  # e.g. as_service_account
        return fake

    monkeypatch.setattr(session, attribute, connect)
    fake.connected = connected  # type: ignore[attr-defined]
    return fake


def plan_of(
    fake: FakeCluster, desired: Desired | dict[str, Desired], *, only: Iterable[str] | None = None
) -> Plan:
    """What the planner would produce for a manual shutdown/restore of every namespace."""
    namespaces = []
    for ns in sorted(only or fake.namespaces):
        want = desired if isinstance(desired, Desired) else desired[ns]
        ctx = Context(want, NOW, shutdown_by="nights")
        workloads = sorted(
            (w for w in fake.workloads.values() if w.namespace == ns),
            key=lambda w: (w.kind.value, w.name),
        )
        actions = tuple(decide(w, ctx) for w in workloads)
        namespaces.append(NamespacePlan(ns, want, Reason.MANUAL, actions=actions))
    return Plan(at=NOW, namespaces=tuple(namespaces))
