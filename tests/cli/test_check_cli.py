"""``nsshutdown check`` through the real CLI, against an in-memory preflight and a local server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from nsshutdown.model import Kind
from nsshutdown.run import permissions
from tests.cli.support import ALWAYS_DOWN, cli, connect_to
from tests.fakes import FakePreflight

ROOT = Path(__file__).resolve().parents[2]
#: What every cluster-wide run needs, as `check` names it.
RUN_NEEDS = {
    "get namespaces", "list namespaces", "list pods",
    *(f"{verb} {plural}" for verb in ("get", "list", "patch") for plural in (
        "deployments.apps", "statefulsets.apps", "cronjobs.batch", "jobs.batch",
        "scaledobjects.keda.sh", "rollouts.argoproj.io",
    )),
}  # fmt: skip
EVENTS_NEEDS = {"create events.events.k8s.io", "create events"}


@pytest.fixture
def preflight(monkeypatch: pytest.MonkeyPatch) -> FakePreflight:
    fake = FakePreflight(configmaps={("ops", "nsshutdown"): {"schedule.yaml": "version: 1\n"}})
    return connect_to(monkeypatch, fake, attribute="connect_preflight")


def valid_schedule(tmp_path: Path) -> Path:
    path = tmp_path / "schedule.yaml"
    path.write_text(ALWAYS_DOWN.format(grace="0s"))
    return path


def rows(doc: dict[str, Any], check: str) -> list[dict[str, Any]]:
    return [row for row in doc["checks"] if row["check"] == check]


def test_everything_granted_passes(preflight: FakePreflight, tmp_path: Path) -> None:
    code, doc, _ = cli("check", "-s", valid_schedule(tmp_path), "-o", "json")
    assert code == 0, doc
    assert doc["exit_code"] == 0
    assert doc["failed"] == []
    assert {row["status"] for row in doc["checks"]} == {"pass"}
    assert {str(p) for p in preflight.asked} == RUN_NEEDS
    (api,) = rows(doc, "api")
    assert api["detail"] == "reachable, Kubernetes v1.31.0"
    (schedule,) = rows(doc, "schedule")
    assert schedule["detail"] == "valid; schedules: always-down"
    assert rows(doc, "identity")[0]["detail"] == "system:serviceaccount:nsshutdown:nsshutdown"
    assert {row["subject"] for row in rows(doc, "kind")} == {k.value for k in Kind}


def test_events_and_configmap_add_their_permissions(preflight: FakePreflight) -> None:
    code, doc, _ = cli("check", "--events", "--configmap", "ops/nsshutdown", "-o", "json")
    assert code == 0, doc
    wanted = RUN_NEEDS | EVENTS_NEEDS | {"get configmaps/nsshutdown in ops"}
    assert {str(p) for p in preflight.asked} == wanted
    assert rows(doc, "schedule")[0]["subject"] == "configmap ops/nsshutdown:schedule.yaml"


def test_scope_asks_per_namespace_and_nothing_cluster_wide(preflight: FakePreflight) -> None:
    code, _, _ = cli("check", "--scope-namespaces", "team-a,team-b", "--events", "-o", "json")
    assert code == 0
    asked = {str(p) for p in preflight.asked}
    assert all(p.namespace in ("team-a", "team-b") for p in preflight.asked)
    assert "get namespaces/team-a in team-a" in asked
    assert "list namespaces in team-a" not in asked  # a scoped run only gets its namespaces
    assert "patch rollouts.argoproj.io in team-b" in asked
    assert "create events.events.k8s.io in team-b" in asked
    assert len(asked) == 2 * (1 + 6 * 3 + 1 + 2)


def test_a_missing_permission_is_exit_2_and_named(preflight: FakePreflight, tmp_path: Path) -> None:
    preflight.denied = {"patch deployments.apps", "list pods"}
    code, doc, _ = cli("check", "-s", valid_schedule(tmp_path), "-o", "json")
    assert code == 2
    assert doc["exit_code"] == 2
    failed = {row["subject"]: row for row in rows(doc, "permission") if row["status"] == "fail"}
    assert set(failed) == {"deployments.apps (all namespaces)", "pods (all namespaces)"}
    assert failed["deployments.apps (all namespaces)"]["missing"] == ["patch deployments.apps"]
    assert doc["failed"] == [
        "permission deployments.apps (all namespaces)",
        "permission pods (all namespaces)",
    ]
    code, text, _ = cli("check", "-s", valid_schedule(tmp_path))
    assert code == 2
    assert "missing: patch deployments.apps" in text
    assert "2 failed" in text


def test_an_absent_crd_is_information_not_failure(preflight: FakePreflight) -> None:
    preflight.kinds = frozenset({Kind.DEPLOYMENT, Kind.STATEFULSET, Kind.CRONJOB, Kind.JOB})
    code, doc, _ = cli("check", "-o", "json")
    assert code == 0
    kinds = {row["subject"]: row["status"] for row in rows(doc, "kind")}
    assert kinds == {
        "Deployment": "pass", "StatefulSet": "pass", "CronJob": "pass",
        "Job": "pass", "ScaledObject": "info", "Rollout": "info",
    }  # fmt: skip
    # the grants are still needed: authorization comes before the 404
    assert "patch rollouts.argoproj.io" in {str(p) for p in preflight.asked}


def test_no_identity_review_is_skipped(preflight: FakePreflight) -> None:
    preflight.who = None
    code, doc, _ = cli("check", "-o", "json")
    assert code == 0
    assert rows(doc, "identity")[0]["status"] == "skip"


def test_unreachable_api_is_exit_3(preflight: FakePreflight, tmp_path: Path) -> None:
    preflight.unreachable = True
    code, doc, _ = cli("check", "-s", valid_schedule(tmp_path), "-o", "json")
    assert code == 3
    (api,) = rows(doc, "api")
    assert api["status"] == "fail"
    assert "cannot reach" in api["detail"]
    assert {row["status"] for row in rows(doc, "permission")} == {"skip"}


@pytest.mark.parametrize("unreachable", [False, True], ids=["reachable", "unreachable"])
def test_an_invalid_schedule_is_exit_1_whatever_else(
    preflight: FakePreflight, tmp_path: Path, unreachable: bool
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nbogus: true\n")
    preflight.unreachable = unreachable
    preflight.denied = {"list namespaces"}
    code, doc, _ = cli("check", "-s", bad, "-o", "json")
    assert code == 1
    (schedule,) = rows(doc, "schedule")
    assert schedule["status"] == "fail"
    assert "bogus" in schedule["detail"]


def test_configmap_schedule_problems(preflight: FakePreflight) -> None:
    code, doc, _ = cli("check", "--configmap", "ops/missing", "-o", "json")
    assert code == 1
    assert "not found" in rows(doc, "schedule")[0]["detail"]
    preflight.forbidden_configmaps.add(("ops", "nsshutdown"))
    preflight.denied = {"get configmaps/nsshutdown in ops"}
    code, doc, _ = cli("check", "--configmap", "ops/nsshutdown", "-o", "json")
    assert code == 2
    assert "403" in rows(doc, "schedule")[0]["detail"]


def test_schedule_file_and_configmap_together_is_a_usage_error(
    preflight: FakePreflight, tmp_path: Path
) -> None:
    code, _, err = cli("check", "-s", valid_schedule(tmp_path), "--configmap", "ops/nsshutdown")
    assert code == 1
    assert "not both" in err
    assert preflight.connected == []  # type: ignore[attr-defined]


# --- the Pushgateway ------------------------------------------------------------------------------


class Gateway(BaseHTTPRequestHandler):
    status = 200
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        Gateway.seen.append((self.path, self.headers.get("Authorization")))
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *_: Any) -> None:
        return


@pytest.fixture
def gateway() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    Gateway.seen, Gateway.status = [], 200
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_pushgateway_ready_with_basic_auth(
    preflight: FakePreflight, gateway: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NSSHUTDOWN_PUSHGATEWAY_PASSWORD", "s3cret")
    args = ["--pushgateway", gateway, "--pushgateway-username", "job", "-o", "json"]
    code, doc, _ = cli("check", *args)
    assert code == 0, doc
    assert rows(doc, "pushgateway")[0]["status"] == "pass"
    ((path, auth),) = Gateway.seen
    assert path == "/-/ready"
    assert auth == "Basic am9iOnMzY3JldA=="  # job:s3cret


def test_pushgateway_not_ready_is_exit_2(preflight: FakePreflight, gateway: str) -> None:
    Gateway.status = 503
    code, doc, _ = cli("check", "--pushgateway", gateway, "-o", "json")
    assert code == 2
    (row,) = rows(doc, "pushgateway")
    assert row["status"] == "fail"
    assert "503" in row["detail"]


# --- one table of permissions, and the ClusterRole that grants them -------------------------------


def _granted(path: Path) -> set[tuple[str, str, str]]:
    (role,) = [d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] == "ClusterRole"]
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_the_base_clusterrole_grants_every_permission_a_run_needs() -> None:
    granted = _granted(ROOT / "manifests" / "base" / "clusterrole.yaml")
    needed = {
        (need.group, need.resource, verb)
        for need in (*permissions.RUN, *permissions.EVENTS)
        for verb in need.verbs
    }
    assert needed <= granted
    # and grants nothing on a resource the table does not document (`check` itself asks SSARs)
    documented = {(n.group, n.resource) for n in (*permissions.RUN, *permissions.EVENTS)}
    extra = {(g, r) for g, r, _ in granted} - documented
    assert extra == {("authorization.k8s.io", "selfsubjectaccessreviews")}


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        ("nsshutdown/nsshutdown", ("nsshutdown", "nsshutdown")),
        ("system:serviceaccount:ops:runner", ("ops", "runner")),
    ],
)
def test_check_as_a_service_account_asks_about_it(
    preflight: FakePreflight, text: str, subject: tuple[str, str]
) -> None:
    code, _, _ = cli("check", "--as", text, "-o", "json")
    assert code == 0
    assert preflight.connected_how == {"as_service_account": subject}  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", ["nsshutdown", "a/b/c", "/x", "system:serviceaccount:ops"])
def test_a_malformed_service_account_is_exit_1(preflight: FakePreflight, text: str) -> None:
    code, _, stderr = cli("check", "--as", text)
    assert code == 1
    assert "expected NAMESPACE/SERVICEACCOUNT" in stderr
