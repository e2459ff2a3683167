"""``--events`` on a real API server: the Events exist, name the workload by uid, and are the ones
``kubectl describe`` finds; a token that may not create Events still converges."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from devtools import LocalCluster
from devtools.workloads import create_cronjob, create_deployment
from nsshutdown import constants as c
from tests.integration.converge_support import World, service_account_kubeconfig


@pytest.fixture
def world(cluster: LocalCluster, tmp_path: Path) -> Iterator[World]:
    with World(cluster, tmp_path) as w:
        yield w


def _events(world: World, namespace: str, name: str) -> list[Any]:
    """What ``kubectl events --for`` reads: events.k8s.io/v1, selected by ``regarding``."""
    events = client.EventsV1Api(world.api).list_namespaced_event(
        namespace, field_selector=f"regarding.name={name}"
    )
    return sorted(events.items, key=lambda e: e.event_time)


def test_run_with_events_records_each_scaling_on_the_workload(world: World) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=3)
    create_cronjob(world.api, ns, "report")
    deployment = world.get("Deployment", ns, "api")

    down = world.cli("run", "--events", "-s", world.schedule(down=True))

    assert down.code == 0, down.stderr
    (event,) = _events(world, ns, "api")
    assert event.reason == "ScaledDown"
    assert event.type == "Normal"
    assert event.action == "ScaleDown"
    assert event.reporting_controller == c.EVENT_REPORTING_CONTROLLER
    assert event.reporting_instance
    run_id = down.doc["run_id"]
    assert event.note == (
        f"nsshutdown: scaled Deployment {ns}/api from 3 to 0 (schedule test, run {run_id})"
    )
    regarding = event.regarding
    assert (regarding.api_version, regarding.kind, regarding.name, regarding.namespace) == (
        "apps/v1", "Deployment", "api", ns,
    )  # fmt: skip
    assert regarding.uid == deployment["metadata"]["uid"]
    assert regarding.resource_version == deployment["metadata"]["resourceVersion"]
    assert event.event_time is not None
    (suspended,) = _events(world, ns, "report")
    assert suspended.reason == "ScaledDown"
    assert suspended.note.startswith(f"nsshutdown: suspended CronJob {ns}/report (")

    up = world.cli("run", "--events", "-s", world.schedule(down=False))

    assert up.code == 0, up.stderr
    assert [e.reason for e in _events(world, ns, "api")] == ["ScaledDown", "Restored"]


def test_kubectl_describe_finds_them(world: World) -> None:
    """``kubectl describe`` lists core/v1 events by involvedObject kind, name, namespace and uid."""
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=2)
    uid = world.get("Deployment", ns, "api")["metadata"]["uid"]
    assert world.cli("run", "--events", "-s", world.schedule(down=True)).code == 0
    selector = (
        f"involvedObject.name=api,involvedObject.namespace={ns},"
        f"involvedObject.kind=Deployment,involvedObject.uid={uid}"
    )
    found = client.CoreV1Api(world.api).list_namespaced_event(ns, field_selector=selector)
    assert [(e.reason, e.type) for e in found.items] == [("ScaledDown", "Normal")]
    assert found.items[0].reporting_component == c.EVENT_REPORTING_CONTROLLER
    # what docs/observability.md tells operators to run to see every Event of the tool
    reported = f"reportingComponent={c.EVENT_REPORTING_CONTROLLER}"
    ours = client.CoreV1Api(world.api).list_event_for_all_namespaces(field_selector=reported)
    assert uid in {e.involved_object.uid for e in ours.items}


@pytest.mark.parametrize("flag", ["--dry-run", "--dry-run=server", "--no-events"])
def test_no_events_without_a_real_write(world: World, flag: str) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=2)
    result = world.cli("run", "--events", flag, "-s", world.schedule(down=True))
    assert result.code == 0, result.stderr
    assert _events(world, ns, "api") == []


def test_a_token_that_may_not_create_events_still_converges(world: World) -> None:
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=2)
    kubeconfig = service_account_kubeconfig(
        world, "no-events", patch_in=[ns], cluster_wide_read=False
    )
    result = world.cli(
        "run", "--events", "--scope-namespaces", ns, "-s", world.schedule(down=True),
        kubeconfig=kubeconfig,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert result.doc["errors"] == 0
    assert result.doc["circuit_open"] is False
    assert world.replicas(ns, "api") == 0
    assert _events(world, ns, "api") == []
    assert any("not created" in m and "403" in m for m in result.log_messages), result.stderr
