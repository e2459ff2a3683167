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

packages=(containerd runc containernetworking-plugins iptables conntrack iproute2
    podman buildah mmdebstrap prometheus-pushgateway)

log() { printf 'install-packages.sh: %s\n' "$*" >&2; }

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    log "already installed: ${packages[*]}"
    exit 0
fi

sudo=()
if [[ $EUID -ne 0 ]]; then
    sudo=(sudo)
fi
policy=/usr/sbin/policy-rc.d
created_policy=false
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 0755 "$policy"
    created_policy=true
fi
cleanup() {
    if [[ $created_policy == true ]]; then
        "${sudo[@]}" rm -f "$policy"
    fi
}
trap cleanup EXIT

log "installing: ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
