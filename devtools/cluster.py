"""A real kube-apiserver + etcd on loopback, for integration tests, benchmarks and the demo.

There is no controller-manager, scheduler or kubelet: Deployments create no Pods,
``status`` stays as written, namespaces never finish deleting and no default
ServiceAccount appears. Tests use a fresh namespace each and write status themselves.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from devtools import _proc
from devtools._proc import Service
from devtools.binaries import K8sBinaries, find_binaries
from devtools.certs import ClusterPKI, write_pki
from devtools.crd import register_crds
from devtools.kubeconfig import client_cert_user, token_user, write_kubeconfig

SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"


def _http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as resp:  # noqa: S310 - loopback
            return int(resp.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def api_client_from_kubeconfig(path: Path | str) -> client.ApiClient:
    """An ``ApiClient`` for exactly this kubeconfig file (never the user's default one)."""
    api: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call,unused-ignore]
        config_file=str(path), persist_config=False
    )
    return api


class LocalCluster(Service):
    """Start etcd and kube-apiserver (RBAC on) in a temp dir; always stop them again.

    Use as a context manager, or call :meth:`start` / :meth:`stop` yourself.
    """

    def __init__(
        self,
        *,
        binaries: K8sBinaries | None = None,
        build: bool = False,
        startup_timeout: float = 120.0,
        extra_apiserver_args: Sequence[str] = (),
    ) -> None:
        self._binaries = binaries
        self._build = build
        self._startup_timeout = startup_timeout
        self._extra_args = list(extra_apiserver_args)
        self._workdir: Path | None = None
        self._pki: ClusterPKI | None = None
        self.etcd_process: subprocess.Popen[bytes] | None = None
        self.apiserver_process: subprocess.Popen[bytes] | None = None
        self.etcd_url = ""
        self.server_url = ""
        self.ports: tuple[int, ...] = ()

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        if self._binaries is None:
            self._binaries = find_binaries(build=self._build)
        self._workdir = Path(tempfile.mkdtemp(prefix="nsshutdown-k8s-"))
        try:
            (self._workdir / "pki").mkdir()
            self._pki = write_pki(self._workdir / "pki")
            self._start_servers()
            self._write_admin_kubeconfig()
        except BaseException:
            self.stop()
            raise

    def _start_servers(self, attempts: int = 3) -> None:
        # A port picked by free_port() can be taken by another process before the
        # server binds it (parallel test sessions): retry with fresh ports.
        for attempt in range(1, attempts + 1):
            try:
                self._start_etcd()
                self._start_apiserver()
                return
            except _proc.ServerStartError as exc:
                if "address already in use" not in str(exc) or attempt == attempts:
                    raise
                _proc.stop(self.apiserver_process)
                _proc.stop(self.etcd_process)
                shutil.rmtree(self.workdir / "etcd-data", ignore_errors=True)

    def stop(self) -> None:
        """Terminate both servers (process groups, SIGTERM then SIGKILL) and remove the temp dir."""
        try:
            _proc.stop(self.apiserver_process)
        finally:
            try:
                _proc.stop(self.etcd_process)
            finally:
                if self._workdir is not None:
                    shutil.rmtree(self._workdir, ignore_errors=True)
                    self._workdir = None

    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("LocalCluster is not running")
        return self._workdir

    @property
    def binaries(self) -> K8sBinaries:
        if self._binaries is None:
            raise RuntimeError("LocalCluster is not started")
        return self._binaries

    @property
    def pki(self) -> ClusterPKI:
        if self._pki is None:
            raise RuntimeError("LocalCluster is not running")
        return self._pki

    @property
    def kubeconfig_path(self) -> Path:
        return self.workdir / "admin.kubeconfig"

    @property
    def kubectl(self) -> Path | None:
        return self.binaries.kubectl

    def _start_etcd(self) -> None:
        client_port, peer_port = _proc.free_port(), _proc.free_port()
        self.etcd_url = f"http://127.0.0.1:{client_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        log = self.workdir / "etcd.log"
        self.etcd_process = _proc.start(
            [
                str(self.binaries.etcd),
                "--name=nsshutdown-test",
                f"--data-dir={self.workdir / 'etcd-data'}",
                f"--listen-client-urls={self.etcd_url}",
                f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=nsshutdown-test={peer_url}",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
            log,
        )
        self.ports = (client_port, peer_port)
        _proc.wait_until(
            lambda: _http_ok(f"{self.etcd_url}/health"),
            proc=self.etcd_process,
            what="etcd",
            log_path=log,
            timeout=self._startup_timeout,
        )

    def _apiserver_args(self, port: int) -> list[str]:
        pki = self.pki
        return [
            str(self.binaries.kube_apiserver),
            f"--etcd-servers={self.etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={port}",
            f"--cert-dir={self.workdir / 'pki'}",
            f"--tls-cert-file={pki.serving_cert}",
            f"--tls-private-key-file={pki.serving_key}",
            f"--client-ca-file={pki.ca_cert}",
            "--authorization-mode=RBAC",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
            f"--service-account-issuer=https://127.0.0.1:{port}",
            f"--service-account-key-file={pki.sa_public_key}",
            f"--service-account-signing-key-file={pki.sa_private_key}",
            "--disable-admission-plugins=ServiceAccount",
            "--allow-privileged=true",
            # No controllers run here: skip the endpoints reconciler and profiling handlers.
            "--endpoint-reconciler-type=none",
            "--profiling=false",
            *self._extra_args,
        ]

    def _start_apiserver(self) -> None:
        port = _proc.free_port()
        self.server_url = f"https://127.0.0.1:{port}"
        self.ports = (*self.ports, port)
        log = self.workdir / "kube-apiserver.log"
        self.apiserver_process = _proc.start(self._apiserver_args(port), log)
        ctx = self.admin_ssl_context()
        _proc.wait_until(
            lambda: _http_ok(f"{self.server_url}/readyz", ctx),
            proc=self.apiserver_process,
            what="kube-apiserver",
            log_path=log,
            timeout=self._startup_timeout,
        )

    def admin_ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        ctx.load_cert_chain(str(self.pki.admin_cert), str(self.pki.admin_key))
        return ctx

    def _write_admin_kubeconfig(self) -> None:
        user = client_cert_user(self.pki.admin_cert.read_bytes(), self.pki.admin_key.read_bytes())
        write_kubeconfig(
            self.kubeconfig_path,
            server=self.server_url,
            ca_pem=self.pki.ca_cert.read_bytes(),
            user=user,
            name="admin",
        )

    # -- clients and credentials ----------------------------------------------------

    def api_client(self) -> client.ApiClient:
        """A fresh admin ``ApiClient`` (client certificate, group system:masters)."""
        return api_client_from_kubeconfig(self.kubeconfig_path)

    def kubeconfig_for_token(self, token: str, path: Path | str) -> Path:
        """Write a kubeconfig at ``path`` that authenticates with a bearer ``token``."""
        return write_kubeconfig(
            Path(path),
            server=self.server_url,
            ca_pem=self.pki.ca_cert.read_bytes(),
            user=token_user(token),
            name="token",
        )

    def create_service_account_token(
        self, namespace: str, name: str, expiration: int = 3600
    ) -> str:
        """A TokenRequest token for ServiceAccount ``namespace/name`` (created if missing)."""
        with self.api_client() as api:
            core = client.CoreV1Api(api)
            sa = client.V1ServiceAccount(
                metadata=client.V1ObjectMeta(name=name, namespace=namespace)
            )
            try:
                core.create_namespaced_service_account(namespace, sa)
            except ApiException as exc:
                if exc.status != 409:
                    raise
            request = client.AuthenticationV1TokenRequest(
                spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=expiration)
            )
            result = core.create_namespaced_service_account_token(name, namespace, request)
        if result.status is None or not result.status.token:
            raise RuntimeError(f"TokenRequest for {namespace}/{name} returned no token")
        return str(result.status.token)

    def register_crds(
        self, paths: Iterable[Path | str] | None = None, timeout: float = 60.0
    ) -> list[str]:
        """Create CRDs (default: ``devtools/crds/*.yaml``) and wait until Established."""
        with self.api_client() as api:
            return register_crds(api, paths, timeout=timeout)

    def get_raw(self, path: str) -> Any:
        """GET ``path`` as the admin user and return the decoded JSON (for quick checks)."""
        url = f"{self.server_url}{path}"
        with urllib.request.urlopen(url, timeout=10, context=self.admin_ssl_context()) as resp:  # noqa: S310
            return json.loads(resp.read())
