"""Write kubeconfig files for the local cluster (admin client cert or bearer token)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def write_kubeconfig(
    path: Path, *, server: str, ca_pem: bytes, user: dict[str, Any], name: str
) -> Path:
    """Write a single-context kubeconfig; credentials are embedded so the file is self-contained."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "local",
                "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)},
            }
        ],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": "local", "user": name}}],
        "current-context": name,
        "preferences": {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path


def client_cert_user(cert_pem: bytes, key_pem: bytes) -> dict[str, Any]:
    return {"client-certificate-data": _b64(cert_pem), "client-key-data": _b64(key_pem)}


def token_user(token: str) -> dict[str, Any]:
    return {"token": token}
