#!/usr/bin/env bash
# Install the Debian packages the end-to-end node and `make image` need, when missing:
#   containerd, runc, containernetworking-plugins  the node's container runtime and bridge network
#   iptables, conntrack, iproute2                   kube-proxy's Service rules, the node's interfaces
#   podman, buildah, mmdebstrap                     images built from the Dockerfile, offline base
#   prometheus-pushgateway                          the binary of the in-cluster Pushgateway image
#
# Binaries only: the packages' services are kept from starting (policy-rc.d), since the tests
# start their own containerd inside the node's namespaces. Runs apt through sudo when not root.
set -euo pipefail

exec "$(dirname "$0")/../ci/install-apt-tools.sh" \
    containerd runc containernetworking-plugins iptables conntrack iproute2 \
    podman buildah mmdebstrap prometheus-pushgateway
