"""Create namespaces and workloads on a (local) cluster for tests, benchmarks and the demo.

Every ``create_*`` helper takes ``exist_ok``: when true, an object that already
exists is read back instead of failing, which makes seeding idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from kubernetes import client
from kubernetes.client.exceptions import ApiException

T = TypeVar("T")
DEFAULT_IMAGE = "registry.k8s.io/pause:3.10"


def _create_or_get(create: Callable[[], T], read: Callable[[], T], exist_ok: bool) -> T:
    try:
        return create()
    except ApiException as exc:
        if exc.status == 409 and exist_ok:
            return read()
        raise


def _meta(
    name: str,
    namespace: str | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> client.V1ObjectMeta:
    return client.V1ObjectMeta(
        name=name,
        namespace=namespace,
        labels=dict(labels) if labels else None,
        annotations=dict(annotations) if annotations else None,
    )


def _pod_template(
    app: str, *, cpu: str, memory: str, restart_policy: str | None = None
) -> client.V1PodTemplateSpec:
    container = client.V1Container(
        name="main",
        image=DEFAULT_IMAGE,
        resources=client.V1ResourceRequirements(requests={"cpu": cpu, "memory": memory}),
    )
    return client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels={"app": app}),
        spec=client.V1PodSpec(containers=[container], restart_policy=restart_policy),
    )


def create_namespace(
    api: client.ApiClient,
    name: str,
    *,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    exist_ok: bool = False,
) -> client.V1Namespace:
    core = client.CoreV1Api(api)
    body = client.V1Namespace(metadata=_meta(name, labels=labels, annotations=annotations))
    return _create_or_get(
        lambda: core.create_namespace(body), lambda: core.read_namespace(name), exist_ok
    )


def create_deployment(
    api: client.ApiClient,
    namespace: str,
    name: str,
    *,
    replicas: int = 1,
    cpu: str = "100m",
    memory: str = "128Mi",
    annotations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    exist_ok: bool = False,
) -> client.V1Deployment:
    apps = client.AppsV1Api(api)
    body = client.V1Deployment(
        metadata=_meta(name, namespace, labels=labels, annotations=annotations),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels={"app": name}),
            template=_pod_template(name, cpu=cpu, memory=memory),
        ),
    )
    return _create_or_get(
        lambda: apps.create_namespaced_deployment(namespace, body),
        lambda: apps.read_namespaced_deployment(name, namespace),
        exist_ok,
    )


def create_statefulset(
    api: client.ApiClient,
    namespace: str,
    name: str,
    *,
    replicas: int = 1,
    cpu: str = "100m",
    memory: str = "128Mi",
    annotations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    exist_ok: bool = False,
) -> client.V1StatefulSet:
    apps = client.AppsV1Api(api)
    body = client.V1StatefulSet(
        metadata=_meta(name, namespace, labels=labels, annotations=annotations),
        spec=client.V1StatefulSetSpec(
            replicas=replicas,
            service_name=name,
            selector=client.V1LabelSelector(match_labels={"app": name}),
            template=_pod_template(name, cpu=cpu, memory=memory),
        ),
    )
    return _create_or_get(
        lambda: apps.create_namespaced_stateful_set(namespace, body),
        lambda: apps.read_namespaced_stateful_set(name, namespace),
        exist_ok,
    )


def create_cronjob(
    api: client.ApiClient,
    namespace: str,
    name: str,
    *,
    schedule: str = "*/15 * * * *",
    suspend: bool = False,
    cpu: str = "100m",
    memory: str = "128Mi",
    annotations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    exist_ok: bool = False,
) -> client.V1CronJob:
    batch = client.BatchV1Api(api)
    job_template = client.V1JobTemplateSpec(
        spec=client.V1JobSpec(
            template=_pod_template(name, cpu=cpu, memory=memory, restart_policy="Never")
        )
    )
    body = client.V1CronJob(
        metadata=_meta(name, namespace, labels=labels, annotations=annotations),
        spec=client.V1CronJobSpec(schedule=schedule, suspend=suspend, job_template=job_template),
    )
    return _create_or_get(
        lambda: batch.create_namespaced_cron_job(namespace, body),
        lambda: batch.read_namespaced_cron_job(name, namespace),
        exist_ok,
    )


def create_custom_object(
    api: client.ApiClient, body: Mapping[str, Any], *, plural: str, exist_ok: bool = False
) -> dict[str, Any]:
    """Create a namespaced custom object (e.g. a ScaledObject or Rollout) from a manifest dict."""
    custom = client.CustomObjectsApi(api)
    group, version = str(body["apiVersion"]).split("/", 1)
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    result = _create_or_get(
        lambda: custom.create_namespaced_custom_object(
            group, version, namespace, plural, dict(body)
        ),
        lambda: custom.get_namespaced_custom_object(group, version, namespace, plural, name),
        exist_ok,
    )
    return cast("dict[str, Any]", result)


def set_ready_status(
    api: client.ApiClient, namespace: str, name: str, *, kind: str = "Deployment"
) -> None:
    """Write a status saying every desired replica is ready (no controllers run locally)."""
    apps = client.AppsV1Api(api)
    if kind == "Deployment":
        replicas = apps.read_namespaced_deployment(name, namespace).spec.replicas or 0
        status: dict[str, Any] = {
            "replicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "updatedReplicas": replicas,
        }
        apps.patch_namespaced_deployment_status(
            name, namespace, {"status": status}, _content_type="application/merge-patch+json"
        )
    elif kind == "StatefulSet":
        replicas = apps.read_namespaced_stateful_set(name, namespace).spec.replicas or 0
        status = {
            "replicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "currentReplicas": replicas,
        }
        apps.patch_namespaced_stateful_set_status(
            name, namespace, {"status": status}, _content_type="application/merge-patch+json"
        )
    else:
        raise ValueError(f"set_ready_status does not support kind {kind!r}")
