"""The story a user buys nsshutdown for, on a real node, driven by the CronJob itself.

Installed as a user installs it: ``kubectl apply -k`` of the dev overlay (image and CronJob
period changed only, see tests/e2e/manifests/nsshutdown) and of the monitoring Pushgateway. The
team namespaces hold Deployments, a StatefulSet and a CronJob whose pods really run. Then the
schedule ConfigMap is edited, as a user would, and only the CronJob acts:

1. the window opens: within two CronJob periods no pod of the scheduled namespaces runs, the
   saved counts and Events are on the workloads, the metrics are in the in-cluster Pushgateway,
   and kube-system, matched by the schedule's names but excluded as every shipped overlay
   excludes it, is untouched;
2. the window closes: the pods run again at their original counts;
3. a broken schedule: the next Job fails at once (exit 1, FailJob by podFailurePolicy, no retry)
   and nothing is touched;
4. kube-system is protected even when a schedule names it and does not exclude it.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from devtools.node import LocalNode
from tests.e2e import story_support as story
from tests.e2e.story_support import HERE, TIMINGS

PERIOD = 60.0  # the e2e overlay fires the CronJob every minute
PROTECTED = "kube-system"


def _apply_kustomization(node: LocalNode, name: str) -> None:
    # kubectl (inside the node) renders the overlay from the checkout, as a user's would.
    node.kubectl("apply", "-k", str(HERE / "manifests" / name))


@pytest.fixture(scope="module")
def installed(node: LocalNode) -> LocalNode:
    began = time.monotonic()
    # manifests/monitoring goes into the monitoring stack's namespace, which a user already has.
    node.kubectl("create", "namespace", "monitoring")
    _apply_kustomization(node, "monitoring")
    _apply_kustomization(node, "nsshutdown")
    # The shipped dev schedule may well have its window open right now; the story starts from a
    # closed one. (A run before this edit leaves the new workloads alone: they are younger than
    # the dev schedule's grace period.)
    story.set_schedule(node, story.schedule_yaml(window_open=False))
    story.create_team_workloads(node)
    node.kubectl(
        "-n", "monitoring", "rollout", "status", "deployment/pushgateway", "--timeout=120s"
    )
    story.wait_for(
        "team workloads running",
        lambda: all(
            story.running_replicas(node, w) == w.replicas
            for w in story.TEAM_WORKLOADS
            if w.kind != "CronJob"
        ),
        timeout=180,
        diagnose=lambda: story.cluster_report(node),
    )
    TIMINGS["install + team workloads running"] = time.monotonic() - began
    return node


def _snapshot(node: LocalNode) -> dict[str, dict[str, Any]]:
    snapshot = {}
    for workload in story.TEAM_WORKLOADS:
        obj = story.get(node, workload)
        snapshot[f"{workload.kind} {workload.namespace}/{workload.name}"] = {
            "replicas": obj["spec"].get("replicas"),
            "suspend": obj["spec"].get("suspend"),
            "annotations": story.tool_annotations(obj),
        }
    return snapshot


def _events(node: LocalNode, namespace: str, reason: str) -> set[str]:
    items = node.kubectl_json("get", "events", "-n", namespace, f"--field-selector=reason={reason}")
    return {f"{e['involvedObject']['kind']}/{e['involvedObject']['name']}" for e in items["items"]}


def _pushgateway_metrics(node: LocalNode) -> str:
    # Through the API server's service proxy: the same Service name the CronJob pushes to.
    path = "/api/v1/namespaces/monitoring/services/pushgateway:http/proxy/metrics"
    return node.kubectl("get", "--raw", path).stdout


def _reported_down(node: LocalNode) -> set[str]:
    down = set()
    for line in _pushgateway_metrics(node).splitlines():
        if line.startswith("nsshutdown_namespace_down{") and line.endswith(" 1"):
            labels = line[line.index("{") + 1 : line.index("}")]
            pairs = dict(pair.split("=", 1) for pair in labels.split(","))
            down.add(pairs["namespace"].strip('"'))
    return down


def _coredns_state(node: LocalNode) -> dict[str, Any]:
    obj = node.kubectl_json("get", "deployment", "coredns", "-n", PROTECTED)
    return {"replicas": obj["spec"]["replicas"], "annotations": story.tool_annotations(obj)}


def test_window_opens_then_closes(installed: LocalNode) -> None:
    node = installed
    protected_before = _coredns_state(node)

    opened = time.monotonic()
    story.set_schedule(node, story.schedule_yaml(window_open=True))
    gone = story.wait_for(
        "every pod of the scheduled namespaces gone",
        lambda: not story.active_pods(node, story.TEAM_NAMESPACES),
        timeout=2 * PERIOD,
        diagnose=lambda: story.cluster_report(node),
    )
    TIMINGS["window opens -> team pods gone"] = gone
    print(f"window opened: every team pod gone after {gone:.0f} s")

    # Only system pods and nsshutdown's own are left on the node.
    left = {p.split("/")[0] for p in story.active_pods(node, _all_namespaces(node))}
    assert left <= {PROTECTED, "monitoring", story.TOOL_NAMESPACE}, left

    for workload in story.TEAM_WORKLOADS:
        obj = story.get(node, workload)
        saved = story.tool_annotations(obj)
        if workload.kind == "CronJob":
            assert obj["spec"]["suspend"] is True
            assert saved["nsshutdown.io/original-suspend"] == "false"
        else:
            assert obj["spec"]["replicas"] == 0
            assert saved["nsshutdown.io/original-replicas"] == str(workload.replicas)
        assert saved["nsshutdown.io/shutdown-by"] == story.SCHEDULE_NAME
    for namespace in story.TEAM_NAMESPACES:
        expected = {f"{w.kind}/{w.name}" for w in story.TEAM_WORKLOADS if w.namespace == namespace}
        assert _events(node, namespace, "ScaledDown") == expected

    assert _coredns_state(node) == protected_before
    assert story.active_pods(node, [PROTECTED]), "CoreDNS must still run"

    # The run that scaled them down reports what it found (up); the next one reports them down.
    reported = story.wait_for(
        "every team namespace reported down in the in-cluster Pushgateway",
        lambda: _reported_down(node) >= set(story.TEAM_NAMESPACES),
        timeout=PERIOD + 30,
        diagnose=lambda: _pushgateway_metrics(node),
    )
    assert "nsshutdown_last_success_timestamp_seconds{" in _pushgateway_metrics(node)
    TIMINGS["window opens -> reported down in Pushgateway"] = time.monotonic() - opened
    print(f"metrics: every team namespace reported down {reported:.0f} s later")

    story.set_schedule(node, story.schedule_yaml(window_open=False))
    back = story.wait_for(
        "team workloads running again at their original counts",
        lambda: all(
            story.running_replicas(node, w) == w.replicas
            for w in story.TEAM_WORKLOADS
            if w.kind != "CronJob"
        ),
        timeout=2 * PERIOD + 60,
        diagnose=lambda: story.cluster_report(node),
    )
    TIMINGS["window closes -> team pods running again"] = back
    print(f"window closed: every team workload running again after {back:.0f} s")
    # Wake-up tiers with real pods: dev-a's Deployment came back only once its database was Ready
    # (RFC 3339 UTC strings of one format compare as times).
    api, db = (w for w in story.TEAM_WORKLOADS if w.namespace == "dev-a")
    db_ready = story.ready_since(node, "dev-a", f"{db.name}-0")
    api_restored = story.written_by_tool_at(node, api)
    assert db_ready <= api_restored, (db_ready, api_restored)
    print(f"tiers: db Ready at {db_ready}, api restored at {api_restored}")
    for workload in story.TEAM_WORKLOADS:
        obj = story.get(node, workload)
        assert story.tool_annotations(obj) == {}
        if workload.kind == "CronJob":
            assert obj["spec"]["suspend"] is False
        else:
            assert obj["spec"]["replicas"] == workload.replicas
    assert _coredns_state(node) == protected_before


def _all_namespaces(node: LocalNode) -> list[str]:
    items = node.kubectl_json("get", "namespaces")["items"]
    return [item["metadata"]["name"] for item in items]


def _jobs(node: LocalNode) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = node.kubectl_json("get", "jobs", "-n", story.TOOL_NAMESPACE)[
        "items"
    ]
    return items


def _failed_condition(job: dict[str, Any]) -> dict[str, Any] | None:
    for condition in job.get("status", {}).get("conditions") or []:
        if condition["type"] == "Failed" and condition["status"] == "True":
            return dict(condition)
    return None


def test_broken_schedule_fails_the_job_and_touches_nothing(installed: LocalNode) -> None:
    node = installed
    before = _snapshot(node)
    known = {job["metadata"]["name"] for job in _jobs(node)}
    scaled_before = {ns: _events(node, ns, "ScaledDown") for ns in story.TEAM_NAMESPACES}

    story.set_schedule(node, story.BROKEN_SCHEDULE)

    def new_failed_job() -> dict[str, Any] | None:
        for job in _jobs(node):
            if job["metadata"]["name"] not in known and _failed_condition(job):
                return job
        return None

    took = story.wait_for(
        "a Job of the broken schedule failed",
        lambda: new_failed_job() is not None,
        timeout=2 * PERIOD,
        diagnose=lambda: story.cluster_report(node),
    )
    TIMINGS["broken schedule -> Job failed"] = took
    job = new_failed_job()
    assert job is not None
    condition = _failed_condition(job)
    assert condition is not None
    assert condition["reason"] == "PodFailurePolicy", condition
    pods = node.kubectl_json(
        "get", "pods", "-n", story.TOOL_NAMESPACE, f"--selector=job-name={job['metadata']['name']}"
    )["items"]
    assert len(pods) == 1, "exit code 1 must fail the Job without a retry"
    terminated = pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 1

    assert _snapshot(node) == before
    assert {ns: _events(node, ns, "ScaledDown") for ns in story.TEAM_NAMESPACES} == scaled_before


def test_the_run_is_admitted_under_restricted_pod_security(installed: LocalNode) -> None:
    node = installed
    namespace = node.kubectl_json("get", "namespace", story.TOOL_NAMESPACE)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    # Ask the admission chain directly about the CronJob's own pod template.
    cronjob = node.kubectl_json("get", "cronjob", "nsshutdown", "-n", story.TOOL_NAMESPACE)
    template = cronjob["spec"]["jobTemplate"]["spec"]["template"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "psa-check", "namespace": story.TOOL_NAMESPACE},
        "spec": template["spec"],
    }
    result = node.kubectl(
        "create", "--dry-run=server", "-f", "-", stdin=json.dumps(pod), check=False
    )
    assert result.returncode == 0, result.stderr
    assert "violate" not in result.stderr, result.stderr
    # And the runs really were admitted: their pods exist, and no Job reported FailedCreate.
    pods = node.kubectl_json(
        "get", "pods", "-n", story.TOOL_NAMESPACE, "--selector=app.kubernetes.io/component=job"
    )["items"]
    assert pods
    assert not _events(node, story.TOOL_NAMESPACE, "FailedCreate")


def test_kube_system_is_protected_even_when_a_schedule_names_it(installed: LocalNode) -> None:
    node = installed
    before = _coredns_state(node)
    known = {job["metadata"]["name"] for job in _jobs(node)}
    story.set_schedule(
        node, story.schedule_yaml(window_open=True, names=["kube-system"], exclude=[])
    )

    def finished_run() -> bool:
        return any(
            job["metadata"]["name"] not in known and job.get("status", {}).get("completionTime")
            for job in _jobs(node)
        )

    story.wait_for(
        "a run with kube-system in the schedule finished",
        finished_run,
        timeout=2 * PERIOD,
        diagnose=lambda: story.cluster_report(node),
    )
    try:
        assert _coredns_state(node) == before
    finally:
        # Put cluster DNS back whatever happened, for anything that runs after this test.
        story.set_schedule(node, story.schedule_yaml(window_open=False))
