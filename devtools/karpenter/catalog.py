"""The priced instance types the simulated cloud offers, and the price of a node.

Karpenter's KWOK provider reads its instance types from a JSON file (``INSTANCE_TYPES_FILE_PATH``).
Ours is small on purpose, so that the demo's choices are easy to follow, and priced with the same
per-resource list prices nsshutdown's savings estimate uses by default (OpenCost's: 0.031611 per
vCPU-hour, 0.004237 per GiB-hour). A node then costs exactly what its capacity would be worth in
nsshutdown's estimate, and any gap between the estimate and the price of the nodes Karpenter removes
comes from how pods pack onto nodes, not from two different price lists.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CPU_HOUR = 0.031611
GIB_HOUR = 0.004237
ZONE = "test-zone-a"
CAPACITY_TYPE = "on-demand"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"


@dataclass(frozen=True)
class InstanceType:
    family: str
    cpu: int
    memory_gib: int

    @property
    def name(self) -> str:
        return f"{self.family}-{self.cpu}x-amd64-linux"

    @property
    def hourly_price(self) -> float:
        return round(self.cpu * CPU_HOUR + self.memory_gib * GIB_HOUR, 6)

    def to_kwok(self) -> dict[str, Any]:
        """One entry of the KWOK provider's instance-types file."""
        requirements = [
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [CAPACITY_TYPE]},
            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [ZONE]},
        ]
        return {
            "name": self.name,
            "offerings": [
                {"Price": self.hourly_price, "Available": True, "Requirements": requirements}
            ],
            "architecture": "amd64",
            "operatingSystems": ["linux"],
            "resources": {
                "cpu": str(self.cpu),
                "memory": f"{self.memory_gib}Gi",
                "ephemeral-storage": "20Gi",
                "pods": "110",
            },
        }


#: General purpose ("m", 4 GiB per vCPU) and compute ("c", 2 GiB per vCPU), 1 to 8 vCPU.
CATALOG: tuple[InstanceType, ...] = tuple(
    InstanceType(family, cpu, cpu * per_cpu)
    for family, per_cpu in (("m", 4), ("c", 2))
    for cpu in (1, 2, 4, 8)
)
PRICES: Mapping[str, float] = {t.name: t.hourly_price for t in CATALOG}


def write_instance_types(path: Path, catalog: tuple[InstanceType, ...] = CATALOG) -> Path:
    path.write_text(json.dumps([t.to_kwok() for t in catalog], indent=2) + "\n")
    return path


def node_price(node: Mapping[str, Any]) -> float:
    """The hourly price of a node (a Node object as a dict), from its instance-type label."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    instance_type = labels.get(INSTANCE_TYPE_LABEL, "")
    if instance_type not in PRICES:
        raise KeyError(f"node {node['metadata'].get('name')}: unknown type {instance_type!r}")
    return PRICES[instance_type]
