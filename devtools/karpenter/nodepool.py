"""The KWOKNodeClass and NodePool the harness applies, with the disruption settings spelled out.

Karpenter only removes a node it may disrupt: the NodePool's ``consolidationPolicy`` must allow
consolidating underused nodes (``WhenEmptyOrUnderutilized``), a node must have been a candidate
for ``consolidateAfter``, and the disruption ``budgets`` cap how many nodes go at once. Karpenter's
default budget is ``nodes: 10%`` (at least one node at a time, one after another); the demo and the
tests use ``100%`` so that a namespace shutdown empties its nodes in one round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

GROUP = "karpenter.sh"
VERSION = "v1"
NODECLASS_GROUP = "karpenter.kwok.sh"
NODECLASS_VERSION = "v1alpha1"
NAME = "default"
NODEPOOL_LABEL = "karpenter.sh/nodepool"


@dataclass(frozen=True)
class Disruption:
    """``spec.disruption`` of the NodePool."""

    consolidate_after: str = "10s"
    budget_nodes: str = "100%"
    policy: str = "WhenEmptyOrUnderutilized"

    def to_spec(self) -> dict[str, Any]:
        return {
            "consolidationPolicy": self.policy,
            "consolidateAfter": self.consolidate_after,
            "budgets": [{"nodes": self.budget_nodes}],
        }


def node_class() -> dict[str, Any]:
    return {
        "apiVersion": f"{NODECLASS_GROUP}/{NODECLASS_VERSION}",
        "kind": "KWOKNodeClass",
        "metadata": {"name": NAME},
    }


def node_pool(
    disruption: Disruption, *, instance_types: Sequence[str] = (), cpu_limit: int = 256
) -> dict[str, Any]:
    """A NodePool of on-demand Linux nodes; ``instance_types`` narrows the catalog."""
    requirements: list[dict[str, Any]] = [
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
    ]
    if instance_types:
        requirements.append(
            {
                "key": "node.kubernetes.io/instance-type",
                "operator": "In",
                "values": list(instance_types),
            }
        )
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "NodePool",
        "metadata": {"name": NAME},
        "spec": {
            "disruption": disruption.to_spec(),
            "limits": {"cpu": str(cpu_limit)},
            "template": {
                "spec": {
                    "expireAfter": "Never",
                    "requirements": requirements,
                    "nodeClassRef": {
                        "group": NODECLASS_GROUP,
                        "kind": "KWOKNodeClass",
                        "name": NAME,
                    },
                }
            },
        },
    }
