"""Development helpers for nsshutdown: a real local Kubernetes API server, a Pushgateway,
workload seeding and the demo. Not part of the shipped package."""

from devtools.binaries import BinariesNotFoundError, K8sBinaries, find_binaries
from devtools.cluster import LocalCluster
from devtools.pushgateway import LocalPushgateway, PushgatewayNotFoundError

__all__ = [
    "BinariesNotFoundError",
    "K8sBinaries",
    "LocalCluster",
    "LocalPushgateway",
    "PushgatewayNotFoundError",
    "find_binaries",
]
