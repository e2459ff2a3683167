"""Register CustomResourceDefinitions (KEDA ScaledObject, Argo Rollout) on the local cluster."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

CRD_DIR = Path(__file__).resolve().parent / "crds"


def register_crds(
    api: client.ApiClient, paths: Iterable[Path | str] | None = None, *, timeout: float = 60.0
) -> list[str]:
    """Create the CRDs in ``paths`` (default: ``devtools/crds/*.yaml``), wait until Established.

    Already-existing CRDs are accepted, so this is safe to call more than once.
    """
    files = sorted(CRD_DIR.glob("*.yaml")) if paths is None else [Path(p) for p in paths]
    ext = client.ApiextensionsV1Api(api)
    names = [
        _create_crd(ext, doc)
        for path in files
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]
    for name in names:
        _wait_established(ext, name, timeout)
    return names


def _create_crd(ext: client.ApiextensionsV1Api, doc: dict[str, Any]) -> str:
    crd = client.V1CustomResourceDefinition.from_dict(doc)
    if crd is None or crd.metadata is None or not crd.metadata.name:
        raise ValueError(f"not a CustomResourceDefinition: {doc!r:.200}")
    try:
        ext.create_custom_resource_definition(crd)
    except ApiException as exc:
        if exc.status != 409:
            raise
    return str(crd.metadata.name)


def _wait_established(ext: client.ApiextensionsV1Api, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        crd = ext.read_custom_resource_definition(name)
        conditions = (crd.status.conditions if crd.status else None) or []
        if any(c.type == "Established" and c.status == "True" for c in conditions):
            return
        time.sleep(0.2)
    raise TimeoutError(f"CRD {name} not Established after {timeout:.0f} s")
