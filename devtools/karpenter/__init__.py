"""Karpenter on the local API server: simulated, priced nodes that come and go with the pods.

Not part of the shipped package; the demo, the Karpenter integration tests and the savings report
use it to show what a namespace shutdown does to the node bill.
"""

from devtools.karpenter.binaries import (
    KarpenterBinaries,
    KarpenterNotFoundError,
    find_karpenter_binaries,
)
from devtools.karpenter.cluster import KarpenterCluster
from devtools.karpenter.nodepool import Disruption

__all__ = [
    "Disruption",
    "KarpenterBinaries",
    "KarpenterCluster",
    "KarpenterNotFoundError",
    "find_karpenter_binaries",
]
