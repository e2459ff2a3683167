"""Credentials against the real API server: which are read without the Kubernetes client (and
work), which go to the client (and work as before), and TLS that is always verified."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools import LocalCluster
from devtools.certs import write_pki
from devtools.workloads import create_deployment
from nsshutdown.errors import ClusterUnreachableError
from nsshutdown.kube import KubeCluster
from nsshutdown.kube.auth import ApiClientEndpoint
from nsshutdown.kube.connection import Connection
from nsshutdown.kube.credentials import open_endpoint
from nsshutdown.kube.preflight import KubePreflight

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def connect() -> Iterator[Any]:
    opened: list[KubeCluster] = []

    def connect(kubeconfig: Path) -> KubeCluster:
        opened.append(KubeCluster.connect(kubeconfig=kubeconfig))
        return opened[-1]

    yield connect
    for kube in opened:
        kube.close()


def _rewrite(source: Path, target: Path, change: Any) -> Path:
    doc = yaml.safe_load(source.read_text())
    change(doc["clusters"][0]["cluster"], doc["users"][0]["user"])
    target.write_text(yaml.safe_dump(doc))
    return target


def _token(cluster: LocalCluster, namespace: str) -> str:
    return cluster.create_service_account_token(namespace, "reader")


def _who(kube: KubeCluster) -> str | None:
    return KubePreflight(kube).identity()


def test_the_admin_kubeconfig_is_read_without_the_client(
    cluster: LocalCluster, namespace: str, connect: Any
) -> None:
    kube = connect(cluster.kubeconfig_path)
    assert isinstance(kube.endpoint, Connection)
    assert namespace in {n.name for n in kube.observe(()).namespaces}


def test_a_kubeconfig_with_files_relative_to_it(
    cluster: LocalCluster, namespace: str, tmp_path: Path, connect: Any
) -> None:
    shutil.copy(cluster.pki.ca_cert, tmp_path / "ca.crt")
    shutil.copy(cluster.pki.admin_cert, tmp_path / "admin.crt")
    shutil.copy(cluster.pki.admin_key, tmp_path / "admin.key")

    def files(cluster_: dict[str, Any], user: dict[str, Any]) -> None:
        cluster_.pop("certificate-authority-data")
        cluster_["certificate-authority"] = "ca.crt"
        user.clear()
        user |= {"client-certificate": "admin.crt", "client-key": "admin.key"}

    kube = connect(_rewrite(cluster.kubeconfig_path, tmp_path / "config", files))
    assert isinstance(kube.endpoint, Connection)
    assert namespace in {n.name for n in kube.observe(()).namespaces}


@pytest.mark.parametrize("field", ["token", "tokenFile"])
def test_a_service_account_token_is_read_without_the_client(
    cluster: LocalCluster, namespace: str, tmp_path: Path, connect: Any, field: str
) -> None:
    token = _token(cluster, namespace)
    (tmp_path / "token").write_text(token)

    def use_token(_: dict[str, Any], user: dict[str, Any]) -> None:
        user.clear()
        user[field] = token if field == "token" else "token"  # relative to the kubeconfig

    kube = connect(_rewrite(cluster.kubeconfig_path, tmp_path / "config", use_token))
    assert isinstance(kube.endpoint, Connection)
    assert str(_who(kube)).startswith(f"system:serviceaccount:{namespace}:reader ")


def test_in_cluster_credentials_are_read_without_the_client(
    cluster: LocalCluster, namespace: str, tmp_path: Path
) -> None:
    directory = tmp_path / "serviceaccount"
    directory.mkdir()
    (directory / "token").write_text(_token(cluster, namespace))
    shutil.copy(cluster.pki.ca_cert, directory / "ca.crt")
    host, port = cluster.server_url.removeprefix("https://").rsplit(":", 1)
    environ = {"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port}

    endpoint = open_endpoint(
        kubeconfig=None, context=None, pool_size=2, environ=environ, service_account_dir=directory
    )
    kube = KubeCluster(endpoint)
    try:
        assert isinstance(endpoint, Connection)
        assert str(_who(kube)).startswith(f"system:serviceaccount:{namespace}:reader ")
    finally:
        kube.close()


def test_an_exec_plugin_goes_to_the_client_and_works(
    cluster: LocalCluster, namespace: str, tmp_path: Path, connect: Any
) -> None:
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": {"token": _token(cluster, namespace)},
    }
    (tmp_path / "credential.json").write_text(json.dumps(credential))
    plugin = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": sys.executable,
        "args": ["-c", f"print(open({str(tmp_path / 'credential.json')!r}).read())"],
    }

    def use_exec(_: dict[str, Any], user: dict[str, Any]) -> None:
        user.clear()
        user["exec"] = plugin

    kube = connect(_rewrite(cluster.kubeconfig_path, tmp_path / "config", use_exec))
    assert isinstance(kube.endpoint, ApiClientEndpoint)
    assert str(_who(kube)).startswith(f"system:serviceaccount:{namespace}:reader ")


def test_insecure_skip_tls_verify_goes_to_the_client_as_before(
    cluster: LocalCluster, namespace: str, tmp_path: Path, connect: Any
) -> None:
    def skip_verify(cluster_: dict[str, Any], _: dict[str, Any]) -> None:
        cluster_.pop("certificate-authority-data")
        cluster_["insecure-skip-tls-verify"] = True

    kube = connect(_rewrite(cluster.kubeconfig_path, tmp_path / "config", skip_verify))
    assert isinstance(kube.endpoint, ApiClientEndpoint)
    assert namespace in {n.name for n in kube.observe(()).namespaces}


def _wrong_ca(tmp_path: Path) -> str:
    (tmp_path / "other").mkdir()
    return write_pki(tmp_path / "other").ca_cert.read_text()


@pytest.mark.parametrize("ca", ["another-ca", "system-cas"])
def test_a_server_certificate_the_ca_did_not_sign_is_refused(
    cluster: LocalCluster, tmp_path: Path, connect: Any, ca: str
) -> None:
    def trust(cluster_: dict[str, Any], _: dict[str, Any]) -> None:
        cluster_.pop("certificate-authority-data")
        if ca == "another-ca":
            pem = _wrong_ca(tmp_path).encode()
            cluster_["certificate-authority-data"] = base64.b64encode(pem).decode()

    kube = connect(_rewrite(cluster.kubeconfig_path, tmp_path / "config", trust))
    assert isinstance(kube.endpoint, Connection)
    with pytest.raises(ClusterUnreachableError, match="CERTIFICATE_VERIFY_FAILED"):
        kube.observe(())


_MODULES = """
import contextlib, io, json, sys
from nsshutdown.cli.main import run_cli
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = run_cli(sys.argv[1:])
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def test_a_run_with_nothing_to_do_loads_neither_the_kubernetes_client_nor_the_retries(
    cluster: LocalCluster, namespace: str, tmp_path: Path
) -> None:
    with cluster.api_client() as api:
        create_deployment(api, namespace, "api", replicas=2)
    now = datetime.now(UTC)
    startup, shutdown = now - timedelta(hours=1), now + timedelta(hours=2)  # closed: stay up
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(
        textwrap.dedent(f"""\
            version: 1
            defaults: {{timezone: UTC}}
            schedules:
              - name: closed
                namespaces: {{names: ["{namespace}"]}}
                windows:
                  - shutdown: "{shutdown.minute} {shutdown.hour} * * *"
                    startup: "{startup.minute} {startup.hour} * * *"
            """)
    )
    argv = ["run", "--kubeconfig", str(cluster.kubeconfig_path), "-s", str(schedule)]
    argv += ["--output", "json", "--log-format", "json"]
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", _MODULES, *argv],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["code"] == 0, done.stderr
    report = json.loads(result["out"])
    mine = next(n for n in report["namespaces"] if n["namespace"] == namespace)
    assert (mine["desired"], mine["status"], mine["actions"]) == ("up", "unchanged", [])
    # tenacity: imported by the first request that fails, and none did
    unused = ("kubernetes", "tenacity")
    loaded = [m for m in result["modules"] if m.split(".")[0] in unused]
    assert loaded == []
    assert "nsshutdown.kube.connection" in result["modules"]  # it did connect
