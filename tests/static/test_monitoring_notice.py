"""The advance notice before a namespace goes down, checked without external tools: the alert,
its one threshold (where the runbook's kustomize patch points), its runbook and the team routes.

promtool proves when it fires (tests/fixtures/monitoring/going-down-soon.test.yaml, run by
tests/integration/test_monitoring_notice_tools.py); amtool and a live Alertmanager prove the routes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from nsshutdown.observe.metrics import METRICS
from nsshutdown.observe.push_options import DEFAULT_TEAM_LABEL
from tools.monitoring import extract_rules

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "manifests" / "monitoring"
RUNBOOK = ROOT / "docs" / "runbooks" / "NsShutdownNamespaceGoingDownSoon.md"
ALERT = "NsShutdownNamespaceGoingDownSoon"
GAUGE = "nsshutdown_namespace_next_transition_timestamp_seconds"
THRESHOLD = "nsshutdown:down_notice_seconds"


def _groups() -> list[dict[str, Any]]:
    text = (MONITORING / "prometheusrule.yaml").read_text(encoding="utf-8")
    return extract_rules.extract_spec(text)["groups"]


def _alert() -> dict[str, Any]:
    return next(r for g in _groups() for r in g["rules"] if r.get("alert") == ALERT)


def _runbook_patch() -> list[dict[str, Any]]:
    """The JSON patch of the runbook's kustomize example."""
    text = RUNBOOK.read_text(encoding="utf-8")
    overlay = yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))  # type: ignore[union-attr]
    (patch,) = overlay["patches"]
    assert patch["target"] == {"kind": "PrometheusRule", "name": "nsshutdown"}
    ops: list[dict[str, Any]] = yaml.safe_load(patch["patch"])
    return ops


def test_the_gauge_is_in_the_metrics_spec() -> None:
    spec = next(s for s in METRICS if s.name == GAUGE)
    assert spec.labels == ("namespace", "schedule", "direction", "team")
    assert spec.unit == "seconds"
    assert DEFAULT_TEAM_LABEL == "team"


def test_the_threshold_is_where_the_runbook_patch_points() -> None:
    (op,) = _runbook_patch()
    assert op["op"] == "replace"
    _, spec, groups, g, rules, r, field = op["path"].split("/")
    assert (spec, groups, rules, field) == ("spec", "groups", "rules", "expr")
    rule = _groups()[int(g)]["rules"][int(r)]
    assert rule == {"record": THRESHOLD, "expr": "vector(900)"}
    assert re.fullmatch(r"vector\(\d+\)", op["value"])
    # the manifest's own comment shows the same patch
    manifest = (MONITORING / "prometheusrule.yaml").read_text(encoding="utf-8")
    assert f"path: {op['path']}" in manifest


def test_the_threshold_has_no_labels_so_every_cluster_shares_it() -> None:
    expr = _alert()["expr"]
    assert f"<= on () group_left ()\n{THRESHOLD}" in expr
    assert f'{GAUGE}{{job="nsshutdown", direction="down"}}' in expr
    assert "- time() > 0" in expr  # never once the instant has passed
    # dry runs match per Pushgateway group (job plus any grouping label), never on (job, instance)
    assert "unless ignoring (namespace, schedule, direction, team)" in expr


def test_the_alert_carries_the_wake_command_and_routes_by_team() -> None:
    alert = _alert()
    assert alert["labels"] == {"severity": "info"}  # namespace, team, ... come from the gauge
    assert alert["for"] == "0m"  # the threshold is the notice: a `for` would shorten it
    annotations = alert["annotations"]
    wake = "nsshutdown wake {{ $labels.namespace }} --for 3h"
    assert annotations["wake_command"] == wake
    assert f"`{wake}`" in annotations["description"]
    assert "{{ with $labels.team }}" in annotations["description"]


def _am() -> dict[str, Any]:
    path = MONITORING / "alertmanager" / "alertmanager.yaml"
    config: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return config


def test_the_notice_route_comes_before_the_info_route_and_splits_by_team() -> None:
    routes = _am()["route"]["routes"]
    notice, info = routes[0], routes[1]
    assert notice["matchers"] == [f'alertname="{ALERT}"']
    assert info["matchers"] == ['severity="info"']
    assert notice["receiver"] == "null"  # no team route: not notified, like any info alert
    assert "team" in notice["group_by"]
    assert "namespace" not in notice["group_by"]  # one message per team
    teams = {child["receiver"]: child["matchers"] for child in notice["routes"]}
    assert teams == {
        "team-payments": ['team="payments"'],
        "team-search": ['team="search"'],
    }
    assert not any("mute_time_intervals" in child for child in [notice, *notice["routes"]])


def test_team_receivers_show_the_description_without_resolved_noise() -> None:
    receivers = {r["name"]: r for r in _am()["receivers"]}
    for name in ("team-payments", "team-search"):
        (slack,) = receivers[name]["slack_configs"]
        assert slack["channel"] == f"#{name}"
        assert slack["send_resolved"] is False
        assert ".Annotations.description" in slack["text"]
        assert ".Alerts.Firing" in slack["text"]


def test_the_savings_dashboard_lists_the_next_transitions() -> None:
    path = MONITORING / "dashboards" / "nsshutdown-savings.json"
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    (panel,) = [p for p in dashboard["panels"] if p["title"] == "Next transition by namespace"]
    exprs = [t["expr"] for t in panel["targets"]]
    assert all(GAUGE in expr and "team" in expr and "direction" in expr for expr in exprs)
    assert all(t["instant"] and t["format"] == "table" for t in panel["targets"])
