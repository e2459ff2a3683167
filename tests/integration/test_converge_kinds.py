"""Kinds added through the registry, on a real API server: Jobs, and a custom resource declared in
the schedule (``customKinds``) with no release of nsshutdown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import LocalCluster
from devtools.crd import register_crds
from devtools.workloads import create_custom_object, create_deployment
from nsshutdown import constants as c
from tests.integration.converge_support import World, service_account_kubeconfig

CLONESET_CRD = Path(__file__).resolve().parents[1] / "fixtures" / "crds" / "cloneset.yaml"
CUSTOM_KINDS = (
    "customKinds:\n"
    "  - {kind: CloneSet, group: apps.kruise.io, version: v1alpha1, resource: clonesets}\n"
)


@pytest.fixture
def world(cluster: LocalCluster, tmp_path: Path) -> Iterator[World]:
    with World(cluster, tmp_path) as w:
        yield w


def _job(namespace: str, name: str) -> dict[str, object]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "batch",
                            "image": "registry.example/batch:1",
                            "resources": {"requests": {"cpu": "500m"}},
                        }
                    ],
                }
            }
        },
    }


def test_a_job_is_suspended_for_the_night_and_resumed_in_the_morning(world: World) -> None:
    ns = world.namespace()
    create_custom_object(world.api, _job(ns, "report"), plural="jobs")

    down = world.cli("run", "-s", world.schedule(down=True, kinds="[Job]"))

    assert down.code == 0, down.stderr
    (action,) = down.namespace(ns)["actions"]
    assert (action["kind"], action["field"], action["from"], action["to"]) == (
        "Job", "spec.suspend", False, True,
    )  # fmt: skip
    job = world.get("Job", ns, "report")
    assert job["spec"]["suspend"] is True
    assert world.ours(ns, "report", "Job")[c.ORIGINAL_SUSPEND] == "false"

    up = world.cli("run", "-s", world.schedule(down=False, kinds="[Job]"))

    assert up.code == 0, up.stderr
    assert world.get("Job", ns, "report")["spec"]["suspend"] is False
    assert world.ours(ns, "report", "Job") == {}


def test_jobs_are_left_alone_unless_the_schedule_names_them(world: World) -> None:
    ns = world.namespace()
    create_custom_object(world.api, _job(ns, "migration"), plural="jobs")

    down = world.cli("run", "-s", world.schedule(down=True, kinds="[Deployment]"))

    assert down.code == 0, down.stderr
    assert world.get("Job", ns, "migration")["spec"].get("suspend") is False
    assert world.ours(ns, "migration", "Job") == {}


def test_a_custom_resource_declared_in_the_schedule_is_scaled_and_restored(
    world: World, cluster: LocalCluster
) -> None:
    register_crds(world.api, [CLONESET_CRD])
    ns = world.namespace()
    create_custom_object(
        world.api,
        {
            "apiVersion": "apps.kruise.io/v1alpha1",
            "kind": "CloneSet",
            "metadata": {"name": "web", "namespace": ns},
            "spec": {"replicas": 4, "template": {"spec": {"containers": []}}},
        },
        plural="clonesets",
    )
    schedule = world.schedule(down=True, kinds="[Deployment, CloneSet]", extra=CUSTOM_KINDS)

    down = world.cli("run", "-s", schedule)

    assert down.code == 0, down.stderr
    (action,) = down.namespace(ns)["actions"]
    assert (action["kind"], action["action"], action["from"], action["to"]) == (
        "CloneSet", "shutdown", 4, 0,
    )  # fmt: skip
    assert world.replicas(ns, "web", "CloneSet") == 0
    assert world.ours(ns, "web", "CloneSet")[c.ORIGINAL_REPLICAS] == "4"

    # The kind stays declared but leaves `kinds`: restores still apply to what it holds.
    up_schedule = world.schedule(
        down=False, kinds="[Deployment]", extra=CUSTOM_KINDS, file="up.yaml"
    )
    up = world.cli("run", "-s", up_schedule)

    assert up.code == 0, up.stderr
    assert world.replicas(ns, "web", "CloneSet") == 4
    assert world.ours(ns, "web", "CloneSet") == {}


def test_check_asks_for_the_custom_kinds_permissions_and_sees_it_served(world: World) -> None:
    register_crds(world.api, [CLONESET_CRD])
    world.namespace()
    schedule = world.schedule(down=True, kinds="[CloneSet]", extra=CUSTOM_KINDS)

    result = world.cli("check", "-s", schedule, logs=False)

    assert result.code == 0, result.doc
    rows = {(r["check"], r["subject"]): r["status"] for r in result.doc["checks"]}
    assert rows[("permission", "clonesets.apps.kruise.io (all namespaces)")] == "pass"
    assert rows[("kind", "CloneSet")] == "pass"


def test_a_declared_kind_whose_crd_is_absent_is_skipped_not_fatal(world: World) -> None:
    ns = world.namespace()
    absent = (
        "customKinds:\n"
        "  - {kind: Widget, group: widgets.example.com, version: v1, resource: widgets}\n"
    )
    schedule = world.schedule(down=True, kinds="[Deployment, Widget]", extra=absent)

    result = world.cli("run", "-s", schedule)

    assert result.code == 0, result.stderr
    assert result.namespace(ns)["actions"] == []


def test_a_role_without_a_kind_no_schedule_uses_still_converges(world: World) -> None:
    # A ClusterRole from before Jobs were scaled: it cannot list them, and no schedule names them.
    ns = world.namespace()
    create_deployment(world.api, ns, "api", replicas=2)
    kubeconfig = service_account_kubeconfig(world, "old-role", patch_in=[ns], without=["jobs"])

    down = world.cli("run", "-s", world.schedule(down=True), kubeconfig=kubeconfig)

    assert down.code == 0, down.stderr
    assert world.replicas(ns, "api") == 0


def test_a_kind_the_role_cannot_list_fails_only_the_namespaces_that_shut_it_down(
    world: World,
) -> None:
    needs_jobs, other = world.namespace(), world.namespace()
    create_deployment(world.api, needs_jobs, "api", replicas=2)
    create_deployment(world.api, other, "web", replicas=3)
    kubeconfig = service_account_kubeconfig(
        world, "no-jobs", patch_in=[needs_jobs, other], without=["jobs"]
    )
    window = "    windows: [{shutdown: '* * * * *', startup: '0 0 1 1 *'}]\n"
    schedule = (
        "version: 1\ndefaults: {gracePeriod: 0s}\nschedules:\n"
        f"  - name: batch\n    namespaces: {{names: [{needs_jobs}]}}\n"
        f"    kinds: [Deployment, Job]\n{window}"
        f"  - name: web\n    namespaces: {{names: [{other}]}}\n{window}"
    )
    path = world.tmp_path / "mixed.yaml"
    path.write_text(schedule)

    result = world.cli("run", "-s", path, kubeconfig=kubeconfig)

    assert result.code == 2, result.stderr
    failed = result.namespace(needs_jobs)
    assert failed["status"] == "failed"
    assert "may not list jobs.batch" in failed["error"]
    assert world.replicas(needs_jobs, "api") == 2  # untouched, not half down
    assert world.replicas(other, "web") == 0
