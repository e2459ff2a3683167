"""The monitoring manifests through the real tools: promtool (Prometheus 3), amtool
(Alertmanager 0.25, the oldest the configuration supports) and kubectl kustomize.

A missing tool skips these tests locally and fails them when CI=true. Each tool is also run on a
known-bad input, so a test that "passes" because the tool checks nothing cannot go unnoticed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from devtools.binaries import BinariesNotFoundError, find_binaries
from tests.integration.tool_support import require_tool
from tools.monitoring import check_dashboards, extract_rules

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "manifests" / "monitoring"
FIXTURES = ROOT / "tests" / "fixtures" / "monitoring"
BAD = FIXTURES / "bad"
ALERTMANAGER = MONITORING / "alertmanager" / "alertmanager.yaml"
DASHBOARDS = sorted((MONITORING / "dashboards").glob("*.json"))


def _kubectl() -> str | None:
    """$KUBECTL, the kubectl built next to kube-apiserver (tools/k8s/build.sh), or PATH's."""
    if os.environ.get("KUBECTL"):
        return os.environ["KUBECTL"]
    try:
        built = find_binaries().kubectl
    except BinariesNotFoundError:
        built = None
    return str(built) if built else shutil.which("kubectl")


def _kubectl_or_skip() -> str:
    if path := _kubectl():
        return path
    reason = "kubectl not found: run `make k8s-bin` (tools/k8s/build.sh) or set $KUBECTL"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true: the monitoring checks must run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_tool("promtool")


@pytest.fixture(scope="module")
def amtool() -> str:
    return require_tool("amtool")


def _run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, cwd=cwd, timeout=300)


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """The extracted rule file with the promtool unit tests beside it, as `make` lays them out."""
    spec = extract_rules.extract_spec((MONITORING / "prometheusrule.yaml").read_text("utf-8"))
    (tmp_path / "nsshutdown.rules.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    for test in FIXTURES.glob("*.test.yaml"):
        shutil.copy(test, tmp_path / test.name)
    return tmp_path


# --- promtool ------------------------------------------------------------------------------------


def test_promtool_accepts_the_extracted_rules(promtool: str, rules_dir: Path) -> None:
    proc = _run(promtool, "check", "rules", str(rules_dir / "nsshutdown.rules.yaml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_promtool_rejects_a_broken_rule_file(promtool: str) -> None:
    proc = _run(promtool, "check", "rules", str(BAD / "broken.rules.yaml"))
    assert proc.returncode != 0
    assert "unclosed left parenthesis" in proc.stdout + proc.stderr


def test_promtool_unit_tests_pass(promtool: str, rules_dir: Path) -> None:
    proc = _run(promtool, "test", "rules", "nsshutdown.test.yaml", cwd=rules_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


@pytest.mark.parametrize(
    ("original", "mutant", "failure"),
    [
        pytest.param(
            "> 2 * 300", "> 3 * 300", "alertname: NsShutdownJobNotSucceeding", id="threshold"
        ),
        pytest.param(
            "expr: namespace:nsshutdown_namespace_down:desired_up",
            "expr: namespace:nsshutdown_namespace_down:desired_up * 0 > 1",
            "alertname: NsShutdownRestoreLate",
            id="never-fires",
        ),
        pytest.param(
            "(job:nsshutdown_run_duration_seconds:stddev_over_time_1w > 0)",
            "(job:nsshutdown_run_duration_seconds:stddev_over_time_1w >= 0)",
            'zscore_1w{instance=\\"flat\\"}", time: 4h',  # the stddev == 0 case
            id="zero-deviation-guard",
        ),
    ],
)
def test_promtool_unit_tests_catch_a_broken_rule(
    promtool: str, tmp_path: Path, original: str, mutant: str, failure: str
) -> None:
    manifest = (MONITORING / "prometheusrule.yaml").read_text("utf-8")
    assert original in manifest
    spec = extract_rules.extract_spec(manifest.replace(original, mutant, 1))
    (tmp_path / "nsshutdown.rules.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    shutil.copy(FIXTURES / "nsshutdown.test.yaml", tmp_path)
    proc = _run(promtool, "test", "rules", "nsshutdown.test.yaml", cwd=tmp_path)
    assert proc.returncode != 0
    assert failure in proc.stdout + proc.stderr


# --- dashboards (promtool parses every expression) -----------------------------------------------


def _rules_catalog() -> check_dashboards.Catalog:
    groups = extract_rules.extract_spec((MONITORING / "prometheusrule.yaml").read_text("utf-8"))
    return check_dashboards.Catalog(
        emitted=check_dashboards.emitted_metrics(),
        recorded=check_dashboards.recorded_metrics(groups["groups"]),
    )


def test_dashboards_pass_the_checker(promtool: str) -> None:
    assert check_dashboards.check(DASHBOARDS, catalog=_rules_catalog(), promtool=promtool) == []


def test_every_dashboard_expression_parses(promtool: str) -> None:
    exprs = [
        expr
        for path in DASHBOARDS
        for expr in check_dashboards.expressions(json.loads(path.read_text("utf-8")), path.name)
    ]
    assert len(exprs) > 40
    assert check_dashboards.promtool_problems(exprs, promtool) == []


def test_dashboard_checker_fails_on_the_bad_dashboard(promtool: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    extract_rules.main([str(MONITORING / "prometheusrule.yaml"), "-o", str(rules)])
    argv = ["--promtool", promtool, "--rules", str(rules), str(BAD / "dashboard.json")]
    assert check_dashboards.main(argv) == 1
    problems = check_dashboards.check(
        [BAD / "dashboard.json"], catalog=_rules_catalog(), promtool=promtool
    )
    assert any("panel 'does not parse' target A: promtool cannot parse" in p for p in problems)
    assert any("unknown metric nsshutdown_pods_deleted_total" in p for p in problems)
    assert any("P1809F7CD0C75ACF3" in p for p in problems)


def test_dashboard_checker_reports_duplicate_uids(promtool: str, tmp_path: Path) -> None:
    copy = tmp_path / "copy.json"
    shutil.copy(DASHBOARDS[0], copy)
    problems = check_dashboards.check(
        [DASHBOARDS[0], copy], catalog=_rules_catalog(), promtool=promtool
    )
    assert problems == [f"{copy}: uid 'nsshutdown-overview' is also used by {DASHBOARDS[0]}"]


# --- amtool --------------------------------------------------------------------------------------


def test_amtool_accepts_the_alertmanager_config(amtool: str) -> None:
    proc = _run(amtool, "check-config", str(ALERTMANAGER))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("alertmanager-msteams.yaml", id="msteams-is-newer-than-0.25"),
        pytest.param("alertmanager-unknown-receiver.yaml", id="unknown-receiver"),
    ],
)
def test_amtool_rejects_bad_configs(amtool: str, bad: str) -> None:
    proc = _run(amtool, "check-config", str(BAD / bad))
    assert proc.returncode != 0
    assert "FAILED" in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        pytest.param(
            ["severity=critical", "alertname=NsShutdownRestoreLate", "namespace=dev-a"],
            "pager,chat,email",
            id="critical-pages-and-chats",
        ),
        pytest.param(
            ["severity=warning", "alertname=NsShutdownRunErrors", "job=nsshutdown"],
            "chat,email",
            id="warning-chats",
        ),
        pytest.param(
            ["severity=info", "alertname=NsShutdownDryRun", "job=nsshutdown"],
            "null",
            id="info-nowhere",
        ),
        pytest.param(
            ["severity=critical", "alertname=KubePodCrashLooping", "namespace=payments"],
            "pager,chat,email",
            id="other-critical",
        ),
        pytest.param(
            ["severity=warning", "alertname=KubePodNotReady", "namespace=dev-a"],
            "chat,email",
            id="scaled-namespace-warning",
        ),
    ],
)
def test_amtool_routes(amtool: str, labels: list[str], receivers: str) -> None:
    proc = _run(amtool, "config", "routes", "test", f"--config.file={ALERTMANAGER}", *labels)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == receivers


def test_amtool_verify_receivers_fails_on_a_wrong_expectation(amtool: str) -> None:
    proc = _run(
        amtool, "config", "routes", "test", f"--config.file={ALERTMANAGER}",
        "--verify.receivers=pager", "severity=info",
    )  # fmt: skip
    assert proc.returncode != 0


# --- kustomize -----------------------------------------------------------------------------------


def test_kustomize_renders_dashboards_and_rules() -> None:
    kubectl = _kubectl_or_skip()
    proc = _run(kubectl, "kustomize", str(MONITORING))
    assert proc.returncode == 0, proc.stderr
    docs = list(yaml.safe_load_all(proc.stdout))
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == [
        "ConfigMap", "ConfigMap", "ConfigMap", "Deployment", "NetworkPolicy",
        "PrometheusRule", "Service", "ServiceMonitor",
    ]  # fmt: skip
    assert all(d["metadata"]["namespace"] == "monitoring" for d in docs)
    dashboards = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
    for configmap in dashboards.values():
        assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
        (content,) = configmap["data"].values()
        assert json.loads(content)["uid"].startswith("nsshutdown-")
    rule = next(d for d in docs if d["kind"] == "PrometheusRule")
    manifest = yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text("utf-8"))
    assert rule["spec"] == manifest["spec"]
    monitor = next(d for d in docs if d["kind"] == "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["honorLabels"] is True
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["limits"]
    assert container["readinessProbe"]
    assert container["livenessProbe"]


@pytest.mark.parametrize("version", ["1.29.0", "1.34.0"])
def test_rendered_builtin_kinds_pass_the_kubernetes_schemas(version: str) -> None:
    import kubernetes_validate

    proc = _run(_kubectl_or_skip(), "kustomize", str(MONITORING))
    assert proc.returncode == 0, proc.stderr
    builtin = [
        d for d in yaml.safe_load_all(proc.stdout) if "monitoring.coreos.com" not in d["apiVersion"]
    ]
    assert len(builtin) == 6
    for doc in builtin:
        kubernetes_validate.validate(doc, version, strict=True)


def test_kustomize_renders_the_alertmanager_secret() -> None:
    kubectl = _kubectl_or_skip()
    proc = _run(kubectl, "kustomize", str(MONITORING / "alertmanager"))
    assert proc.returncode == 0, proc.stderr
    (secret,) = yaml.safe_load_all(proc.stdout)
    assert secret["kind"] == "Secret"
    assert secret["metadata"]["name"] == "alertmanager-main"
    assert set(secret["data"]) == {"alertmanager.yaml"}
