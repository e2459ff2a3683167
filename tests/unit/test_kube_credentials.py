"""Which credentials are read without the Kubernetes client, and which go to it (pure: files in
``tmp_path``, no server)."""

from __future__ import annotations

import base64
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from nsshutdown.errors import ClusterUnreachableError
from nsshutdown.kube.connection import Connection, Credentials, TokenFile
from nsshutdown.kube.credentials import (
    NotLeanError,
    from_kubeconfig,
    in_cluster,
    kubeconfig_path,
    lean_credentials,
    open_endpoint,
)

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
PEM64 = base64.b64encode(PEM.encode()).decode()


def _kubeconfig(
    path: Path,
    *,
    cluster: dict[str, Any] | None = None,
    user: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    current: str | None = "main",
) -> Path:
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "c", "cluster": cluster or {"server": "https://api.example:6443"}},
            {"name": "other", "cluster": {"server": "https://other.example"}},
        ],
        "users": [{"name": "u", "user": user if user is not None else {"token": "t0ken"}}],
        "contexts": [
            {"name": "main", "context": context or {"cluster": "c", "user": "u"}},
            {"name": "second", "context": {"cluster": "other", "user": "u"}},
        ],
    }
    if current is not None:
        doc["current-context"] = current
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize(
    ("given", "environ", "expected"),
    [
        ("/k/given", {"KUBECONFIG": "/k/env"}, "/k/given"),
        (None, {"KUBECONFIG": "/k/env"}, "/k/env"),
        (None, {}, "~/.kube/config"),
    ],
    ids=["flag-wins", "env", "default"],
)
def test_kubeconfig_path_follows_the_clients_order(
    given: str | None, environ: dict[str, str], expected: str
) -> None:
    path = kubeconfig_path(Path(given) if given else None, environ)
    assert path == Path(expected).expanduser()


@pytest.mark.parametrize("value", [f"/a{os.pathsep}/b", ""], ids=["several-files", "empty"])
def test_a_kubeconfig_variable_that_merges_or_is_empty_goes_to_the_client(value: str) -> None:
    with pytest.raises(NotLeanError):
        kubeconfig_path(None, {"KUBECONFIG": value})


def test_the_current_context_is_read_with_its_cluster_and_token(tmp_path: Path) -> None:
    credentials = from_kubeconfig(_kubeconfig(tmp_path / "config"), None)
    assert (credentials.host, credentials.token) == ("https://api.example:6443", "t0ken")
    assert (credentials.ca_file, credentials.ca_data) == (None, None)  # the system's CAs
    assert from_kubeconfig(tmp_path / "config", "second").host == "https://other.example"


def test_relative_paths_are_relative_to_the_kubeconfig(tmp_path: Path) -> None:
    (tmp_path / "pki").mkdir()
    for name in ("ca.crt", "admin.crt", "admin.key", "token"):
        (tmp_path / "pki" / name).write_text("x\n")
    cluster = {"server": "https://h", "certificate-authority": "pki/ca.crt"}
    user = {"client-certificate": "pki/admin.crt", "client-key": "pki/admin.key"}
    user |= {"tokenFile": "pki/token"}
    credentials = from_kubeconfig(
        _kubeconfig(tmp_path / "config", cluster=cluster, user=user), None
    )
    assert credentials.ca_file == tmp_path / "pki" / "ca.crt"
    assert credentials.cert_file == tmp_path / "pki" / "admin.crt"
    assert credentials.key_file == tmp_path / "pki" / "admin.key"
    assert credentials.token_file == tmp_path / "pki" / "token"


def test_embedded_data_is_decoded(tmp_path: Path) -> None:
    cluster = {"server": "https://h", "certificate-authority-data": PEM64}
    user = {"client-certificate-data": PEM64, "client-key-data": PEM64}
    credentials = from_kubeconfig(
        _kubeconfig(tmp_path / "config", cluster=cluster, user=user), None
    )
    assert credentials.ca_data == PEM
    assert credentials.cert_data == credentials.key_data == PEM.encode()
    assert credentials.token is None
    assert "MIIB" not in repr(credentials)


@pytest.mark.parametrize(
    ("cluster", "user", "context"),
    [
        ({"server": "https://h", "insecure-skip-tls-verify": True}, None, None),
        ({"server": "https://h", "proxy-url": "http://proxy:3128"}, None, None),
        ({"server": "https://h", "tls-server-name": "api"}, None, None),
        ({"server": "http://h"}, None, None),
        ({"certificate-authority-data": PEM64}, None, None),
        ({"server": "https://h", "certificate-authority-data": "not base64!"}, None, None),
        ({"server": "https://h", "certificate-authority": "missing.crt"}, None, None),
        (None, {"exec": {"command": "aws", "apiVersion": "client.authentication.k8s.io/v1"}}, None),
        (None, {"auth-provider": {"name": "oidc"}}, None),
        (None, {"username": "u", "password": "p"}, None),
        (None, {"token": "t", "as": "someone-else"}, None),
        (None, {"token": "t", "tokenFile": "/var/token"}, None),
        (None, {"client-certificate-data": PEM64}, None),
        (None, {"tokenFile": "no-such-token"}, None),
        (None, {}, None),
        (None, None, {"cluster": "c", "user": "nobody"}),
        (None, None, {"cluster": "nowhere", "user": "u"}),
        (None, None, {"user": "u"}),
        (None, None, {"cluster": "c", "user": "u", "extensions": []}),
    ],
    ids=[
        "insecure-skip-tls-verify",
        "proxy-url",
        "tls-server-name",
        "plain-http",
        "no-server",
        "bad-ca-data",
        "missing-ca-file",
        "exec",
        "auth-provider",
        "username-password",
        "impersonate",
        "token-and-token-file",
        "certificate-without-key",
        "missing-token-file",
        "no-credentials",
        "unknown-user",
        "unknown-cluster",
        "context-without-cluster",
        "unknown-context-field",
    ],
)
def test_anything_else_goes_to_the_kubernetes_client(
    tmp_path: Path,
    cluster: dict[str, Any] | None,
    user: dict[str, Any] | None,
    context: dict[str, Any] | None,
) -> None:
    path = _kubeconfig(tmp_path / "config", cluster=cluster, user=user, context=context)
    with pytest.raises(NotLeanError):
        from_kubeconfig(path, None)


@pytest.mark.parametrize(
    ("text", "context"),
    [
        (None, None),  # no such file
        ("clusters: [unclosed", None),
        ("- a list", None),
        ("", None),
        ("use the fixture", "no-such-context"),
        ("no current context", None),
    ],
    ids=["missing", "bad-yaml", "not-a-mapping", "empty", "unknown-context", "no-current"],
)
def test_a_kubeconfig_that_cannot_be_read_goes_to_the_client(
    tmp_path: Path, text: str | None, context: str | None
) -> None:
    path = tmp_path / "config"
    if text == "use the fixture":
        _kubeconfig(path)
    elif text == "no current context":
        _kubeconfig(path, current=None)
    elif text is not None:
        path.write_text(text)
    with pytest.raises(NotLeanError):
        from_kubeconfig(path, context)


def _service_account(
    directory: Path,
    token: str = "sa-token\n",  # noqa: S107 - a test token
    ca: str = PEM,
) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "token").write_text(token)
    (directory / "ca.crt").write_text(ca)
    return directory


@pytest.mark.parametrize(
    ("host", "url"),
    [("10.0.0.1", "https://10.0.0.1:443"), ("fd00::1", "https://[fd00::1]:443")],
    ids=["ipv4", "ipv6"],
)
def test_in_cluster_reads_the_service_account(tmp_path: Path, host: str, url: str) -> None:
    directory = _service_account(tmp_path / "sa")
    environ = {"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": "443"}
    credentials = in_cluster(environ, directory)
    assert credentials == Credentials(
        host=url, ca_file=directory / "ca.crt", token_file=directory / "token"
    )


@pytest.mark.parametrize(
    ("environ", "token", "ca"),
    [
        ({"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, "t", PEM),
        ({"KUBERNETES_SERVICE_HOST": "", "KUBERNETES_SERVICE_PORT": "443"}, "t", PEM),
        ({"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}, "", PEM),
        ({"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}, "t", ""),
    ],
    ids=["no-port", "empty-host", "empty-token", "empty-ca"],
)
def test_an_incomplete_service_account_goes_to_the_client(
    tmp_path: Path, environ: dict[str, str], token: str, ca: str
) -> None:
    directory = _service_account(tmp_path / "sa", token=token, ca=ca)
    with pytest.raises(NotLeanError):
        in_cluster(environ, directory)


def test_in_cluster_only_without_flags_and_before_the_default_kubeconfig(tmp_path: Path) -> None:
    directory = _service_account(tmp_path / "sa")
    kubeconfig = _kubeconfig(tmp_path / "config")
    environ = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    environ |= {"KUBECONFIG": str(kubeconfig)}

    def chosen(flag: Path | None, context: str | None, env: dict[str, str]) -> str:
        return lean_credentials(
            kubeconfig=flag, context=context, environ=env, service_account_dir=directory
        ).host

    assert chosen(None, None, environ) == "https://10.0.0.1:443"
    assert chosen(kubeconfig, None, environ) == "https://api.example:6443"
    assert chosen(None, "second", environ) == "https://other.example"  # --context: kubeconfig
    outside = {"KUBECONFIG": str(kubeconfig)}
    assert chosen(None, None, outside) == "https://api.example:6443"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_file_is_read_again_after_a_minute_not_before(tmp_path: Path) -> None:
    path, clock = tmp_path / "token", Clock()
    path.write_text("first\n")
    token = TokenFile(path, clock=clock)
    path.write_text("second\n")  # rotated by the kubelet
    clock.now += 59.0
    assert token.current() == "first"
    clock.now += 1.0
    assert token.current() == "second"
    path.unlink()  # gone for a moment: the last token is kept
    clock.now += 60.0
    assert token.current() == "second"


def test_the_connection_sends_the_rotated_token(tmp_path: Path) -> None:
    path, clock = tmp_path / "token", Clock()
    path.write_text("first")
    connection = Connection(
        Credentials(host="https://h:6443/", token_file=path), pool_size=3, clock=clock
    )
    try:
        assert connection.host == "https://h:6443"
        assert connection.headers()["Authorization"] == "Bearer first"
        assert connection.headers()["User-Agent"].startswith("nsshutdown/")
        assert connection.headers()["Accept-Encoding"] == "gzip"
        path.write_text("second")
        clock.now += 60.0
        assert connection.headers()["Authorization"] == "Bearer second"
    finally:
        connection.close()


def test_a_connection_without_a_token_sends_no_authorization(tmp_path: Path) -> None:
    path = tmp_path / "client.crt"
    path.write_text(PEM)
    credentials = Credentials(host="https://h", cert_file=path, key_file=path)
    connection = Connection(credentials, pool_size=2)
    try:
        assert "Authorization" not in connection.headers()
        pool = connection.pool
        assert (pool.host, pool.port) == ("h", 443)
        assert pool.cert_reqs == "CERT_REQUIRED"
        assert pool.retries is False  # urllib3 retries nothing: ours are the only ones
        assert pool.pool is not None
        assert pool.pool.maxsize == 2
    finally:
        connection.close()


def test_embedded_keys_are_private_files_removed_on_close() -> None:
    credentials = Credentials(
        host="https://h", ca_data=PEM, cert_data=b"cert", key_data=b"key", token="t"
    )
    connection = Connection(credentials, pool_size=1)
    pool = connection.pool
    assert pool.key_file is not None
    assert pool.cert_file is not None
    key, cert = Path(pool.key_file), Path(pool.cert_file)
    assert (key.read_bytes(), cert.read_bytes()) == (b"key", b"cert")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert pool.conn_kw["ca_cert_data"] == PEM
    connection.close()
    assert not key.parent.exists()


def test_a_client_key_that_cannot_be_written_is_a_credentials_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = {"client-certificate-data": PEM64, "client-key-data": PEM64}
    path = _kubeconfig(tmp_path / "config", user=user)

    def no_space(**_: Any) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "mkdtemp", no_space)
    with pytest.raises(ClusterUnreachableError, match="cannot load cluster credentials from"):
        open_endpoint(kubeconfig=path, context=None, pool_size=1)


def test_a_plain_kubeconfig_opens_our_own_connection(tmp_path: Path) -> None:
    endpoint = open_endpoint(kubeconfig=_kubeconfig(tmp_path / "config"), context=None, pool_size=1)
    try:
        assert isinstance(endpoint, Connection)
        assert endpoint.headers()["Authorization"] == "Bearer t0ken"
    finally:
        endpoint.close()
