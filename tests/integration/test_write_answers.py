"""What a write sends and gets back, on a real API server.

A write asks for the object's metadata alone (``PartialObjectMetadata``): the server encodes, and
the client decodes, a fraction of the object. What ``patch_workload`` returns must still be the
object as written (its new ``resourceVersion``, annotations and scaled field), because a
rollback sends its undo guarded by that version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from kubernetes import client

from devtools import LocalCluster
from devtools.workloads import create_custom_object, create_deployment
from nsshutdown import constants as c
from nsshutdown.kube import KubeCluster
from nsshutdown.kube.transport import MERGE_PATCH, METADATA_ONLY
from nsshutdown.model import Kind, Patch, Workload, WorkloadRef

pytestmark = pytest.mark.integration


@pytest.fixture
def kube(cluster: LocalCluster) -> Iterator[KubeCluster]:
    connected = KubeCluster.connect(kubeconfig=cluster.kubeconfig_path)
    try:
        yield connected
    finally:
        connected.close()


def _listed(kube: KubeCluster, ref: WorkloadRef) -> Workload:
    return kube.get_workload(ref)


def test_a_write_answers_with_metadata_only(
    kube: KubeCluster, api_client: client.ApiClient, namespace: str
) -> None:
    create_deployment(api_client, namespace, "api", replicas=3)
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/api"
    body = {"metadata": {"annotations": {"example.com/touched": "yes"}}}
    response = kube.transport.send(
        "PATCH", path, body=body, content_type=MERGE_PATCH, accept=METADATA_ONLY
    )
    answer = json.loads(response.data)
    assert answer["kind"] == "PartialObjectMetadata"
    assert "spec" not in answer
    assert answer["metadata"]["annotations"]["example.com/touched"] == "yes"


@pytest.mark.parametrize("dry_run", [False, True], ids=["write", "server-dry-run"])
def test_patch_workload_returns_the_object_as_written(
    kube: KubeCluster, api_client: client.ApiClient, namespace: str, dry_run: bool
) -> None:
    create_deployment(api_client, namespace, "api", replicas=3)
    before = _listed(kube, WorkloadRef(Kind.DEPLOYMENT, namespace, "api"))
    patch = Patch(replicas=0, annotations={c.ORIGINAL_REPLICAS: "3", c.SHUTDOWN_BY: "test"})

    after = kube.patch_workload(before, patch, dry_run=dry_run)

    assert after.replicas == 0
    assert after.annotations[c.ORIGINAL_REPLICAS] == "3"
    assert after.ref == before.ref
    assert after.requests == before.requests
    now = _listed(kube, before.ref)
    if dry_run:  # nothing persisted: the version is unchanged
        assert now.replicas == 3
        assert now.resource_version == before.resource_version
        return
    assert after.resource_version == now.resource_version != before.resource_version
    assert after.written_at is not None
    assert after.written_at == now.written_at
    # the undo a rollback sends is guarded by the answer's version, and goes through
    undo = Patch(replicas=3, annotations=dict.fromkeys(c.OWN_WORKLOAD_KEYS))
    restored = kube.patch_workload(after, undo, dry_run=False)
    assert restored.replicas == 3
    assert not restored.annotations
    assert _listed(kube, before.ref).replicas == 3


def test_a_custom_kind_answers_the_same(
    kube: KubeCluster, api_client: client.ApiClient, namespace: str
) -> None:
    create_custom_object(
        api_client,
        {
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "metadata": {"name": "worker", "namespace": namespace},
            "spec": {"scaleTargetRef": {"name": "worker"}, "triggers": [{"type": "cpu"}]},
        },
        plural="scaledobjects",
    )
    before = _listed(kube, WorkloadRef(Kind.SCALEDOBJECT, namespace, "worker"))
    patch = Patch(annotations={c.KEDA_PAUSED_REPLICAS: "0", c.ORIGINAL_PAUSED_REPLICAS: ""})

    after = kube.patch_workload(before, patch, dry_run=False)

    assert after.annotations[c.KEDA_PAUSED_REPLICAS] == "0"
    assert after.resource_version == _listed(kube, before.ref).resource_version
    assert after.scale_target == before.scale_target == ("Deployment", "worker")
