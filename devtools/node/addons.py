"""Cluster add-ons of the end-to-end node: CoreDNS, so Service names resolve in pods."""

from __future__ import annotations

import string
from pathlib import Path
from typing import TYPE_CHECKING

from devtools.node.images import COREDNS_IMAGE

if TYPE_CHECKING:
    from devtools.node.node import LocalNode

COREDNS_MANIFEST = Path(__file__).with_name("coredns.yaml")


def coredns_manifest(*, dns_ip: str, cluster_domain: str, image: str = COREDNS_IMAGE) -> str:
    template = string.Template(COREDNS_MANIFEST.read_text())
    return template.substitute(DNS_IP=dns_ip, CLUSTER_DOMAIN=cluster_domain, IMAGE=image)


def install_coredns(node: LocalNode, timeout: float = 120.0) -> None:
    """Apply CoreDNS and wait until it is ready (its probe checks the kubernetes plugin)."""
    manifest = coredns_manifest(
        dns_ip=node.layout.dns_ip, cluster_domain=node.layout.cluster_domain
    )
    node.kubectl("apply", "-f", "-", stdin=manifest)
    node.kubectl(
        "-n",
        "kube-system",
        "rollout",
        "status",
        "deployment/coredns",
        f"--timeout={timeout:.0f}s",
        timeout=timeout + 10,
    )
