"""What a shutdown holds down, and what that is estimated to save.

The estimate is **requests-based**: a held replica is counted at the CPU and memory its pod template
*requests*, priced per vCPU-hour and per GiB-hour. It is not a bill. Real savings depend on whether
the freed requests let the autoscaler (Karpenter, cluster-autoscaler) remove nodes, on node pricing,
discounts and on what the pods actually used. Defaults are OpenCost's list prices (USD); any
currency works as long as both prices use it.

Everything here is pure: ``status`` and the metrics read the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from nsshutdown.model import Resources

GIB: Final = 1024**3


#: Hours in an average month (365 x 24 / 12): monthly = hourly x 730, the convention cloud
#: calculators and OpenCost use.
HOURS_PER_MONTH: Final = 730


@dataclass(frozen=True)
class Prices:
    """Price of one vCPU-hour and one GiB-hour of requested resources.

    Defaults: OpenCost's on-demand list prices. :data:`SPOT_PRICES` holds its spot ones.
    """

    cpu_hour: float = 0.031611
    memory_gib_hour: float = 0.004237

    def __post_init__(self) -> None:
        if self.cpu_hour < 0 or self.memory_gib_hour < 0:
            raise ValueError("prices must not be negative")


ON_DEMAND_PRICES: Final = Prices()


SPOT_PRICES: Final = Prices(cpu_hour=0.006655, memory_gib_hour=0.000892)


def hourly_cost(requests: Resources, prices: Prices) -> float:
    """Hourly price of ``requests`` (a TOTAL over replicas, not one replica's)."""
    memory_gib = requests.memory_bytes / GIB
    return requests.cpu_cores * prices.cpu_hour + memory_gib * prices.memory_gib_hour


def monthly_cost(hourly: float) -> float:
    """``hourly`` x :data:`HOURS_PER_MONTH`."""
    return hourly * HOURS_PER_MONTH
