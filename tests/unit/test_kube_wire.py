"""Raw API JSON -> Workload, merge-patch bodies, quantities, and error translation."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from nsshutdown import constants as c
from nsshutdown.errors import ApiError, ConflictError, ForbiddenError, NotFoundError
from nsshutdown.kube import wire
from nsshutdown.kube.transport import HttpStatusError, translate
from nsshutdown.model import Kind, Patch, Resources
from nsshutdown.quantity import parse_quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100m", 0.1),
        ("1", 1.0),
        ("0.5", 0.5),
        ("2500m", 2.5),
        ("128Mi", 128 * 2**20),
        ("1Gi", 2**30),
        ("1G", 1e9),
        ("500k", 5e5),
        ("1e3", 1000.0),
        ("1.5E2", 150.0),
        ("1E", 1e18),
        ("250u", 250e-6),
        (".5", 0.5),
        (2, 2.0),
    ],
)
def test_parse_quantity(text: str | int, value: float) -> None:
    assert parse_quantity(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "1Xi", "1 Gi", "--1", "1.2.3"])
def test_parse_quantity_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="quantity"):
        parse_quantity(text)


def _deployment(**spec: object) -> dict[str, object]:
    return {
        "metadata": {
            "name": "api",
            "namespace": "dev-a",
            "resourceVersion": "42",
            "creationTimestamp": "2026-01-02T03:04:05Z",
            "annotations": {
                c.ORIGINAL_REPLICAS: "3",
                "kubectl.kubernetes.io/last-applied-configuration": "{...huge...}",
            },
        },
        "spec": spec,
    }


def test_parse_deployment_keeps_only_what_the_tool_decides_on() -> None:
    template = {
        "spec": {
            "initContainers": [
                {"name": "migrate", "resources": {"requests": {"cpu": "2", "memory": "64Mi"}}},
                {
                    "name": "proxy",
                    "restartPolicy": "Always",
                    "resources": {"requests": {"cpu": "100m", "memory": "32Mi"}},
                },
            ],
            "containers": [
                {"name": "main", "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}},
                {"name": "side", "resources": {"requests": {"cpu": "bogus"}}},
                {"name": "bare"},
            ],
        }
    }
    workload = wire.parse_workload(Kind.DEPLOYMENT, _deployment(replicas=3, template=template))
    assert str(workload.ref) == "Deployment dev-a/api"
    assert workload.replicas == 3
    assert workload.resource_version == "42"
    assert workload.created == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert dict(workload.annotations) == {c.ORIGINAL_REPLICAS: "3"}
    # containers + sidecar = 350m / 288Mi; the plain init container alone needs 2 cores
    assert workload.requests == Resources(cpu_cores=2.0, memory_bytes=288 * 2**20)


def test_parse_cronjob_scaledobject_and_rollout() -> None:
    cron = wire.parse_workload(
        Kind.CRONJOB,
        {
            "metadata": {"name": "n", "namespace": "x"},
            "spec": {
                "jobTemplate": {
                    "spec": {"template": {"spec": {"containers": [
                        {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}
                    ]}}}
                }
            },
        },
    )  # fmt: skip
    assert (cron.suspend, cron.replicas) == (False, None)
    assert cron.requests == Resources(1.0, 2**30)
    scaled = wire.parse_workload(
        Kind.SCALEDOBJECT,
        {
            "metadata": {
                "name": "s",
                "namespace": "x",
                "annotations": {c.KEDA_PAUSED_REPLICAS: "0"},
            },
            "spec": {"scaleTargetRef": {"name": "worker"}},
        },
    )
    assert scaled.scale_target == ("Deployment", "worker")
    assert dict(scaled.annotations) == {c.KEDA_PAUSED_REPLICAS: "0"}
    rollout = wire.parse_workload(Kind.ROLLOUT, {"metadata": {"name": "r"}, "spec": {}})
    assert rollout.replicas is None  # unset: decide() treats it as 1


def test_parse_namespace_and_pinning_pods() -> None:
    ns = wire.parse_namespace(
        {"metadata": {"name": "dev-a", "labels": {"env": "dev"}, "annotations": {"x": "y"}}}
    )
    assert (ns.name, dict(ns.labels), dict(ns.annotations)) == ("dev-a", {"env": "dev"}, {})
    pinned = {"metadata": {"name": "p", "namespace": "dev-a", "annotations": {
        c.KARPENTER_DO_NOT_DISRUPT: "true"}}, "spec": {"nodeName": "n1"}, "status": {}}  # fmt: skip
    assert wire.pinning_pod(pinned) is not None
    assert wire.pinning_pod({**pinned, "status": {"phase": "Succeeded"}}) is None
    assert wire.pinning_pod({"metadata": {"name": "q"}}) is None


@pytest.mark.parametrize(
    ("patch", "body"),
    [
        (
            Patch(replicas=0, annotations={c.ORIGINAL_REPLICAS: "3"}),
            {
                "metadata": {"annotations": {c.ORIGINAL_REPLICAS: "3"}, "resourceVersion": "7"},
                "spec": {"replicas": 0},
            },
        ),
        (
            Patch(suspend=False, annotations={c.ORIGINAL_SUSPEND: None}),
            {
                "metadata": {"annotations": {c.ORIGINAL_SUSPEND: None}, "resourceVersion": "7"},
                "spec": {"suspend": False},
            },
        ),
        (
            Patch(annotations={c.KEDA_PAUSED_REPLICAS: "0"}),
            {"metadata": {"annotations": {c.KEDA_PAUSED_REPLICAS: "0"}, "resourceVersion": "7"}},
        ),
    ],
    ids=["replicas", "suspend", "keda"],
)
def test_merge_patch_touches_only_the_field_and_named_annotations(
    patch: Patch, body: dict[str, object]
) -> None:
    assert wire.merge_patch(patch, resource_version="7") == body
    assert json.loads(json.dumps(body)) == body  # None -> null deletes the key


@pytest.mark.parametrize(
    ("status", "kind"),
    [(403, ForbiddenError), (404, NotFoundError), (409, ConflictError), (500, ApiError)],
)
def test_translate_maps_http_status_to_our_errors(status: int, kind: type[ApiError]) -> None:
    body = json.dumps({"message": "deployments.apps is forbidden"}).encode()
    exc = HttpStatusError(status, "Reason", body, {})
    err = translate(exc, "patch Deployment a/b")
    assert type(err) is kind
    assert err.status == status
    assert str(err) == f"patch Deployment a/b: {status} deployments.apps is forbidden"


def test_translate_reads_retry_after_and_connection_errors() -> None:
    exc = HttpStatusError(429, "Too Many Requests", b"", {"Retry-After": "3"})
    assert translate(exc, "list").retry_after == 3.0
    refused = translate(ConnectionRefusedError("refused"), "list")
    assert (refused.status, "ConnectionRefusedError" in str(refused)) == (0, True)


@pytest.mark.parametrize(
    ("metadata", "status", "ready"),
    [
        ({"generation": 3}, {}, None),  # no controller has ever reported on it
        ({"generation": 3}, {"observedGeneration": 3, "readyReplicas": 2}, 2),
        ({"generation": 3}, {"observedGeneration": 3}, 0),  # none ready: the key is left out
        ({"generation": 4}, {"observedGeneration": 3, "readyReplicas": 2}, 0),  # not caught up
        ({"generation": 3}, {"observedGeneration": "3", "readyReplicas": 2}, None),  # not ours
    ],
    ids=["no-controller", "ready", "none-ready", "stale", "garbage"],
)
def test_ready_replicas_count_only_for_the_generation_the_controller_saw(
    metadata: dict[str, object], status: dict[str, object], ready: int | None
) -> None:
    item = {
        "metadata": {"name": "db", "namespace": "dev-a", **metadata},
        "spec": {"replicas": 2},
        "status": status,
    }
    assert wire.parse_workload(Kind.STATEFULSET, item).ready == ready


def test_written_at_is_the_tools_latest_managed_fields_entry() -> None:
    fields = [
        {"manager": "kubectl", "time": "2026-11-27T09:00:00Z"},
        {"manager": c.FIELD_MANAGER, "time": "2026-11-27T08:00:00Z"},
        {"manager": c.FIELD_MANAGER, "time": "2026-11-27T08:30:00Z", "subresource": "scale"},
        {"manager": c.FIELD_MANAGER, "time": 5},
        "garbage",
    ]
    item = {"metadata": {"name": "db", "namespace": "dev-a", "managedFields": fields}}
    written = wire.parse_workload(Kind.STATEFULSET, item).written_at
    assert written == datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
    assert wire.parse_workload(Kind.STATEFULSET, {"metadata": {}}).written_at is None
