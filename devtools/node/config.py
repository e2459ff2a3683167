"""Configuration files of the end-to-end node: containerd, the bridge CNI network, the kubelet
and kube-proxy. Pure renderers: every value comes from :class:`NodeLayout`.

Settings that differ from a stock node, and why:

- containerd: ``restrict_oom_score_adj`` (root here lacks CAP_SYS_RESOURCE, so a container may not
  be given an OOM score below the runtime's own), cgroupfs (no systemd), the pause image is a
  local one, and every directory is under the node's work directory.
- kubelet: cgroupfs under a cgroup root of its own (removed at teardown), eviction thresholds that
  a shared build machine's disk cannot trip, and no swap check.
- kube-proxy: iptables mode; conntrack sysctls left alone (they are not per network namespace).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

PAUSE_IMAGE = "localhost/nsshutdown-e2e/pause:1"


@dataclass(frozen=True)
class NodeLayout:
    """Addresses, names and directories of one node."""

    workdir: Path
    node_name: str = "e2e-node"
    node_ip: str = "10.10.0.2"
    node_prefix: int = 24
    pod_cidr: str = "10.244.0.0/24"
    service_cidr: str = "10.0.0.0/24"
    service_ip: str = "10.0.0.1"
    dns_ip: str = "10.0.0.10"
    cluster_domain: str = "cluster.local"
    apiserver_port: int = 6443

    @property
    def cgroup_root(self) -> str:
        # Unique per work directory, so two nodes never share (or remove) each other's cgroups.
        return f"nsshutdown-e2e-{self.workdir.name}"

    @property
    def server_url(self) -> str:
        return f"https://{self.node_ip}:{self.apiserver_port}"

    @property
    def containerd_socket(self) -> Path:
        return self.workdir / "containerd" / "containerd.sock"

    @property
    def cni_conf_dir(self) -> Path:
        return self.workdir / "cni"

    def kubeconfig(self, component: str) -> Path:
        return self.workdir / "kubeconfig" / f"{component}.kubeconfig"


def containerd_config(layout: NodeLayout) -> str:
    base = layout.workdir / "containerd"
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    lines = [
        "version = 2",
        f'root = "{base / "root"}"',
        f'state = "{base / "state"}"',
        "disabled_plugins = [",
        '  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",',
        '  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",',
        '  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing",',
        "]",
        "[grpc]",
        f'  address = "{layout.containerd_socket}"',
        "[ttrpc]",
        f'  address = "{base / "containerd.ttrpc.sock"}"',
        '[plugins."io.containerd.internal.v1.opt"]',
        f'  path = "{base / "opt"}"',
        f"[{cri}]",
        f'  sandbox_image = "{PAUSE_IMAGE}"',
        "  restrict_oom_score_adj = true",
        "  netns_mounts_under_state_dir = true",
        '  stream_server_address = "127.0.0.1"',
        f"[{cri}.containerd]",
        '  snapshotter = "overlayfs"',
        '  default_runtime_name = "runc"',
        f"[{cri}.containerd.runtimes.runc]",
        '  runtime_type = "io.containerd.runc.v2"',
        f"[{cri}.containerd.runtimes.runc.options]",
        "  SystemdCgroup = false",
        f'  Root = "{base / "runc"}"',
        f"[{cri}.cni]",
        '  bin_dir = "/usr/lib/cni"',
        f'  conf_dir = "{layout.cni_conf_dir}"',
    ]
    return "\n".join(lines) + "\n"


def cni_config(layout: NodeLayout) -> str:
    """A bridge network with host-local addresses; masquerade only for traffic leaving the pods."""
    gateway = layout.pod_cidr.rsplit(".", 1)[0] + ".1"
    conflist = {
        "cniVersion": "1.0.0",
        "name": "e2e",
        "plugins": [
            {
                "type": "bridge",
                "bridge": "cni0",
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": layout.pod_cidr, "gateway": gateway}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(layout.workdir / "cni-ipam"),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return json.dumps(conflist, indent=2) + "\n"


def kubelet_config(layout: NodeLayout, *, ca_file: Path) -> str:
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(ca_file)},
        },
        "authorization": {"mode": "Webhook"},
        "address": layout.node_ip,
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": f"/{layout.cgroup_root}",
        "cgroupsPerQOS": True,
        "clusterDNS": [layout.dns_ip],
        "clusterDomain": layout.cluster_domain,
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        "failSwapOn": False,
        "failCgroupV1": False,
        "resolvConf": str(layout.workdir / "resolv.conf"),
        "podCIDR": layout.pod_cidr,
        "maxPods": 60,
        "serializeImagePulls": False,
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
            "nodefs.inodesFree": "1%",
        },
        "syncFrequency": "10s",
        "fileCheckFrequency": "10s",
        "nodeStatusUpdateFrequency": "5s",
        "staticPodPath": "",
        "localStorageCapacityIsolation": True,
        "protectKernelDefaults": False,
    }
    return yaml.safe_dump(config, sort_keys=False)


def kube_proxy_config(layout: NodeLayout) -> str:
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clientConnection": {"kubeconfig": str(layout.kubeconfig("kube-proxy"))},
        "hostnameOverride": layout.node_name,
        "bindAddress": layout.node_ip,
        "clusterCIDR": layout.pod_cidr,
        # Zero leaves each conntrack sysctl as it is.
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
        },
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
    }
    return yaml.safe_dump(config, sort_keys=False)
