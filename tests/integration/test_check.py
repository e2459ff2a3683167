"""``nsshutdown check`` and ``validate --cluster`` against the real API server: the admin passes,
a restricted ServiceAccount is told what it lacks, a dead port is exit 3, overlaps are real."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from devtools import LocalCluster, LocalPushgateway
from tests.integration.converge_support import World, kubeconfig_via, service_account_kubeconfig


@pytest.fixture
def world(cluster: LocalCluster, tmp_path: Path) -> Iterator[World]:
    with World(cluster, tmp_path) as w:
        yield w


def _by_status(doc: dict[str, Any], status: str) -> set[str]:
    return {f"{r['check']} {r['subject']}".strip() for r in doc["checks"] if r["status"] == status}


def _configmap_schedule(world: World, namespace: str) -> str:
    text = yaml.safe_dump({"version": 1, "schedules": []})
    body = client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="nsshutdown-schedule"), data={"schedule.yaml": text}
    )
    client.CoreV1Api(world.api).create_namespaced_config_map(namespace, body)
    return f"{namespace}/nsshutdown-schedule"


def test_the_admin_passes_every_check(world: World) -> None:
    home = world.namespace()
    args = ["--events", "--configmap", _configmap_schedule(world, home)]
    result = world.cli("check", *args)
    assert result.code == 0, result.doc
    assert _by_status(result.doc, "fail") == set()
    assert _by_status(result.doc, "skip") == set()
    rows = {r["check"]: r for r in result.doc["checks"]}
    assert rows["api"]["detail"].startswith("reachable, Kubernetes v1.")
    assert rows["identity"]["status"] == "pass"
    assert "system:masters" in rows["identity"]["detail"]
    assert {r["subject"] for r in result.doc["checks"] if r["check"] == "permission"} >= {
        "deployments.apps (all namespaces)",
        "events.events.k8s.io (all namespaces)",
        f"configmaps in {home}",
    }
    # the harness serves the KEDA and Argo Rollouts CRDs
    kinds = {r["subject"]: r["status"] for r in result.doc["checks"] if r["check"] == "kind"}
    assert kinds == dict.fromkeys(kinds, "pass")
    assert len(kinds) == 6


def test_a_token_that_may_only_list_namespaces_fails_and_is_told_what_is_missing(
    world: World,
) -> None:
    home = world.namespace()
    name = f"lister-{uuid.uuid4().hex[:6]}"
    rbac = client.RbacAuthorizationV1Api(world.api)
    rule = client.V1PolicyRule(api_groups=[""], resources=["namespaces"], verbs=["list"])
    rbac.create_cluster_role(
        client.V1ClusterRole(metadata=client.V1ObjectMeta(name=name), rules=[rule])
    )
    subject = client.RbacV1Subject(kind="ServiceAccount", name=name, namespace=home)
    ref = client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=name)
    rbac.create_cluster_role_binding(
        client.V1ClusterRoleBinding(
            metadata=client.V1ObjectMeta(name=name), role_ref=ref, subjects=[subject]
        )
    )
    token = world.cluster.create_service_account_token(home, name)
    kubeconfig = world.cluster.kubeconfig_for_token(token, world.tmp_path / "lister.kubeconfig")
    _wait_for(world, f"system:serviceaccount:{home}:{name}", "list", "namespaces")

    result = world.cli("check", "--events", kubeconfig=kubeconfig)

    assert result.code == 2, result.doc
    assert result.doc["exit_code"] == 2
    rows = {r["subject"]: r for r in result.doc["checks"] if r["check"] == "permission"}
    assert rows["namespaces (all namespaces)"]["missing"] == ["get namespaces"]
    assert rows["deployments.apps (all namespaces)"]["missing"] == [
        "get deployments.apps", "list deployments.apps", "patch deployments.apps",
    ]  # fmt: skip
    assert rows["events.events.k8s.io (all namespaces)"]["missing"] == [
        "create events.events.k8s.io"
    ]
    assert "permission pods (all namespaces)" in result.doc["failed"]
    identity = next(r for r in result.doc["checks"] if r["check"] == "identity")
    assert identity["detail"].startswith(f"system:serviceaccount:{home}:{name}")


def _wait_for(world: World, user: str, verb: str, resource: str) -> None:
    """RBAC reaches the authorizer's cache asynchronously: wait until the grant is in effect."""
    attributes = client.V1ResourceAttributes(resource=resource, verb=verb)
    review = client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(user=user, resource_attributes=attributes)
    )
    auth = client.AuthorizationV1Api(world.api)
    deadline = time.monotonic() + 15
    while not auth.create_subject_access_review(review).status.allowed:
        if time.monotonic() > deadline:
            raise TimeoutError(f"RBAC never allowed {user} to {verb} {resource}")
        time.sleep(0.2)


def test_scoped_check_asks_per_namespace(world: World) -> None:
    team = world.namespace()
    world.namespace()  # the ServiceAccount's home is the first namespace of the test
    kubeconfig = service_account_kubeconfig(
        world, "scoped-check", patch_in=[team], cluster_wide_read=False
    )
    result = world.cli("check", "--scope-namespaces", team, kubeconfig=kubeconfig)
    assert result.code == 2, result.doc
    # granted: namespaces and workload kinds in the namespace; not granted: pods
    assert result.doc["failed"] == [f"permission pods in {team}"]
    passed = _by_status(result.doc, "pass")
    assert f"permission deployments.apps in {team}" in passed
    assert f"permission namespaces in {team}" in passed


def test_a_dead_port_is_exit_3(world: World, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = kubeconfig_via(world.cluster, port, tmp_path / "dead.kubeconfig")
    result = world.cli("check", "--retries", "0", "--request-timeout", "3", kubeconfig=dead)
    assert result.code == 3, result.doc
    api = next(r for r in result.doc["checks"] if r["check"] == "api")
    assert api["status"] == "fail"
    assert "cannot reach" in api["detail"]


def test_pushgateway_is_checked(world: World, pushgateway: LocalPushgateway) -> None:
    ready = world.cli("check", "--pushgateway", pushgateway.url)
    assert ready.code == 0, ready.doc
    assert "pushgateway " + pushgateway.url in _by_status(ready.doc, "pass")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gone = world.cli("check", "--pushgateway", f"http://127.0.0.1:{port}")
    assert gone.code == 2
    assert gone.doc["failed"] == [f"pushgateway http://127.0.0.1:{port}"]


def test_validate_cluster_reports_a_real_overlap(world: World, tmp_path: Path) -> None:
    team = f"team-{uuid.uuid4().hex[:8]}"
    both = world.namespace(labels={"team": team})
    only_label = world.namespace(labels={"team": team})
    schedule = tmp_path / "overlap.yaml"
    schedule.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "schedules": [
                    {
                        "name": "by-name",
                        "namespaces": {"names": [both]},
                        "holidays": ["2026-12-25"],
                    },
                    {
                        "name": "by-label",
                        "namespaces": {"selector": f"team={team}"},
                        "holidays": ["2026-12-25"],
                    },
                    {
                        "name": "nobody",
                        "namespaces": {"names": [f"{team}-none-*"]},
                        "holidays": ["2026-12-25"],
                    },
                ],
            }
        )
    )
    result = world.cli("validate", "-s", schedule, "--cluster", logs=False)
    assert result.code == 0, result.doc
    found = result.doc["cluster"]
    assert found["overlaps"] == [{"namespace": both, "owner": "by-name", "also": ["by-label"]}]
    by_name = {s["name"]: s for s in found["schedules"]}
    assert by_name["by-name"]["namespaces"] == [both]
    assert by_name["by-label"]["namespaces"] == [only_label]
    assert by_name["by-label"]["shadowed"] == [both]
    assert found["unmatched"] == ["nobody"]
    assert any("by-name and by-label" in w for w in result.doc["warnings"])

    strict = world.cli("validate", "-s", schedule, "--cluster", "--strict", logs=False)
    assert strict.code == 1


def test_an_admin_checks_a_service_accounts_rbac_without_its_token(world: World) -> None:
    home, team = world.namespace(), world.namespace()
    # may read everything, but patch only in `team`: a run would fail everywhere else
    service_account_kubeconfig(world, "runner", patch_in=[team])

    result = world.cli("check", "--as", f"{home}/runner", logs=False)

    assert result.code == 2, result.doc
    identity = next(r for r in result.doc["checks"] if r["check"] == "identity")
    assert identity["detail"].startswith(f"system:serviceaccount:{home}:runner")
    failed = set(result.doc["failed"])
    assert "permission deployments.apps (all namespaces)" in failed
    assert "permission namespaces (all namespaces)" not in failed  # reads are granted
    scoped = world.cli(
        "check", "--as", f"system:serviceaccount:{home}:runner", "--scope-namespaces", team,
        logs=False,
    )  # fmt: skip
    assert f"permission deployments.apps in {team}" not in set(scoped.doc["failed"])
