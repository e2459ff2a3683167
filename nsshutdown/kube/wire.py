"""Raw API JSON <-> the tool's small frozen objects. Pure functions, no client involved.

Lists are decoded with ``json.loads`` straight into :class:`~nsshutdown.model.Workload` objects:
building the client's full models for 10,000 workloads costs seconds and hundreds of MiB, and the
tool needs a handful of fields, which each kind's mechanism picks (:mod:`nsshutdown.kinds`). Only
annotations the tool decides on are kept (its own prefix and keys a mechanism reads, like KEDA's),
so a large ``last-applied-configuration`` never stays in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from nsshutdown import constants as c
from nsshutdown.kinds import registry
from nsshutdown.kinds.base import as_mapping
from nsshutdown.model import (
    Namespace,
    Patch,
    PinningPod,
    Resources,
    Workload,
    WorkloadKind,
    WorkloadRef,
)
from nsshutdown.quantity import parse_quantity

logger = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _items(value: Any) -> list[Mapping[str, Any]]:
    """The JSON objects of a JSON list (anything else is none)."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _strings(value: Any) -> dict[str, str]:
    """A string map (labels, annotations) with anything that is not a string left out."""
    return {k: v for k, v in as_mapping(value).items() if isinstance(k, str) and isinstance(v, str)}


def kept_annotations(annotations: Any) -> Mapping[str, str]:
    kept = registry.FOREIGN_KEYS
    return MappingProxyType(
        {k: v for k, v in _strings(annotations).items() if k.startswith(c.PREFIX) or k in kept}
    )


def _created(meta: Mapping[str, Any]) -> datetime:
    raw = meta.get("creationTimestamp")
    if not isinstance(raw, str) or not raw:
        return _EPOCH
    try:
        created = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return _EPOCH  # the API server writes it; unreadable means "old", never "too young"
    return created if created.tzinfo is not None else created.replace(tzinfo=UTC)


def _written_at(meta: Mapping[str, Any]) -> datetime | None:
    """The time of this tool's last write, from its ``managedFields`` entries (``None``: none)."""
    entries = meta.get("managedFields")
    times = []
    for raw in entries if isinstance(entries, list) else ():
        entry = as_mapping(raw)
        if entry.get("manager") == c.FIELD_MANAGER:
            at = _timestamp(entry.get("time"))
            times += [at] if at is not None else []
    return max(times, default=None)


def _timestamp(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def parse_workload(kind: WorkloadKind, item: Mapping[str, Any]) -> Workload:
    """One list item (or GET/PATCH response) of ``kind`` as a :class:`Workload`."""
    meta = as_mapping(item.get("metadata"))
    mechanism = registry.mechanism(kind)
    observed = mechanism.observe(item)
    return Workload(
        ref=WorkloadRef(kind, str(meta.get("namespace", "")), str(meta.get("name", ""))),
        created=_created(meta),
        resource_version=str(meta.get("resourceVersion", "")),
        uid=str(meta.get("uid", "")),
        replicas=observed.replicas,
        suspend=observed.suspend,
        annotations=kept_annotations(meta.get("annotations")),
        requests=_requests(mechanism.pod_spec(as_mapping(item.get("spec")))),
        scale_target=observed.scale_target,
        finished=observed.finished,
        ready=observed.ready,
        written_at=_written_at(meta),
    )


def written(before: Workload, patch: Patch, item: Mapping[str, Any]) -> Workload:
    """``before`` as the write of ``patch`` left it, from the server's answer to the write.

    The answer is the object's metadata (``transport.METADATA_ONLY``; a server that sends the
    whole object is read the same way): annotations, ``resourceVersion`` and our write's time
    come from it, the scaled fields are the ones the patch set, the rest is ``before``'s.
    """
    meta = as_mapping(item.get("metadata"))
    return replace(
        before,
        resource_version=str(meta.get("resourceVersion", "")),
        replicas=before.replicas if patch.replicas is None else patch.replicas,
        suspend=before.suspend if patch.suspend is None else patch.suspend,
        annotations=kept_annotations(meta.get("annotations")),
        written_at=_written_at(meta),
    )


def parse_namespace(item: Mapping[str, Any]) -> Namespace:
    meta = as_mapping(item.get("metadata"))
    return Namespace(
        name=str(meta.get("name", "")),
        labels=MappingProxyType(_strings(meta.get("labels"))),
        annotations=kept_annotations(meta.get("annotations")),
    )


def pinning_pod(item: Mapping[str, Any]) -> PinningPod | None:
    """The pod if it is alive and annotated ``karpenter.sh/do-not-disrupt: "true"``."""
    meta = as_mapping(item.get("metadata"))
    annotations = _strings(meta.get("annotations"))
    if annotations.get(c.KARPENTER_DO_NOT_DISRUPT, "").lower() != "true":
        return None
    if as_mapping(item.get("status")).get("phase") in ("Succeeded", "Failed"):
        return None
    node = str(as_mapping(item.get("spec")).get("nodeName") or "")
    return PinningPod(str(meta.get("namespace", "")), str(meta.get("name", "")), node)


# --- requests -----------------------------------------------------------------------------------


def _requests(pod: Mapping[str, Any] | None) -> Resources:
    """Requests of one replica, as the scheduler counts them.

    Regular containers and restartable (sidecar) init containers add up; a plain init container
    runs alone, so the pod needs at least the largest of them.
    """
    if not pod:
        return Resources()
    inits = _items(pod.get("initContainers"))
    sidecars = [i for i in inits if i.get("restartPolicy") == "Always"]
    plain = [i for i in inits if i.get("restartPolicy") != "Always"]
    cpu, memory = _sum_requests([*_items(pod.get("containers")), *sidecars])
    for init in plain:
        init_cpu, init_memory = _sum_requests([init])
        cpu, memory = max(cpu, init_cpu), max(memory, init_memory)
    return Resources(cpu_cores=cpu, memory_bytes=memory)


def _sum_requests(containers: Iterable[Mapping[str, Any]]) -> tuple[float, float]:
    cpu = memory = 0.0
    for container in containers:
        requests = as_mapping(as_mapping(container.get("resources")).get("requests"))
        cpu += _quantity(requests.get("cpu"))
        memory += _quantity(requests.get("memory"))
    return cpu, memory


def _quantity(raw: Any) -> float:
    if raw is None:
        return 0.0
    try:
        return parse_quantity(raw)
    except ValueError:
        logger.debug("ignoring unparsable resource request %r", raw)
        return 0.0


# --- writes -------------------------------------------------------------------------------------


def merge_patch(patch: Patch, *, resource_version: str = "") -> dict[str, Any]:
    """The JSON merge patch for ``patch``: only the scaled field and the named annotation keys.

    ``resourceVersion`` makes the write conditional: a stale decision gets 409 instead of
    overwriting a change made since the object was read.
    """
    metadata: dict[str, Any] = {}
    if patch.annotations:
        metadata["annotations"] = dict(patch.annotations)
    if resource_version:
        metadata["resourceVersion"] = resource_version
    body: dict[str, Any] = {"metadata": metadata} if metadata else {}
    spec: dict[str, Any] = {}
    if patch.replicas is not None:
        spec["replicas"] = patch.replicas
    if patch.suspend is not None:
        spec["suspend"] = patch.suspend
    if spec:
        body["spec"] = spec
    return body
