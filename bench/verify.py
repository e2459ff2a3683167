"""Check, after a run, that every seeded workload is where the run should have left it.

These reads happen between the measured windows, so they are not counted against any run.
"""

from __future__ import annotations

from typing import Any

from bench.rawapi import RawApi
from bench.seed import NAMESPACE_PREFIX, Seeded

_LISTS = {
    "Deployment": "/apis/apps/v1/deployments",
    "StatefulSet": "/apis/apps/v1/statefulsets",
    "CronJob": "/apis/batch/v1/cronjobs",
}
_PREFIX = "nsshutdown.io/"


def observed(api: RawApi) -> dict[tuple[str, str, str], dict[str, Any]]:
    out = {}
    for kind, path in _LISTS.items():
        for item in api.list_all(path):
            meta = item["metadata"]
            if meta["namespace"].startswith(NAMESPACE_PREFIX):
                out[(kind, meta["namespace"], meta["name"])] = item
    return out


def _own(item: dict[str, Any]) -> dict[str, str]:
    annotations = item["metadata"].get("annotations") or {}
    return {k: v for k, v in annotations.items() if k.startswith(_PREFIX)}


def _is_down(w: Seeded, item: dict[str, Any]) -> bool:
    own, spec = _own(item), item["spec"]
    if w.kind == "CronJob":
        return spec.get("suspend") is True and own.get(_PREFIX + "original-suspend") == "false"
    saved = own.get(_PREFIX + "original-replicas")
    return spec.get("replicas") == 0 and saved == str(w.replicas)


def _is_up(w: Seeded, item: dict[str, Any]) -> bool:
    spec = item["spec"]
    if w.kind == "CronJob":
        return spec.get("suspend") is False and not _own(item)
    return spec.get("replicas") == w.replicas and not _own(item)


def mismatches(api: RawApi, workloads: list[Seeded], *, down: bool) -> list[str]:
    """The workloads not in the expected state (first few named), empty when all are right."""
    seen = observed(api)
    check = _is_down if down else _is_up
    wrong = []
    for w in workloads:
        item = seen.get((w.kind, w.namespace, w.name))
        if item is None or not check(w, item):
            wrong.append(f"{w.kind} {w.namespace}/{w.name}")
    return wrong


def split(api: RawApi, workloads: list[Seeded]) -> tuple[int, int, list[str]]:
    """After a run that may have been stopped part-way: how many workloads are untouched (up, no
    ``nsshutdown.io/`` annotation) and how many fully down (their original count saved), and the
    others, named: scaled down without a saved count, a saved count that is not the original,
    an annotation left on a running workload. A run killed at any moment must leave none."""
    seen = observed(api)
    up = down = 0
    broken = []
    for w in workloads:
        item = seen.get((w.kind, w.namespace, w.name))
        if item is not None and _is_up(w, item):
            up += 1
        elif item is not None and _is_down(w, item):
            down += 1
        else:
            broken.append(f"{w.kind} {w.namespace}/{w.name}: {_state(item)}")
    return up, down, broken


def _state(item: dict[str, Any] | None) -> str:
    if item is None:
        return "missing"
    spec = item["spec"]
    field = "suspend" if "suspend" in spec and "replicas" not in spec else "replicas"
    return f"{field}={spec.get(field)!r} annotations={_own(item)!r}"
