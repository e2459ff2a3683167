"""Development helpers for nsshutdown: a real local Kubernetes API server, a Pushgateway,
workload seeding and the demo. Not part of the shipped package."""

from devtools.binaries import BinariesNotFound, K8sBinaries, find_binaries
from devtools.cluster import LocalCluster
from devtools.pushgateway import LocalPushgateway, PushgatewayNotFound

__all__ = [
    "BinariesNotFound",
    "K8sBinaries",
    "LocalCluster",
    "LocalPushgateway",
    "PushgatewayNotFound",
    "find_binaries",
]
