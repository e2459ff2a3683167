"""The Helm chart installs what the kustomize manifests install, and each value does what it says.

- With default values, `helm template` renders the objects of `kubectl kustomize manifests/base`:
  same kinds, names and namespaces, equal content. The one normalisation is the label
  app.kubernetes.io/managed-by (kustomize there, Helm here), left out of both sides.
- Each value set is compared with the kustomization it stands for: scope.namespaces with
  manifests/overlays/namespaced, dryRun with manifests/components/observe, monitoring.enabled with
  manifests/monitoring. The other values are checked on the rendered objects.
- values.schema.json refuses a wrong value with its path; the files the chart copies from
  manifests/ (Helm cannot read outside the chart) are identical to their sources.

Applied to a real API server with `helm install --dry-run=server` in
tests/integration/test_helm.py; `make lint-helm` runs helm lint and the manifest validators.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests.rendered import Doc, container, one
from tests.static.helm_support import (
    CHART,
    MANIFESTS,
    ROOT,
    differences,
    kustomize,
    render_chart,
    render_error,
    run_helm,
)

FILES = CHART / "files"
NAMESPACED = MANIFESTS / "overlays" / "namespaced"
NAMESPACED_VALUES = (
    "--set",
    "scope.namespaces={team-a,team-b}",
    "--set",
    "apiServer.cidrs={10.30.0.0/16}",
    "--set-file",
    f"schedule={NAMESPACED / 'schedule.yaml'}",
)


def _write_kustomization(directory: Path, **fields: object) -> Path:
    kustomization = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
    text = yaml.safe_dump({**kustomization, **fields}, sort_keys=False)
    (directory / "kustomization.yaml").write_text(text, "utf-8")
    return directory


# -- the chart renders the manifests ------------------------------------------------------------


def test_default_values_render_the_objects_of_manifests_base() -> None:
    base = kustomize(MANIFESTS / "base")
    assert len(base) >= 10
    assert differences(base, render_chart()) == []


def test_the_comparison_sees_a_difference() -> None:
    """So the tests above and below cannot pass by comparing nothing."""
    base = kustomize(MANIFESTS / "base")
    changed = render_chart("--set", "cronjob.schedule=*/7 * * * *")
    (problem,) = differences(base, changed)
    assert problem.startswith("('CronJob', 'nsshutdown', 'nsshutdown') differs")
    assert differences(base, render_chart("--set", "namespace.create=false")) == [
        "missing ('Namespace', '', 'nsshutdown')"
    ]


def test_scope_namespaces_renders_the_namespaced_overlay() -> None:
    assert differences(kustomize(NAMESPACED), render_chart(*NAMESPACED_VALUES)) == []


def test_dry_run_renders_the_base_with_the_observe_component(tmp_path: Path) -> None:
    observed = _write_kustomization(
        tmp_path,
        # kustomize refuses absolute paths here.
        resources=[os.path.relpath(MANIFESTS / "base", tmp_path)],
        components=[os.path.relpath(MANIFESTS / "components" / "observe", tmp_path)],
    )
    expected = kustomize(observed)
    assert container(expected)["args"][-1] == "--dry-run"
    assert differences(expected, render_chart("--set", "dryRun=true")) == []


def test_monitoring_renders_the_objects_of_manifests_monitoring() -> None:
    expected = kustomize(MANIFESTS / "base") + kustomize(MANIFESTS / "monitoring")
    assert differences(expected, render_chart("--set", "monitoring.enabled=true")) == []


@pytest.mark.parametrize(
    ("part", "kinds"),
    [
        ("pushgateway", {"Deployment", "Service", "NetworkPolicy"}),
        ("serviceMonitor", {"ServiceMonitor"}),
        ("prometheusRule", {"PrometheusRule"}),
        ("dashboards", {"ConfigMap"}),
    ],
)
def test_each_monitoring_part_can_be_left_out(part: str, kinds: set[str]) -> None:
    def monitoring_kinds(*values: str) -> set[str]:
        docs = render_chart("--set", "monitoring.enabled=true", *values)
        return {d["kind"] for d in docs if d["metadata"].get("namespace") == "monitoring"}

    every = monitoring_kinds()
    assert kinds <= every
    assert monitoring_kinds("--set", f"monitoring.{part}.enabled=false") == every - kinds


def test_monitoring_labels_and_namespace_reach_the_prometheus_operator_objects() -> None:
    docs = render_chart(
        "--set",
        "monitoring.enabled=true",
        "--set",
        "monitoring.namespace=observability",
        "--set",
        "monitoring.labels.release=kube-prometheus-stack",
    )
    for kind in ("ServiceMonitor", "PrometheusRule"):
        doc = one(docs, kind)
        assert doc["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert doc["metadata"]["namespace"] == "observability"
    policy = one(docs, "NetworkPolicy", "pushgateway")
    allowed = policy["spec"]["ingress"][0]["from"][1]["namespaceSelector"]["matchLabels"]
    assert allowed == {"kubernetes.io/metadata.name": "nsshutdown"}


# -- each value ---------------------------------------------------------------------------------


def test_the_image_defaults_to_the_app_version_and_takes_a_tag_or_a_digest() -> None:
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text("utf-8"))["appVersion"]
    assert container(render_chart())["image"] == f"ghcr.io/nsshutdown/nsshutdown:{app_version}"
    tagged = render_chart("--set", "image.repository=registry.example.com/nsshutdown")
    assert container(tagged)["image"] == f"registry.example.com/nsshutdown:{app_version}"
    assert container(render_chart("--set", "image.tag=0.2.0rc1"))["image"].endswith(":0.2.0rc1")
    digest = "sha256:" + "ab" * 32
    pinned = container(render_chart("--set", f"image.digest={digest}", "--set", "image.tag=x"))
    assert pinned["image"] == f"ghcr.io/nsshutdown/nsshutdown@{digest}"
    always = render_chart("--set", "image.pullPolicy=Always")
    assert container(always)["imagePullPolicy"] == "Always"


def test_the_cronjob_values() -> None:
    cronjob = one(
        render_chart(
            "--set",
            "cronjob.schedule=*/10 * * * *",
            "--set",
            "cronjob.timeZone=Europe/Madrid",
            "--set",
            "cronjob.activeDeadlineSeconds=500",
            "--set",
            "cronjob.suspend=true",
        ),
        "CronJob",
    )
    assert cronjob["spec"]["schedule"] == "*/10 * * * *"
    assert cronjob["spec"]["timeZone"] == "Europe/Madrid"
    assert cronjob["spec"]["suspend"] is True
    assert cronjob["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 500


def test_the_schedule_file_goes_into_the_configmap_verbatim() -> None:
    source = ROOT / "examples" / "nights-and-weekends.yaml"
    docs = render_chart("--set-file", f"schedule={source}")
    data = one(docs, "ConfigMap", "nsshutdown-schedule")["data"]
    assert data == {"schedule.yaml": source.read_text("utf-8")}


def _env(docs: list[Doc]) -> dict[str, object]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(docs)["env"]}


def _egress_ports(docs: list[Doc]) -> list[int]:
    egress = one(docs, "NetworkPolicy", "nsshutdown")["spec"]["egress"]
    return [port["port"] for rule in egress for port in rule["ports"]]


def test_the_pushgateway_url_and_its_egress_rule() -> None:
    docs = render_chart(
        "--set",
        "pushgateway.url=http://prometheus-pushgateway.metrics.svc:9092",
        "--set",
        "pushgateway.namespace=metrics",
        "--set",
        "pushgateway.port=9092",
    )
    assert _env(docs)["NSSHUTDOWN_PUSHGATEWAY"] == "http://prometheus-pushgateway.metrics.svc:9092"
    egress = one(docs, "NetworkPolicy", "nsshutdown")["spec"]["egress"][1]
    assert egress["to"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "metrics"
    }
    assert egress["ports"] == [{"protocol": "TCP", "port": 9092}]
    off = render_chart("--set", "pushgateway.url=")
    assert "NSSHUTDOWN_PUSHGATEWAY" not in _env(off)
    assert _egress_ports(off) == [53, 53]


def test_resources_replace_the_defaults() -> None:
    docs = render_chart(
        "--set", "resources.requests.cpu=200m", "--set", "resources.limits.memory=1Gi"
    )
    resources = container(docs)["resources"]
    assert resources["requests"]["cpu"] == "200m"
    assert resources["limits"]["memory"] == "1Gi"
    assert resources["limits"]["cpu"] == "1"


def test_scope_namespaces_replace_the_cluster_role_binding() -> None:
    docs = render_chart("--set", "scope.namespaces={team-a}")
    assert [d for d in docs if d["kind"] == "ClusterRoleBinding"] == []
    binding = one(docs, "RoleBinding", "nsshutdown")
    assert binding["metadata"]["namespace"] == "team-a"
    assert binding["roleRef"]["kind"] == "ClusterRole"
    assert "--scope-namespaces=team-a" in container(docs)["args"]


def test_extra_args_and_env_come_after_the_charts_own() -> None:
    docs = render_chart(
        "--set",
        "dryRun=true",
        "--set",
        "extraArgs={--log-level=debug}",
        "--set",
        "extraEnv[0].name=NSSHUTDOWN_EVENTS",
        "--set-string",
        "extraEnv[0].value=false",
    )
    assert container(docs)["args"][-2:] == ["--dry-run", "--log-level=debug"]
    assert _env(docs)["NSSHUTDOWN_EVENTS"] == "false"


def test_the_release_namespace_is_where_everything_goes() -> None:
    docs = render_chart(namespace="shutdown")
    assert one(docs, "Namespace")["metadata"]["name"] == "shutdown"
    namespaced = [d for d in docs if d["kind"] not in ("Namespace", "ClusterRole")]
    namespaced = [d for d in namespaced if d["kind"] != "ClusterRoleBinding"]
    assert {d["metadata"]["namespace"] for d in namespaced} == {"shutdown"}
    subjects = one(docs, "ClusterRoleBinding")["subjects"]
    assert subjects == [{"kind": "ServiceAccount", "name": "nsshutdown", "namespace": "shutdown"}]


# -- the schema ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("dryRun=yes", "at '/dryRun': got string, want boolean"),
        ("imagee.tag=1", "additional properties 'imagee' not allowed"),
        ("image.digest=abc", "at '/image/digest'"),
        ("cronjob.schedule=every5", "at '/cronjob/schedule'"),
        ("scope.namespaces={Team_A}", "at '/scope/namespaces/0'"),
        ("pushgateway.url=pushgateway:9091", "at '/pushgateway/url'"),
        ("apiServer.cidrs={10.0.0.1}", "at '/apiServer/cidrs/0'"),
        ("resources.limits.memory=lots", "at '/resources/limits/memory'"),
        ("resources.limits.gpu=1", "additional properties 'gpu' not allowed"),
        ("monitoring.enabled=1", "at '/monitoring/enabled': got number, want boolean"),
    ],
    ids=lambda v: v.split("=")[0] if "=" in v else None,
)
def test_a_wrong_value_is_refused_with_its_path(value: str, message: str) -> None:
    error = render_error("--set", value)
    assert "values don't meet the specifications of the schema" in error
    assert message in error


def test_helm_lint_strict_passes_and_sees_the_schema() -> None:
    ok = run_helm("lint", "--strict", "--kube-version", "1.29.0", str(CHART))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = run_helm("lint", "--strict", "--kube-version", "1.29.0", str(CHART), "--set", "dryRun=1")
    assert bad.returncode != 0
    assert "/dryRun" in bad.stdout + bad.stderr


def test_every_value_in_values_yaml_is_in_the_schema() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text("utf-8"))
    values = yaml.safe_load((CHART / "values.yaml").read_text("utf-8"))
    assert set(values) == set(schema["properties"])


# -- the copies of manifests/ -------------------------------------------------------------------

RULES = Path("monitoring") / "prometheusrule.yaml"
COPIES = [
    (FILES / "schedule.yaml", MANIFESTS / "base" / "schedule.yaml"),
    (FILES / RULES, MANIFESTS / RULES),
]


@pytest.mark.parametrize(("copy", "source"), COPIES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_charts_copy_is_identical_to_its_source(copy: Path, source: Path) -> None:
    same = copy.read_bytes() == source.read_bytes()
    where = f"{copy.relative_to(ROOT)} differs from {source.relative_to(ROOT)}"
    assert same, f"{where}: run make sync-helm-files"


def test_the_charts_dashboards_are_those_of_manifests_monitoring() -> None:
    copies = {p.name: p.read_bytes() for p in (FILES / "monitoring" / "dashboards").glob("*")}
    sources = {p.name: p.read_bytes() for p in (MANIFESTS / "monitoring" / "dashboards").glob("*")}
    assert sources
    same = copies == sources
    assert same, "the chart's dashboards differ: run make sync-helm-files"
