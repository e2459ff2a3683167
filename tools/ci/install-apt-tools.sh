#!/usr/bin/env bash
# Install the Debian/Ubuntu packages that `make lint` and `make test` call, when missing.
#
#   tools/ci/install-apt-tools.sh            # the default set below
#   tools/ci/install-apt-tools.sh PKG...     # only these
#
# Default set: shellcheck (actionlint checks `run:` scripts with it), prometheus (promtool),
# prometheus-alertmanager (amtool) and prometheus-pushgateway (the integration tests start
# their own on a loopback port).
#
# The tests start every daemon themselves, so the packages' services are kept from starting
# at install time (policy-rc.d): on a runner with systemd they would otherwise hold the
# default ports. Runs apt through sudo when not root.
set -euo pipefail

packages=("$@")
if [[ ${#packages[@]} -eq 0 ]]; then
    packages=(shellcheck prometheus prometheus-alertmanager prometheus-pushgateway)
fi

log() { printf 'install-apt-tools.sh: %s\n' "$*" >&2; }

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
