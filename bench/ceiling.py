"""The ceiling: how fast this API server accepts the same writes from a minimal client.

Same process as the benchmark, same number of JSON merge patches as the shutdown run, shaped like
nsshutdown's (the scaled field plus three annotations; back up: the saved value and every key of
nsshutdown's removed, as a restore sends; guarded by the ``resourceVersion`` listed
just before, untimed, with a field manager), over a thread pool of the same concurrency and one
keep-alive connection per thread, with no rate limit, no retries and no model objects. Whatever
nsshutdown adds on top of this is client-side cost; the server does the same work for both.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bench.rawapi import RawApi
from bench.seed import Seeded
from nsshutdown import constants as c

#: nsshutdown's own: the server's managed-fields work is then the same for both (another manager
#: would add an entry to every object it writes, and make each later write of either costlier).
FIELD_MANAGER = c.FIELD_MANAGER


@dataclass(frozen=True)
class CeilingResult:
    patches: int
    wall_seconds: float
    cpu_seconds: float  # this process's: the client's cost of the writes

    @property
    def per_second(self) -> float:
        return self.patches / self.wall_seconds if self.wall_seconds else 0.0


def resource_versions(
    items: dict[tuple[str, str, str], dict[str, Any]], workloads: list[Seeded]
) -> dict[Seeded, str]:
    """Each workload's ``resourceVersion`` from a list (``verify.observed``)."""
    return {
        w: items[(w.kind, w.namespace, w.name)]["metadata"]["resourceVersion"] for w in workloads
    }


def shutdown_patch(workload: Seeded, stamp: str, resource_version: str) -> dict[str, Any]:
    saved_key, saved, spec = (
        (c.ORIGINAL_SUSPEND, "false", {"suspend": True})
        if workload.kind == "CronJob"
        else (c.ORIGINAL_REPLICAS, str(workload.replicas), {"replicas": 0})
    )
    annotations = {saved_key: saved, c.SHUTDOWN_AT: stamp, c.SHUTDOWN_BY: "bench-ceiling"}
    metadata = {"annotations": annotations, "resourceVersion": resource_version}
    return {"metadata": metadata, "spec": spec}


def restore_patch(workload: Seeded, version: str) -> dict[str, Any]:
    """What nsshutdown's restore sends: the saved count back, every key of its own removed."""
    spec = {"suspend": False} if workload.kind == "CronJob" else {"replicas": workload.replicas}
    metadata = {"annotations": dict.fromkeys(c.OWN_WORKLOAD_KEYS), "resourceVersion": version}
    return {"metadata": metadata, "spec": spec}


def measure(
    api: RawApi,
    workloads: list[Seeded],
    versions: dict[Seeded, str],
    *,
    concurrency: int,
    up: bool = False,
) -> CeilingResult:
    """Scale every workload down (``up``: back up, as a restore does) with one patch each, as
    fast as the server allows."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    query = f"?fieldManager={FIELD_MANAGER}"

    def patch(workload: Seeded) -> None:
        version = versions[workload]
        body = restore_patch(workload, version) if up else shutdown_patch(workload, stamp, version)
        api.merge_patch(workload.path + query, body)

    started, cpu = time.monotonic(), time.process_time()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in pool.map(patch, workloads):
            pass
    return CeilingResult(len(workloads), time.monotonic() - started, time.process_time() - cpu)
