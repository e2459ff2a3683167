"""Command lines of the node's components: pure, every value from the layout and the PKI.

Flags that differ from a stock kubeadm node, and why:

- kube-apiserver: ``--advertise-address`` is the node's address (never loopback) so the default
  endpoint reconciler publishes a ``kubernetes`` endpoint that pods reach through kube-proxy;
  ``--kubelet-preferred-address-types=InternalIP`` because the node's name is in no DNS.
- kube-controller-manager: no node IPAM (the bridge network's addresses are static), no cloud.
- everything: no leader election (one instance each) and no profiling endpoints.
"""

from __future__ import annotations

from pathlib import Path

from devtools.binaries import K8sBinaries
from devtools.node.config import NodeLayout
from devtools.node.pki import NodePKI

ETCD_URL = "http://127.0.0.1:2379"
_ETCD_PEER = "http://127.0.0.1:2380"


def etcd(binaries: K8sBinaries, layout: NodeLayout) -> list[str]:
    return [
        str(binaries.etcd),
        "--name=e2e",
        f"--data-dir={layout.workdir / 'etcd-data'}",
        f"--listen-client-urls={ETCD_URL}",
        f"--advertise-client-urls={ETCD_URL}",
        f"--listen-peer-urls={_ETCD_PEER}",
        f"--initial-advertise-peer-urls={_ETCD_PEER}",
        f"--initial-cluster=e2e={_ETCD_PEER}",
        "--unsafe-no-fsync",
        "--log-level=warn",
    ]


def kube_apiserver(binaries: K8sBinaries, layout: NodeLayout, pki: NodePKI) -> list[str]:
    kubelet_client = pki.clients["apiserver-kubelet-client"]
    return [
        str(binaries.kube_apiserver),
        f"--etcd-servers={ETCD_URL}",
        f"--advertise-address={layout.node_ip}",
        "--bind-address=0.0.0.0",
        f"--secure-port={layout.apiserver_port}",
        f"--cert-dir={layout.workdir / 'pki'}",
        f"--tls-cert-file={pki.apiserver.cert}",
        f"--tls-private-key-file={pki.apiserver.key}",
        f"--client-ca-file={pki.ca_cert}",
        f"--kubelet-client-certificate={kubelet_client.cert}",
        f"--kubelet-client-key={kubelet_client.key}",
        "--kubelet-preferred-address-types=InternalIP",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        f"--service-cluster-ip-range={layout.service_cidr}",
        f"--service-account-issuer=https://kubernetes.default.svc.{layout.cluster_domain}",
        f"--service-account-key-file={pki.sa_public_key}",
        f"--service-account-signing-key-file={pki.sa_private_key}",
        "--allow-privileged=true",
        "--profiling=false",
    ]


def _client_flags(layout: NodeLayout, component: str) -> list[str]:
    kubeconfig = layout.kubeconfig(component)
    return [
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        "--leader-elect=false",
        "--profiling=false",
    ]


def kube_controller_manager(binaries: K8sBinaries, layout: NodeLayout, pki: NodePKI) -> list[str]:
    return [
        str(binaries.kube_controller_manager),
        *_client_flags(layout, "kube-controller-manager"),
        "--use-service-account-credentials=true",
        f"--service-account-private-key-file={pki.sa_private_key}",
        f"--root-ca-file={pki.ca_cert}",
        f"--cluster-signing-cert-file={pki.ca_cert}",
        f"--cluster-signing-key-file={pki.ca_key}",
        f"--service-cluster-ip-range={layout.service_cidr}",
        "--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller",
    ]


def kube_scheduler(binaries: K8sBinaries, layout: NodeLayout) -> list[str]:
    return [str(binaries.kube_scheduler), *_client_flags(layout, "kube-scheduler")]


def containerd(config: Path) -> list[str]:
    return ["containerd", f"--config={config}"]


def ctr(layout: NodeLayout, *args: str) -> list[str]:
    return ["ctr", f"--address={layout.containerd_socket}", "--namespace=k8s.io", *args]


def kubelet(binaries: K8sBinaries, layout: NodeLayout, config: Path) -> list[str]:
    return [
        str(binaries.kubelet),
        f"--config={config}",
        f"--kubeconfig={layout.kubeconfig('kubelet')}",
        f"--root-dir={layout.workdir / 'kubelet'}",
        f"--hostname-override={layout.node_name}",
        f"--node-ip={layout.node_ip}",
        "--v=1",
    ]


def kube_proxy(binaries: K8sBinaries, config: Path) -> list[str]:
    return [str(binaries.kube_proxy), f"--config={config}"]
