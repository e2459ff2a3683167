"""Session fixtures for integration tests: a real kube-apiserver + etcd and a real Pushgateway.

Missing binaries skip these tests locally but fail them when ``CI=true``, so CI can
never pass by silently skipping the tier that proves the tool works.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from devtools import BinariesNotFoundError, LocalCluster, LocalPushgateway, PushgatewayNotFoundError
from devtools.workloads import create_namespace


def _start_or_skip(server: LocalCluster | LocalPushgateway) -> None:
    """Start ``server``; a missing binary skips locally but fails under ``CI=true``."""
    try:
        server.start()
    except (BinariesNotFoundError, PushgatewayNotFoundError) as exc:
        reason = str(exc)
    else:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: integration tests must run)", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.integration)


def started_cluster() -> Iterator[LocalCluster]:
    """A local API server with the CRDs registered, stopped afterwards (a fixture's body)."""
    local = LocalCluster()
    _start_or_skip(local)
    try:
        local.register_crds()
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    yield from started_cluster()


@pytest.fixture(scope="session")
def pushgateway() -> Iterator[LocalPushgateway]:
    gateway = LocalPushgateway()
    _start_or_skip(gateway)
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture
def api_client(cluster: LocalCluster) -> Iterator[client.ApiClient]:
    with cluster.api_client() as api:
        yield api


@pytest.fixture
def namespace(api_client: client.ApiClient) -> str:
    """A fresh, uniquely named namespace (namespaces never finish deleting here: no controllers)."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    create_namespace(api_client, name, labels={"nsshutdown.io/test": "true"})
    return name
