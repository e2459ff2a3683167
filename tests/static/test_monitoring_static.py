"""Monitoring as code, checked without external tools: rules policy, runbooks, dashboards,
Alertmanager structure, and the helpers behind `make lint-monitoring`.

The promtool/amtool/kubectl tests are in tests/integration/test_monitoring_tools.py.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from nsshutdown.observe.metrics import METRICS
from tools.monitoring import catalog, check_dashboards, check_rules, extract_rules, promql

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "manifests" / "monitoring"
RULE_MANIFEST = MONITORING / "prometheusrule.yaml"
RULE_TESTS = ROOT / "tests" / "fixtures" / "monitoring" / "nsshutdown.test.yaml"
#: Every promtool test file, as `make lint-monitoring` runs them.
ALL_RULE_TESTS = sorted(RULE_TESTS.parent.glob("*.test.yaml"))
BAD = ROOT / "tests" / "fixtures" / "monitoring" / "bad"
RUNBOOKS = ROOT / "docs" / "runbooks"
DASHBOARDS = sorted((MONITORING / "dashboards").glob("*.json"))
ALERTMANAGER = MONITORING / "alertmanager" / "alertmanager.yaml"

EXPECTED_UIDS = {"nsshutdown-overview", "nsshutdown-savings", "nsshutdown-sla"}


def _groups() -> list[dict[str, Any]]:
    return extract_rules.extract_spec(RULE_MANIFEST.read_text(encoding="utf-8"))["groups"]


def _alerts() -> list[dict[str, Any]]:
    return [rule for group in _groups() for rule in group["rules"] if "alert" in rule]


def _emitted() -> dict[str, frozenset[str]]:
    return catalog.emitted_metrics()


# --- the metric catalog comes from the package ---------------------------------------------------


def test_catalog_reads_the_package_metrics_spec() -> None:
    emitted = _emitted()
    assert set(emitted) == {spec.name for spec in METRICS}
    assert emitted["nsshutdown_namespace_down"] == {"namespace", "schedule"}


def test_catalog_refuses_a_module_without_metrics() -> None:
    with pytest.raises(catalog.MetricsModuleError, match="no METRICS"):
        catalog.emitted_metrics("nsshutdown.constants")
    with pytest.raises(catalog.MetricsModuleError, match="cannot import"):
        catalog.emitted_metrics("nsshutdown.no_such_module")


# --- PromQL reference extraction -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        pytest.param('up{job="pushgateway"}', {"up": {"job"}}, id="selector"),
        pytest.param(
            'sum by (namespace) (rate(a{x="1"}[5m:1m] offset 1h))', {"a": {"x"}}, id="by-range"
        ),
        pytest.param(
            "a / on (job, instance) group_left (version) b unless c",
            {"a": set(), "b": set(), "c": set()},
            id="vector-matching-lists-are-labels",
        ),
        pytest.param('{__name__="a", job="j"}', {"a": {"job"}}, id="name-matcher"),
        pytest.param("time() - max(a) > bool 2 * 300 and Inf", {"a": set()}, id="keywords"),
        pytest.param(
            'label_replace(a, "dst", "$1", "src", "(.*)")', {"a": set()}, id="strings-ignored"
        ),
        pytest.param(
            "quantile_over_time(0.99, ns:rec:avg_1w[1w]) # comment mentions b",
            {"ns:rec:avg_1w": set()},
            id="recorded-and-comment",
        ),
        pytest.param("sum(a) without (kind)", {"a": set()}, id="trailing-without"),
    ],
)
def test_selectors(expr: str, expected: dict[str, set[str]]) -> None:
    found: dict[str, set[str]] = {}
    for selector in promql.selectors(expr):
        found.setdefault(selector.metric, set()).update(selector.labels)
    assert found == expected


def test_grafana_variables_become_valid_promql() -> None:
    expr = 'avg_over_time(a{ns=~"$namespace"}[$__range]) * $__range_s / ${__interval_ms}'
    assert (
        promql.substitute_grafana_variables(expr)
        == 'avg_over_time(a{ns=~"var"}[1h]) * 3600 / 60000'
    )
    assert promql.substitute_grafana_variables("rate(a[$__rate_interval])") == "rate(a[2m])"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('label_values(a{job="x"}, namespace)', 'a{job="x"}'),
        ("label_values(namespace)", None),
        ("query_result(topk(3, a))", "topk(3, a)"),
        ("sum(a)", "sum(a)"),
    ],
)
def test_template_query_expr(query: str, expected: str | None) -> None:
    assert promql.template_query_expr(query) == expected


def test_catalog_problems_name_unknown_metrics_and_labels() -> None:
    cat = catalog.Catalog(emitted={"m": frozenset({"namespace"})}, recorded=frozenset({"r:m"}))
    assert cat.problems('m{namespace="a", job="j"} + r:m + up') == []
    assert cat.problems('m{team="a"} + unknown') == [
        "m has no label(s) team",
        "unknown metric unknown (not emitted, recorded or built-in)",
    ]


# --- rule extraction -----------------------------------------------------------------------------


def test_extract_spec_is_the_manifest_spec() -> None:
    manifest = yaml.safe_load(RULE_MANIFEST.read_text(encoding="utf-8"))
    assert extract_rules.extract_spec(RULE_MANIFEST.read_text(encoding="utf-8")) == {
        "groups": manifest["spec"]["groups"]
    }


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("kind: ConfigMap\n", id="none"),
        pytest.param("kind: PrometheusRule\nspec: {groups: []}\n---\n" * 2, id="two"),
        pytest.param("kind: PrometheusRule\nspec: {}\n", id="no-groups"),
    ],
)
def test_extract_spec_rejects(text: str) -> None:
    with pytest.raises(extract_rules.RuleManifestError):
        extract_rules.extract_spec(text)


def test_extract_rules_cli_writes_a_plain_rule_file(tmp_path: Path) -> None:
    out = tmp_path / "rules.yaml"
    assert extract_rules.main([str(RULE_MANIFEST), "-o", str(out)]) == 0
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["groups"] == _groups()
    assert extract_rules.main([str(BAD / "dashboard.json"), "-o", str(out)]) == 1


# --- alert policy --------------------------------------------------------------------------------


def test_the_real_rules_follow_the_policy() -> None:
    problems = check_rules.check(
        _groups(), emitted=_emitted(), runbooks=RUNBOOKS, test_files=ALL_RULE_TESTS
    )
    assert problems == []


def test_the_required_alerts_exist() -> None:
    by_name: dict[str, set[str]] = {}
    for rule in _alerts():
        by_name.setdefault(rule["alert"], set()).add(rule["labels"]["severity"])
    assert by_name == {
        "NsShutdownJobNotSucceeding": {"warning", "critical"},
        "NsShutdownMetricsAbsent": {"warning"},
        "NsShutdownRunErrors": {"warning"},
        "NsShutdownRestoreLate": {"critical"},
        "NsShutdownCircuitBreakerOpen": {"warning"},
        "NsShutdownPushFailing": {"warning"},
        "NsShutdownRunDurationNearDeadline": {"warning"},
        "NsShutdownRunDurationAnomaly": {"warning"},
        "NsShutdownDryRun": {"info"},
        "NsShutdownNamespaceGoingDownSoon": {"info"},
    }


def _rule(name: str) -> dict[str, Any]:
    return next(rule for rule in _alerts() if rule["alert"] == name)


def test_predictive_and_anomaly_rules_are_guarded() -> None:
    near = _rule("NsShutdownRunDurationNearDeadline")
    assert "predict_linear(" in near["expr"]
    assert near["for"]
    assert re.search(r"\band\s+nsshutdown_run_duration_seconds\{[^}]*\} > \d+", near["expr"])
    anomaly = _rule("NsShutdownRunDurationAnomaly")
    assert "zscore_1w" in anomaly["expr"]
    assert anomaly["for"]
    zscore = next(
        rule["expr"]
        for group in _groups()
        for rule in group["rules"]
        if rule.get("record") == "job:nsshutdown_run_duration_seconds:zscore_1w"
    )
    assert re.search(r"/\s*\(job:nsshutdown_run_duration_seconds:stddev_over_time_1w > 0\)", zscore)


def test_job_not_succeeding_uses_two_periods() -> None:
    warning = next(
        r
        for r in _alerts()
        if r["alert"] == "NsShutdownJobNotSucceeding" and r["labels"]["severity"] == "warning"
    )
    assert warning["expr"] == (
        'time() - nsshutdown_last_success_timestamp_seconds{job="nsshutdown"} > 2 * 300'
    )


def _mutated(name: str, change: Mapping[str, Any]) -> list[dict[str, Any]]:
    groups = copy.deepcopy(_groups())
    for group in groups:
        for rule in group["rules"]:
            if rule.get("alert") == name:
                for key, value in change.items():
                    target, _, field = key.partition(".")
                    holder = rule[target] if field else rule
                    if value is None:
                        holder.pop(field or target, None)
                    else:
                        holder[field or target] = value
    return groups


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"alert": "nsshutdownDown"}, "CamelCase", id="name"),
        pytest.param({"labels.severity": "page"}, "severity 'page'", id="severity"),
        pytest.param({"annotations.summary": None}, "no summary", id="summary"),
        pytest.param({"annotations.description": "static text"}, "not templated", id="description"),
        pytest.param(
            {"annotations.runbook_url": "https://wiki/x"}, "runbook_url 'https://wiki/x'", id="url"
        ),
        pytest.param({"for": None}, "has no `for:`", id="for"),
        pytest.param(
            {"expr": "nsshutdown_namespace_down_total > 0"}, "unknown metric", id="unknown-metric"
        ),
        pytest.param(
            {"expr": 'nsshutdown_last_run_errors{namespace="a"} > 0'},
            "has no label(s) namespace",
            id="unknown-label",
        ),
    ],
)
def test_policy_violations_are_reported(change: Mapping[str, Any], message: str) -> None:
    groups = _mutated("NsShutdownRunErrors", change)
    problems = check_rules.check(groups, emitted=_emitted(), runbooks=RUNBOOKS)
    assert any(message in problem for problem in problems), problems


def test_runbook_pages_and_index_must_match_alerts(tmp_path: Path) -> None:
    for page in RUNBOOKS.glob("*.md"):
        (tmp_path / page.name).write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "NsShutdownRunErrors.md").unlink()
    (tmp_path / "NsShutdownOrphan.md").write_text("# NsShutdownOrphan\n", encoding="utf-8")
    problems = check_rules.check(_groups(), emitted=_emitted(), runbooks=tmp_path)
    assert any("NsShutdownRunErrors.md does not exist" in p for p in problems), problems
    assert "runbook NsShutdownOrphan.md has no alert" in problems


def test_every_alert_needs_a_firing_and_a_silent_promtool_case(tmp_path: Path) -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))
    for test in tests["tests"]:
        test["alert_rule_test"] = [
            case
            for case in test.get("alert_rule_test", [])
            if not (case["alertname"] == "NsShutdownDryRun" and not case["exp_alerts"])
        ]
    stripped = tmp_path / "stripped.test.yaml"
    stripped.write_text(yaml.safe_dump(tests), encoding="utf-8")
    problems = check_rules.coverage_problems({"NsShutdownDryRun"}, [stripped])
    assert problems == ["alert NsShutdownDryRun: no promtool test case where it stays silent"]


def _runbook_sections(name: str) -> str:
    return (RUNBOOKS / f"{name}.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted({r["alert"] for r in _alerts()}))
def test_runbook_has_meaning_impact_diagnosis_remediation(name: str) -> None:
    text = _runbook_sections(name)
    assert text.startswith(f"# {name}\n")
    for section in ("## Meaning", "## Impact", "## Diagnosis", "## Remediation"):
        assert section in text, f"{name}.md lacks {section}"
    diagnosis = text.split("## Diagnosis", 1)[1].split("## Remediation", 1)[0]
    assert "```sh" in diagnosis
    assert re.search(r"\b(kubectl|curl|nsshutdown)\b", diagnosis)


def test_runbooks_use_only_real_nsshutdown_commands() -> None:
    commands = {"run", "plan", "shutdown", "restore", "wake", "status", "validate"}
    used = {
        match
        for page in RUNBOOKS.glob("*.md")
        for match in re.findall(r"`nsshutdown ([a-z-]+)", page.read_text(encoding="utf-8"))
    }
    assert used
    assert used <= commands


def test_namespace_scoped_alert_keeps_the_namespace_label() -> None:
    restore_late = _rule("NsShutdownRestoreLate")
    assert "{{ $labels.namespace }}" in restore_late["annotations"]["description"]
    # the recorded series it alerts on keeps the labels of nsshutdown_namespace_down
    record = next(
        rule["expr"]
        for group in _groups()
        for rule in group["rules"]
        if rule.get("record") == restore_late["expr"]
    )
    assert "nsshutdown_namespace_down{" in record.split("unless", 1)[0]
    assert "unless ignoring (schedule)" in record


# --- dashboards ----------------------------------------------------------------------------------


def _dashboard(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def test_three_dashboards_with_stable_unique_uids() -> None:
    uids = [_dashboard(path)["uid"] for path in DASHBOARDS]
    assert sorted(uids) == sorted(EXPECTED_UIDS)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_structure(path: Path) -> None:
    dashboard = _dashboard(path)
    assert check_dashboards.structure_problems(dashboard) == []
    assert dashboard["id"] is None
    assert dashboard["schemaVersion"] == check_dashboards.SCHEMA_VERSION
    text = path.read_text(encoding="utf-8")
    # the only datasource reference is the variable
    assert set(re.findall(r'"uid": "([^"]*)"', text)) == {dashboard["uid"], "${datasource}"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_expressions_use_known_metrics(path: Path) -> None:
    cat = catalog.Catalog(emitted=_emitted(), recorded=catalog.recorded_metrics(_groups()))
    exprs = check_dashboards.expressions(_dashboard(path), path.name)
    assert exprs
    problems = [f"{e.where}: {p}" for e in exprs for p in cat.problems(e.promql)]
    assert problems == []


def _all_exprs() -> Iterator[str]:
    for path in DASHBOARDS:
        for expr in check_dashboards.expressions(_dashboard(path), path.name):
            yield expr.promql


def test_dashboards_cover_what_the_issue_asks_for() -> None:
    exprs = "\n".join(_all_exprs())
    for needle in (
        "nsshutdown_last_success_timestamp_seconds",
        "nsshutdown_last_run_errors",
        "nsshutdown_run_duration_seconds",
        "nsshutdown_circuit_breaker_open",
        "nsshutdown_build_info",
        "nsshutdown_namespace_down",
        "nsshutdown_replicas_held",
        "nsshutdown_cpu_cores_saved",
        "nsshutdown_memory_bytes_saved",
        "nsshutdown_estimated_hourly_savings",
        "* 730",
        "quantile_over_time(0.99",
        "nsshutdown_last_run_actions",
        "namespace:nsshutdown_shutdown_on_time:bool",
        "namespace:nsshutdown_restore_on_time:bool",
    ):
        assert needle in exprs, needle


def test_bad_dashboard_is_reported_without_promtool() -> None:
    problems = check_dashboards.structure_problems(_dashboard(BAD / "dashboard.json"))
    text = "\n".join(problems)
    assert "`id` must be null" in text
    assert "not a stable lowercase slug" in text
    assert "schemaVersion 27" in text
    assert "no `datasource` template variable" in text
    assert "P1809F7CD0C75ACF3" in text
    cat = catalog.Catalog(emitted=_emitted(), recorded=frozenset())
    refs = [
        p
        for e in check_dashboards.expressions(_dashboard(BAD / "dashboard.json"), "bad")
        for p in cat.problems(e.promql)
    ]
    assert (
        "unknown metric nsshutdown_pods_deleted_total (not emitted, recorded or built-in)" in refs
    )
    assert "nsshutdown_replicas_held has no label(s) team" in refs


def test_kustomization_wraps_every_dashboard_with_the_sidecar_label() -> None:
    kustomization = yaml.safe_load((MONITORING / "kustomization.yaml").read_text(encoding="utf-8"))
    assert kustomization["generatorOptions"]["labels"] == {"grafana_dashboard": "1"}
    files = {f for gen in kustomization["configMapGenerator"] for f in gen["files"]}
    assert files == {f"dashboards/{path.name}" for path in DASHBOARDS}


# --- Alertmanager --------------------------------------------------------------------------------


def _am() -> dict[str, Any]:
    return yaml.safe_load(ALERTMANAGER.read_text(encoding="utf-8"))


def _walk(
    route: dict[str, Any], path: tuple[dict[str, Any], ...] = ()
) -> Iterator[tuple[dict[str, Any], ...]]:
    here = (*path, route)
    yield here
    for child in route.get("routes", []):
        yield from _walk(child, here)


def test_receivers_read_secrets_from_files() -> None:
    receivers = {r["name"]: r for r in _am()["receivers"]}
    teams = {"team-payments", "team-search"}  # the example routes of the advance notice
    assert set(receivers) == {"null", "pager", "chat", "email"} | teams
    assert set(receivers["null"]) == {"name"}
    for name in ("chat", *sorted(teams)):
        slack = receivers[name]["slack_configs"][0]
        assert slack["api_url_file"].startswith("/etc/alertmanager/secrets/")
        assert "api_url" not in slack
    email = receivers["email"]["email_configs"][0]
    assert email["auth_password_file"].startswith("/etc/alertmanager/secrets/")
    assert "auth_password" not in email
    sns = receivers["pager"]["sns_configs"][0]
    assert sns["topic_arn"].startswith("arn:aws:sns:")
    assert "region" in sns["sigv4"]
    assert not {"access_key", "secret_key"} & set(sns["sigv4"])


def test_routes_use_matchers_only() -> None:
    text = ALERTMANAGER.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(match|match_re|source_match|target_match):", text, re.M)


def _matchers(path: tuple[dict[str, Any], ...]) -> list[str]:
    return [m for route in path for m in route.get("matchers", [])]


def test_own_alerts_are_never_muted_and_scaled_namespaces_are() -> None:
    am = _am()
    intervals = {i["name"] for i in am["time_intervals"]}
    assert all(
        spec.get("location") == "Europe/Madrid"
        for interval in am["time_intervals"]
        for spec in interval["time_intervals"]
    )
    assert "mute_time_intervals" not in am["route"]
    muted_leaves = 0
    for path in _walk(am["route"]):
        matchers = _matchers(path)
        leaf = path[-1]
        if 'alertname=~"NsShutdown.+"' in matchers:
            assert not any("mute_time_intervals" in route for route in path)
        if any(m.startswith("namespace=~") for m in matchers) and "routes" not in leaf:
            # mute timings are not inherited: every leaf of the scaled-namespace branch names them
            assert set(leaf["mute_time_intervals"]) == intervals
            muted_leaves += 1
    assert muted_leaves == 3


def test_inhibition_is_per_namespace_and_needs_a_namespace() -> None:
    rule = _am()["inhibit_rules"][0]
    assert rule["source_matchers"] == ['severity="critical"', 'namespace=~".+"']
    assert rule["target_matchers"] == ['severity="warning"']
    assert rule["equal"] == ["namespace"]
