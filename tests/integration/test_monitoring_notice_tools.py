"""The advance notice end to end with the real tools: the next-transition gauge through a real
Pushgateway, NsShutdownNamespaceGoingDownSoon in promtool (its unit tests, mutants of the rule, the
runbook's kustomize patch of the threshold, the real exposition) and the team routes in amtool.

A missing tool skips locally and fails when CI=true (tests/integration/tool_support.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from devtools import LocalPushgateway
from nsshutdown.model import Desired, Namespace, Transition
from nsshutdown.observe.metrics import push_report
from nsshutdown.observe.push_options import MetricsOptions
from tests.integration.test_monitoring_tools import _kubectl_or_skip
from tests.integration.tool_support import require_tool
from tests.reports import EVENING, MORNING, dev_a, qa, report, scenario
from tools.monitoring import extract_rules

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "manifests" / "monitoring"
MANIFEST = MONITORING / "prometheusrule.yaml"
FIXTURE = ROOT / "tests" / "fixtures" / "monitoring" / "going-down-soon.test.yaml"
RUNBOOK = ROOT / "docs" / "runbooks" / "NsShutdownNamespaceGoingDownSoon.md"
ALERTMANAGER = MONITORING / "alertmanager" / "alertmanager.yaml"
ALERT = "NsShutdownNamespaceGoingDownSoon"
GAUGE = "nsshutdown_namespace_next_transition_timestamp_seconds"
WAKE = "nsshutdown wake {ns} --for 3h"
RUNBOOK_URL = f"https://github.com/nsshutdown/nsshutdown/blob/main/docs/runbooks/{ALERT}.md"

Samples = list[tuple[str, dict[str, str], float]]


def _selector(labels: dict[str, str]) -> str:
    """``{k="v", ...}`` as Prometheus stores a scraped series: empty labels dropped."""
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if v) + "}"


def _run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_tool("promtool")


def _promtool_test(promtool: str, workdir: Path, spec: dict[str, Any], suite: Any) -> str:
    """Run ``suite`` (a path to copy, or a dict) against the rule ``spec``; promtool's output."""
    (workdir / "nsshutdown.rules.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    target = workdir / "notice.test.yaml"
    if isinstance(suite, Path):
        shutil.copy(suite, target)
    else:
        target.write_text(yaml.safe_dump(suite), encoding="utf-8")
    proc = _run(promtool, "test", "rules", target.name, cwd=workdir)
    return f"rc={proc.returncode}\n{proc.stdout}{proc.stderr}"


def _spec(manifest: str | None = None) -> dict[str, Any]:
    return extract_rules.extract_spec(manifest or MANIFEST.read_text(encoding="utf-8"))


# --- promtool: the unit tests, and that they catch a broken rule ---------------------------------


def test_the_notice_unit_tests_pass(promtool: str, tmp_path: Path) -> None:
    out = _promtool_test(promtool, tmp_path, _spec(), FIXTURE)
    assert out.startswith("rc=0"), out
    assert "SUCCESS" in out


@pytest.mark.parametrize(
    ("original", "mutant", "failure"),
    [
        pytest.param("<= on () group_left ()", "< on () group_left ()", "time: 45m",
                     id="a-minute-late"),
        pytest.param("expr: vector(900)", "expr: vector(960)", "time: 44m", id="a-minute-early"),
        pytest.param("- time() > 0", "- time() >= 0", "time: 1h,", id="fires-once-down"),
        pytest.param('direction="down"}', 'direction=~".+"}', "time: 45m", id="fires-for-up"),
        pytest.param("unless ignoring (namespace, schedule, direction, team)\n",
                     "or ignoring (namespace, schedule, direction, team)\n",
                     "time: 50m", id="fires-in-a-dry-run"),
        pytest.param("wake_command: nsshutdown wake {{ $labels.namespace }} --for 3h",
                     "wake_command: nsshutdown wake --for 3h",
                     "time: 45m", id="wake-command-without-namespace"),
    ],
)  # fmt: skip
def test_the_unit_tests_catch_a_broken_rule(
    promtool: str, tmp_path: Path, original: str, mutant: str, failure: str
) -> None:
    manifest = MANIFEST.read_text(encoding="utf-8")
    assert original in manifest
    out = _promtool_test(promtool, tmp_path, _spec(manifest.replace(original, mutant, 1)), FIXTURE)
    assert not out.startswith("rc=0"), out
    assert failure in out


# --- the threshold: the runbook's kustomize patch really changes it ------------------------------


def _runbook_overlay() -> dict[str, Any]:
    text = RUNBOOK.read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert match, "the runbook shows the overlay as a yaml block"
    overlay: dict[str, Any] = yaml.safe_load(match.group(1))
    return overlay


def _alert_case(eval_time: str, *, ns: str = "dev-a", left: str = "", **labels: str) -> Any:
    """One alert_rule_test case: firing for ``ns`` with ``left`` to go, or silent."""
    if not left:
        return {"eval_time": eval_time, "alertname": ALERT, "exp_alerts": []}
    team = labels.get("team", "")
    description = (
        f"nsshutdown scales namespace {ns}{f' of team {team}' if team else ''} down in {left}"
        f" (schedule {labels['schedule']}): its workloads go to zero replicas. To keep it up for"
        f" three more hours from now, run `{WAKE.format(ns=ns)}`."
    )
    return {
        "eval_time": eval_time,
        "alertname": ALERT,
        "exp_alerts": [
            {
                "exp_labels": {"severity": "info", "namespace": ns, **labels},
                "exp_annotations": {
                    "summary": f"Namespace {ns} is scaled down by nsshutdown soon.",
                    "description": description,
                    "wake_command": WAKE.format(ns=ns),
                    "runbook_url": RUNBOOK_URL,
                },
            }
        ],
    }


def test_the_runbook_patch_sets_the_notice_to_30_minutes(promtool: str, tmp_path: Path) -> None:
    overlay = _runbook_overlay()
    (patch,) = overlay["patches"]
    assert yaml.safe_load(patch["patch"])[0]["value"] == "vector(1800)"
    (tmp_path / "overlay").mkdir()
    overlay["resources"] = [os.path.relpath(MONITORING, tmp_path / "overlay")]  # must be relative
    (tmp_path / "overlay" / "kustomization.yaml").write_text(yaml.safe_dump(overlay), "utf-8")
    proc = _run(_kubectl_or_skip(), "kustomize", str(tmp_path / "overlay"))
    assert proc.returncode == 0, proc.stderr
    rule = next(d for d in yaml.safe_load_all(proc.stdout) if d["kind"] == "PrometheusRule")
    assert rule["spec"]["groups"][0]["rules"][0]["expr"] == "vector(1800)"
    labels = {"job": "nsshutdown", "schedule": "nights", "direction": "down", "team": "payments"}
    suite = {
        "rule_files": ["nsshutdown.rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {
                        "series": GAUGE + _selector({**labels, "namespace": "dev-a"}),
                        "values": "3600x70",
                    },
                    {"series": 'nsshutdown_last_run_dry_run{job="nsshutdown"}', "values": "0x70"},
                ],
                "alert_rule_test": [
                    _alert_case("29m"),
                    _alert_case("30m", left="30m 0s", **labels),
                ],
            }
        ],
    }
    out = _promtool_test(promtool, tmp_path, rule["spec"], suite)
    assert out.startswith("rc=0"), out


# --- the real exposition: what nsshutdown pushes is what the rule reads --------------------------


@pytest.fixture
def gateway(pushgateway: LocalPushgateway) -> LocalPushgateway:
    pushgateway.wipe()
    return pushgateway


TEAMS = [Namespace("qa", labels={"example.com/owner": "quality"}), Namespace("dev-a")]


def _push(gateway: LocalPushgateway, run: Any) -> Samples:
    options = MetricsOptions.from_cli(
        pushgateway=gateway.url, pushgateway_grouping=["cluster=it"], team_label="example.com/owner"
    )
    assert push_report(run, options=options, version="1.2.3", namespaces=TEAMS) is True
    samples = []
    for family in text_string_to_metric_families(gateway.metrics_text()):
        for sample in family.samples:
            if sample.name == GAUGE:
                samples.append((sample.name, dict(sample.labels), sample.value))
    return samples


def test_the_gauge_arrives_with_its_labels(gateway: LocalPushgateway) -> None:
    seen = _push(gateway, scenario())
    group = {"job": "nsshutdown", "cluster": "it", "instance": ""}
    assert sorted(seen, key=lambda s: s[1]["namespace"]) == [
        (GAUGE, {**group, "namespace": "dev-a", "schedule": "nights", "direction": "up",
                 "team": ""}, MORNING.timestamp()),
        (GAUGE, {**group, "namespace": "qa", "schedule": "nights", "direction": "down",
                 "team": "quality"}, EVENING.timestamp()),
    ]  # fmt: skip


def test_a_flipped_direction_replaces_the_series(gateway: LocalPushgateway) -> None:
    _push(gateway, scenario())
    # the next run: qa went down at EVENING, so its next transition is up the morning after
    down_qa = qa()
    plan = replace(
        down_qa.plan,
        desired=Desired.DOWN,
        next_transition=Transition(MORNING.replace(day=28), Desired.UP),
    )
    run = replace(report(dev_a(), replace(down_qa, plan=plan)), finished=EVENING)
    seen = _push(gateway, run)
    qa_series = [labels for _, labels, _ in seen if labels["namespace"] == "qa"]
    assert [s["direction"] for s in qa_series] == ["up"]


def test_the_alert_fires_on_the_real_exposition(
    gateway: LocalPushgateway, promtool: str, tmp_path: Path
) -> None:
    """The scraped series, moved in time so that qa goes down at promtool's t=60m."""
    shift = EVENING.timestamp() - 3600
    input_series = [
        {"series": name + _selector(labels), "values": f"{value - shift!r}x70"}
        for name, labels, value in _push(gateway, scenario())
    ]
    input_series.append(
        {"series": 'nsshutdown_last_run_dry_run{cluster="it", job="nsshutdown"}', "values": "0x70"}
    )
    labels = {"job": "nsshutdown", "cluster": "it", "schedule": "nights", "direction": "down"}
    suite = {
        "rule_files": ["nsshutdown.rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": input_series,
                "alert_rule_test": [
                    _alert_case("44m"),
                    _alert_case("45m", ns="qa", left="15m 0s", team="quality", **labels),
                ],
            }
        ],
    }
    out = _promtool_test(promtool, tmp_path, _spec(), suite)
    assert out.startswith("rc=0"), out


# --- amtool: the example routes reach the team --------------------------------------------------


@pytest.mark.parametrize(
    ("team", "receiver"),
    [
        pytest.param("team=payments", "team-payments", id="payments"),
        pytest.param("team=search", "team-search", id="search"),
        pytest.param("team=unknown", "null", id="team-without-a-route"),
        pytest.param("", "null", id="no-team-label"),
    ],
)
def test_amtool_routes_the_notice_to_its_team(team: str, receiver: str) -> None:
    amtool = require_tool("amtool")
    labels = [f"alertname={ALERT}", "severity=info", "job=nsshutdown", "namespace=dev-a"]
    proc = _run(
        amtool, "config", "routes", "test", f"--config.file={ALERTMANAGER}",
        f"--verify.receivers={receiver}", *labels, *([team] if team else []),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == receiver
