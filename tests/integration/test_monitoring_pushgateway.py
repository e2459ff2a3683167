"""The rules on what the tool really pushes: a real run report, pushed by nsshutdown.observe.metrics
to a real Pushgateway, scraped the way Prometheus does it (honor_labels), evaluated by promtool.

The promtool unit tests in tests/fixtures/monitoring/ use hand-written series; this proves those
series have the names and labels of the real exposition, and that the Pushgateway series the push
alert relies on (push_time_seconds, push_failure_time_seconds) exist for the group.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from devtools import LocalPushgateway
from nsshutdown.observe.metrics import METRIC_NAMES, push_report
from nsshutdown.observe.push_options import MetricsOptions
from tests.integration.tool_support import require_tool
from tests.reports import scenario
from tools.monitoring import extract_rules
from tools.monitoring.catalog import BUILTIN_METRICS

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "manifests" / "monitoring" / "prometheusrule.yaml"
PUSHGATEWAY_SERIES = {"push_time_seconds", "push_failure_time_seconds"}


def _promtool() -> str:
    return require_tool("promtool")


def _scrape(gateway: LocalPushgateway) -> list[tuple[str, dict[str, str], float]]:
    """Our group's samples as Prometheus stores them with honor_labels (empty labels dropped)."""
    samples = []
    for family in text_string_to_metric_families(gateway.metrics_text()):
        for sample in family.samples:
            if sample.labels.get("job") != "nsshutdown":
                continue
            labels = {k: v for k, v in sample.labels.items() if v}
            samples.append((sample.name, labels, sample.value))
    return samples


def _series(samples: list[tuple[str, dict[str, str], float]]) -> list[dict[str, str]]:
    out = []
    for name, labels, value in samples:
        selector = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        out.append({"series": f"{name}{{{selector}}}", "values": f"{value!r}x40"})
    return out


@pytest.fixture
def gateway(pushgateway: LocalPushgateway) -> LocalPushgateway:
    pushgateway.wipe()
    return pushgateway


def _push(gateway: LocalPushgateway, *, failed: bool) -> list[tuple[str, dict[str, str], float]]:
    options = MetricsOptions(url=gateway.url, grouping={"cluster": "it"})
    assert push_report(scenario(failed=failed), options=options, version="1.2.3") is True
    return _scrape(gateway)


def _run_promtool(
    tmp_path: Path, tests: list[dict[str, object]]
) -> subprocess.CompletedProcess[str]:
    spec = extract_rules.extract_spec(RULES.read_text(encoding="utf-8"))
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    suite = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "real.test.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    return subprocess.run(
        [_promtool(), "test", "rules", "real.test.yaml"],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def test_the_real_exposition_has_every_metric_the_rules_need(gateway: LocalPushgateway) -> None:
    names = {name for name, _, _ in _push(gateway, failed=False)}
    assert names >= METRIC_NAMES
    assert names >= PUSHGATEWAY_SERIES
    assert set(BUILTIN_METRICS) >= PUSHGATEWAY_SERIES


def _on_time_expectations(
    samples: list[tuple[str, dict[str, str], float]],
) -> list[dict[str, object]]:
    """The on-time records, computed here from the scraped down/desired-down pairs."""
    down = {lab["namespace"]: (lab, v) for n, lab, v in samples if n == "nsshutdown_namespace_down"}
    desired = {
        lab["namespace"]: v for n, lab, v in samples if n == "nsshutdown_namespace_desired_down"
    }
    tests = []
    for record, wanted in (("shutdown_on_time", 1.0), ("restore_on_time", 0.0)):
        name = f"namespace:nsshutdown_{record}:bool"
        expected = []
        for namespace, (labels, value) in sorted(down.items()):
            if desired.get(namespace) == wanted:
                selector = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
                expected.append(
                    {"labels": f"{name}{{{selector}}}", "value": float(value == wanted)}
                )
        assert expected, f"the scenario has no namespace for {record}"
        tests.append({"expr": name, "eval_time": "5m", "exp_samples": expected})
    return tests


def test_a_healthy_real_run_fires_nothing(gateway: LocalPushgateway, tmp_path: Path) -> None:
    samples = _push(gateway, failed=False)
    alerts = [rule["alert"] for group in yaml.safe_load(RULES.read_text("utf-8"))["spec"]["groups"]
              for rule in group["rules"] if "alert" in rule]  # fmt: skip
    # the timestamps are real (now), promtool's clock starts at 0: shift them to t=0
    shifted = [
        (name, labels, 0.0 if name.endswith("_time_seconds") or "timestamp" in name else value)
        for name, labels, value in samples
    ]
    proc = _run_promtool(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": _series(shifted),
                "alert_rule_test": [
                    {"eval_time": "9m", "alertname": name, "exp_alerts": []}
                    for name in sorted(set(alerts))
                ],
                "promql_expr_test": [
                    *_on_time_expectations(samples),
                    {
                        "expr": "job:nsshutdown_last_run_actions:sum",
                        "eval_time": "5m",
                        "exp_samples": [
                            {
                                "labels": "job:nsshutdown_last_run_actions:sum"
                                '{cluster="it", job="nsshutdown"}',
                                "value": sum(
                                    v
                                    for n, lab, v in samples
                                    if n == "nsshutdown_last_run_actions"
                                    and lab["action"] in {"shutdown", "restore", "release"}
                                ),
                            }
                        ],
                    },
                ],
            }
        ],
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_failed_real_run_fires_run_errors(gateway: LocalPushgateway, tmp_path: Path) -> None:
    samples = _push(gateway, failed=True)
    errors = next(v for n, _, v in samples if n == "nsshutdown_last_run_errors")
    assert errors > 0
    proc = _run_promtool(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": _series(samples),
                "promql_expr_test": [
                    {
                        "expr": 'ALERTS{alertname="NsShutdownRunErrors", alertstate="firing"}',
                        "eval_time": "15m",
                        "exp_samples": [
                            {
                                "labels": 'ALERTS{alertname="NsShutdownRunErrors", '
                                'alertstate="firing", cluster="it", job="nsshutdown", '
                                'severity="warning"}',
                                "value": 1,
                            }
                        ],
                    }
                ],
            }
        ],
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
