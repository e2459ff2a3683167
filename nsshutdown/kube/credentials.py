"""Which credentials a run uses, read without the Kubernetes client where that is certain.

The order is the client's (``kube.auth``): ``--kubeconfig``/``--context`` given, that kubeconfig;
else in-cluster when the pod's ServiceAccount is there; else the default kubeconfig (``KUBECONFIG``
or ``~/.kube/config``). Two setups are read here: in-cluster (the ``KUBERNETES_SERVICE_*``
variables, the token and the CA of the ServiceAccount directory) and a kubeconfig whose context
names a cluster with ``server`` and a CA, and a user with a client certificate and key and/or a
token or token file: nothing else. Anything else, or anything in doubt (an exec plugin, an
auth provider, a proxy, ``insecure-skip-tls-verify``, several files in ``KUBECONFIG``, a missing
name, a file that cannot be read), goes to the Kubernetes client, which loads it exactly as it
always did and reports its own errors.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from nsshutdown.errors import ClusterUnreachableError
from nsshutdown.kube.connection import Connection, Credentials, Endpoint, read_token

logger = logging.getLogger(__name__)

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
HOST_ENV, PORT_ENV = "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"
#: The fields read here; any other in the context, cluster or user goes to the client.
CONTEXT_FIELDS = frozenset({"cluster", "user", "namespace"})
CLUSTER_FIELDS = frozenset({"server", "certificate-authority", "certificate-authority-data"})
USER_FIELDS = frozenset(
    {
        "client-certificate",
        "client-certificate-data",
        "client-key",
        "client-key-data",
        "token",
        "tokenFile",
    }
)


class NotLeanError(Exception):
    """These credentials are for the Kubernetes client to load (the message says why)."""


def open_endpoint(
    *,
    kubeconfig: Path | None,
    context: str | None,
    pool_size: int,
    environ: Mapping[str, str] = os.environ,
    service_account_dir: Path = SERVICE_ACCOUNT_DIR,
) -> Endpoint:
    """The connection for these options: our own where certain, else the Kubernetes client's."""
    try:
        credentials = lean_credentials(
            kubeconfig=kubeconfig,
            context=context,
            environ=environ,
            service_account_dir=service_account_dir,
        )
    except NotLeanError as why:
        logger.debug("credentials loaded by the Kubernetes client: %s", why)
        from nsshutdown.kube import auth  # noqa: PLC0415 - the client loads only when needed

        return auth.api_client_endpoint(kubeconfig=kubeconfig, context=context, pool_size=pool_size)
    logger.debug("connecting to %s", credentials.host)
    try:
        return Connection(credentials, pool_size=pool_size)
    except OSError as err:  # the private copy of an embedded client key could not be written
        where = f" from {kubeconfig}" if kubeconfig else ""
        raise ClusterUnreachableError(f"cannot load cluster credentials{where}: {err}") from err


def lean_credentials(
    *,
    kubeconfig: Path | None,
    context: str | None,
    environ: Mapping[str, str],
    service_account_dir: Path,
) -> Credentials:
    """The credentials the options select, or ``NotLeanError``."""
    if kubeconfig is None and context is None:
        found = in_cluster(environ, service_account_dir)
        if found is not None:
            return found
    return from_kubeconfig(kubeconfig_path(kubeconfig, environ), context)


def in_cluster(environ: Mapping[str, str], directory: Path) -> Credentials | None:
    """The pod's ServiceAccount; ``None`` outside a pod (neither variable set)."""
    host, port = environ.get(HOST_ENV), environ.get(PORT_ENV)
    if host is None and port is None:
        return None
    if not host or not port:
        raise NotLeanError(f"{HOST_ENV} or {PORT_ENV} is empty or not set")
    token, ca = directory / "token", directory / "ca.crt"
    try:
        read_token(token)
        if ca.stat().st_size == 0:
            raise NotLeanError(f"{ca} is empty")
    except (OSError, ValueError) as err:
        raise NotLeanError(f"in-cluster: {type(err).__name__}") from err
    # an IPv6 address (or one with a zone) is bracketed, as in a URL
    netloc = f"[{host}]:{port}" if ":" in host or "%" in host else f"{host}:{port}"
    return Credentials(host=f"https://{netloc}", ca_file=ca, token_file=token)


def kubeconfig_path(given: Path | None, environ: Mapping[str, str]) -> Path:
    """``--kubeconfig``, else ``KUBECONFIG`` when it names exactly one file, else the default."""
    raw = str(given) if given is not None else environ.get("KUBECONFIG", "~/.kube/config")
    if not raw or os.pathsep in raw:
        raise NotLeanError("KUBECONFIG names several files (merged by the client) or none")
    return Path(raw).expanduser()


def load_kubeconfig(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise NotLeanError(f"cannot read {path}: {type(err).__name__}") from err


def from_kubeconfig(path: Path, context: str | None) -> Credentials:
    doc = load_kubeconfig(path)
    if not isinstance(doc, dict):
        raise NotLeanError(f"{path} is not a mapping")
    ctx = _named(doc, "contexts", context or doc.get("current-context"), CONTEXT_FIELDS)
    cluster = _named(doc, "clusters", ctx.get("cluster"), CLUSTER_FIELDS)
    user = _named(doc, "users", ctx.get("user"), USER_FIELDS)
    server = cluster.get("server")
    if not isinstance(server, str) or not server.startswith("https://"):
        raise NotLeanError("the server is not an https:// URL")
    base = path.absolute().parent  # relative paths are relative to the kubeconfig, as kubectl
    ca_file, ca_data = _file_or_data(cluster, "certificate-authority", base)
    cert_file, cert_data = _file_or_data(user, "client-certificate", base)
    key_file, key_data = _file_or_data(user, "client-key", base)
    has_cert = cert_file is not None or cert_data is not None
    if has_cert != (key_file is not None or key_data is not None):
        raise NotLeanError("a client certificate without its key, or a key alone")
    token, token_file = user.get("token"), _path(user.get("tokenFile"), base)
    if token is not None and (not isinstance(token, str) or not token or token_file):
        raise NotLeanError("token and tokenFile both, or an empty token")
    if token_file is not None:
        try:
            read_token(token_file)
        except (OSError, ValueError) as err:
            raise NotLeanError(f"tokenFile: {type(err).__name__}") from err
    if not (has_cert or token or token_file):
        raise NotLeanError("the user has no credentials")
    return Credentials(
        host=server,
        ca_file=ca_file,
        ca_data=ca_data.decode("ascii", "strict") if ca_data else None,
        cert_file=cert_file,
        cert_data=cert_data,
        key_file=key_file,
        key_data=key_data,
        token=token,
        token_file=token_file,
    )


def _named(doc: dict[str, Any], section: str, name: Any, fields: frozenset[str]) -> dict[str, Any]:
    """The one entry ``name`` of ``section`` (a list of ``{name, <singular>: {...}}``)."""
    entries = doc.get(section)
    if not isinstance(name, str) or not name or not isinstance(entries, list):
        raise NotLeanError(f"no {section[:-1]} named, or no {section}")
    found = [e for e in entries if isinstance(e, dict) and e.get("name") == name]
    if len(found) != 1:
        raise NotLeanError(f"{len(found)} {section} named {name!r}")
    body = found[0].get(section[:-1])
    if not isinstance(body, dict):
        raise NotLeanError(f"{section[:-1]} {name!r} is empty")
    if extra := set(body) - fields:
        raise NotLeanError(f"{section[:-1]} {name!r} has {', '.join(sorted(extra))}")
    return body


def _file_or_data(body: dict[str, Any], key: str, base: Path) -> tuple[Path | None, bytes | None]:
    path, data = _path(body.get(key), base), body.get(f"{key}-data")
    if data is None:
        if path is not None and not path.is_file():
            raise NotLeanError(f"{key}: no such file")
        return path, None
    if path is not None or not isinstance(data, str):
        raise NotLeanError(f"{key} and {key}-data both, or data that is not text")
    try:
        decoded = base64.b64decode("".join(data.split()), validate=True)
        decoded.decode("ascii")
    except (binascii.Error, ValueError) as err:
        raise NotLeanError(f"{key}-data is not base64 PEM") from err
    return None, decoded


def _path(raw: Any, base: Path) -> Path | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw or raw.startswith("~"):
        raise NotLeanError("a path that is empty, not text, or starts with ~")
    return base / raw  # an absolute ``raw`` stays as it is
