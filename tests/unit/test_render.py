"""Rendering a plan with workloads: the action objects of the JSON contract, and the text tables."""

from __future__ import annotations

import io
import json

from rich.console import Console

from nsshutdown import constants as c
from nsshutdown.model import ClusterState, Kind, Namespace, Plan
from nsshutdown.plan import planner
from nsshutdown.views import plan as render
from tests.unit.builders import local, minutes, schedule, workload

SCHEDULE = schedule(
    {
        "defaults": {"timezone": "UTC"},
        "schedules": [
            {
                "name": "dev",
                "namespaces": {"names": ["dev-*"]},
                "timezone": "Europe/Madrid",
                "windows": [{"shutdown": "0 20 * * *", "startup": "0 8 * * *"}],
            }
        ],
    }
)
AT = local("2026-11-26T21:00", "Europe/Madrid")


def _plan() -> Plan:
    workloads = (
        workload("api", replicas=3),
        workload("idle", replicas=0),  # already at zero: a skip with a reason
        workload("done", replicas=0, annotations={c.ORIGINAL_REPLICAS: "2"}),  # converged: no-op
        workload("broken", replicas=1, annotations={c.ORIGINAL_REPLICAS: "x"}),
        workload("fresh", replicas=1, created=AT - minutes(1)),
        workload("nightly", kind=Kind.CRONJOB),
    )
    state = ClusterState(namespaces=(Namespace("dev-a"),), workloads=workloads)
    return planner.plan(SCHEDULE, state, AT)


def test_json_actions() -> None:
    out = json.loads(render.plan_to_json(_plan(), SCHEDULE))
    assert out["at"] == "2026-11-26T20:00:00+00:00"  # defaults.timezone (UTC)
    (ns,) = out["namespaces"]
    assert ns["next_transition"] == {"at": "2026-11-27T08:00:00+01:00", "to": "up"}  # rule zone
    actions = {a["name"]: a for a in ns["actions"]}
    assert "done" not in actions  # converged no-ops are left out
    assert actions["api"] == {
        "kind": "Deployment",
        "name": "api",
        "action": "shutdown",
        "field": "spec.replicas",
        "from": 3,
        "to": 0,
    }
    assert actions["nightly"]["from"] is False
    assert actions["nightly"]["to"] is True
    assert actions["idle"] == {
        "kind": "Deployment",
        "name": "idle",
        "action": "skip",
        "field": None,
        "from": None,
        "to": None,
        "reason": "already-at-zero",
        "message": "",
    }
    assert actions["fresh"]["reason"] == "grace-period"
    assert actions["broken"]["action"] == "error"
    assert actions["broken"]["reason"] == "corrupt-annotation"
    assert "is not a count from 0 to" in actions["broken"]["message"]


def test_text_lists_namespaces_and_actions() -> None:
    buffer = io.StringIO()
    render.render_text(_plan(), SCHEDULE, Console(file=buffer, width=160, color_system=None))
    text = buffer.getvalue()
    assert "Plan at Thu 26 Nov 20:00 UTC (UTC)" in text
    assert "up Fri 27 Nov 08:00 CET (11h)" in text
    assert "Deployment api" in text
    assert "replicas 3 → 0" in text
    assert "suspended" in text
    assert "already-at-zero" in text
    assert "Deployment done" not in text
