"""The only package that imports the ``kubernetes`` client. See ``client.KubeCluster``."""

from nsshutdown.kube.client import KubeCluster
from nsshutdown.kube.resilience import Limits

__all__ = ["KubeCluster", "Limits"]
