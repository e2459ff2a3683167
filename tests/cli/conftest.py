"""Fixtures of the CLI tier: commands run in-process against the in-memory cluster."""

from __future__ import annotations

import pytest

from nsshutdown.model import Kind
from tests.cli.support import connect_to
from tests.fakes import FakeCluster, workload


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    """dev-a and dev-b match the test schedules, ops does not; every command connects to it."""
    cluster = FakeCluster(
        [
            workload("api", replicas=3),
            workload("nightly", kind=Kind.CRONJOB),
            workload("web", namespace="dev-b", replicas=2),
            workload("tool", namespace="ops", replicas=1),
        ]
    )
    return connect_to(monkeypatch, cluster)
