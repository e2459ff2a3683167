"""What Karpenter did, read from the API: its nodes, their hourly price, and the pods' phases."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kubernetes import client

from devtools.karpenter.catalog import INSTANCE_TYPE_LABEL, node_price
from devtools.karpenter.nodepool import NODEPOOL_LABEL

T = TypeVar("T")


@dataclass(frozen=True)
class Nodes:
    """Karpenter's nodes at one moment. A node being drained still counts: it is still billed."""

    names: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    hourly: float = 0.0
    draining: int = 0
    pods_by_node: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    @property
    def count(self) -> int:
        return len(self.names)

    def describe(self) -> str:
        kinds = Counter(t.split("-amd64")[0] for t in self.types)
        mix = ", ".join(f"{n}x {t}" for t, n in sorted(kinds.items())) or "none"
        return f"{self.count} nodes ({mix}) ${self.hourly:.4f}/h"


def _items(api: client.ApiClient, listing: Any) -> list[dict[str, Any]]:
    """The items of a list response as plain dicts (the API's own field names)."""
    result: dict[str, Any] = api.sanitize_for_serialization(listing)  # type: ignore[no-untyped-call,unused-ignore]
    return list(result.get("items") or [])


def live_pods(api: client.ApiClient) -> list[dict[str, Any]]:
    """Every pod that is not being deleted."""
    pods = _items(api, client.CoreV1Api(api).list_pod_for_all_namespaces())
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def _daemon(pod: dict[str, Any]) -> bool:
    owners = pod["metadata"].get("ownerReferences") or []
    return any(owner.get("kind") == "DaemonSet" for owner in owners)


def karpenter_nodes(api: client.ApiClient) -> Nodes:
    """Karpenter's nodes and the pods on each (DaemonSet pods left out: they keep no node)."""
    listing = client.CoreV1Api(api).list_node(label_selector=NODEPOOL_LABEL)
    nodes = sorted(_items(api, listing), key=lambda n: str(n["metadata"]["name"]))
    pods: dict[str, list[str]] = {n["metadata"]["name"]: [] for n in nodes}
    for pod in live_pods(api):
        node = (pod.get("spec") or {}).get("nodeName")
        if node in pods and not _daemon(pod):
            pods[node].append(f"{pod['metadata']['namespace']}/{pod['metadata']['name']}")
    return Nodes(
        names=tuple(n["metadata"]["name"] for n in nodes),
        types=tuple(n["metadata"]["labels"].get(INSTANCE_TYPE_LABEL, "?") for n in nodes),
        hourly=round(sum(node_price(n) for n in nodes), 6),
        draining=sum(1 for n in nodes if n["metadata"].get("deletionTimestamp")),
        pods_by_node={name: tuple(sorted(p)) for name, p in pods.items()},
    )


@dataclass(frozen=True)
class PodPhases:
    running: int
    pending: int
    other: int

    @property
    def total(self) -> int:
        return self.running + self.pending + self.other

    def __str__(self) -> str:
        return f"{self.running}/{self.total} running"


def pod_phases(api: client.ApiClient, namespaces: Iterable[str]) -> PodPhases:
    """Phases of the live (not terminating) pods of ``namespaces``."""
    wanted = set(namespaces)
    counts: Counter[str] = Counter(
        str((pod.get("status") or {}).get("phase") or "Unknown")
        for pod in live_pods(api)
        if pod["metadata"]["namespace"] in wanted
    )
    other = sum(n for phase, n in counts.items() if phase not in ("Running", "Pending"))
    return PodPhases(counts["Running"], counts["Pending"], other)


def wait_for(
    observe: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout: float,
    what: str,
    interval: float = 1.0,
    on_change: Callable[[float, T], None] | None = None,
) -> tuple[T, float]:
    """Observe until ``done``; return the last observation and the seconds it took.

    ``on_change`` sees each observation that differs from the previous one (the demo prints
    them); a timeout raises with the last observation in the message.
    """
    start = time.monotonic()
    last: T | None = None
    while True:
        current = observe()
        elapsed = time.monotonic() - start
        if on_change is not None and current != last:
            on_change(elapsed, current)
        last = current
        if done(current):
            return current, elapsed
        if elapsed > timeout:
            raise TimeoutError(f"{what}: not reached after {timeout:.0f} s; last seen {current}")
        time.sleep(interval)


@dataclass(frozen=True)
class Settled:
    """Where the nodes came to rest, and when they last changed (seconds after the start)."""

    nodes: Nodes
    last_change: float


def wait_settled(
    api: client.ApiClient,
    *,
    timeout: float,
    quiet: float,
    on_change: Callable[[float, Nodes], None] | None = None,
) -> Settled:
    """Wait until Karpenter is done: no node draining, none empty, the set unchanged for ``quiet``.

    An empty node is one with no live pod at all; Karpenter removes those first. A node kept by a
    ``do-not-disrupt`` pod is not empty, so it ends the wait like any other busy node.
    """
    start = time.monotonic()
    last_change = 0.0
    previous: Nodes | None = None
    while True:
        nodes = karpenter_nodes(api)
        now = time.monotonic() - start
        if nodes != previous:
            last_change = now
            previous = nodes
            if on_change is not None:
                on_change(now, nodes)
        busy = all(nodes.pods_by_node.get(name) for name in nodes.names)
        if busy and not nodes.draining and now - last_change >= quiet:
            return Settled(nodes, round(last_change, 1))
        if now > timeout:
            raise TimeoutError(f"nodes not settled after {timeout:.0f} s: {nodes.describe()}")
        time.sleep(1.0)
