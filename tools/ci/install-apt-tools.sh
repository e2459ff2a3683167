#!/usr/bin/env bash
# Install Debian/Ubuntu packages when missing:  tools/ci/install-apt-tools.sh PKG...
#
# `make lint`, `make test` and `make demo` need none: their tools are built by tools/go/build.sh
# or come with the dev extras (mk/tools.mk). This is for what only a system package provides.
#
# The tests start every daemon themselves, so the packages' services are kept from starting
# at install time (policy-rc.d): on a runner with systemd they would otherwise hold the
# default ports. Runs apt through sudo when not root.
set -euo pipefail

packages=("$@")
if [[ ${#packages[@]} -eq 0 ]]; then
    printf 'usage: %s PACKAGE...\n' "$0" >&2
    exit 2
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
