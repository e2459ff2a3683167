#!/usr/bin/env bash
# Build (or reuse) the binaries of the end-to-end node's add-on images: CoreDNS (cluster DNS)
# and pause (the pod sandbox, also the process the test workloads run). Both are static Go
# binaries built from the wrapper modules next to this script, so the node needs no registry.
#
# Directory: ${NSSHUTDOWN_CACHE:-~/.cache/nsshutdown}/k8s-addons/coredns-<ver>-<hash of the modules>/
# printed as the LAST line of stdout (logs go to stderr). --print-dir prints it without building
# (exit 1 when it is not built yet).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf 'build-addons.sh: %s\n' "$*" >&2; }

# The version on the module's require line ("require M V" or a line "M V" in a block).
coredns_version="$(sed -nE 's#^(require[[:space:]]+)?[[:space:]]*github.com/coredns/coredns[[:space:]]+(v[^[:space:]]+).*#\2#p' \
    "$here/coredns/go.mod" | head -n 1)"
sum_hash="$(cat "$here/coredns/go.mod" "$here/coredns/go.sum" "$here/coredns/main.go" \
    "$here/pause/go.mod" "$here/pause/main.go" | sha256sum | cut -c1-12)"
cache_root="${NSSHUTDOWN_CACHE:-$HOME/.cache/nsshutdown}"
bin_dir="$cache_root/k8s-addons/coredns-$coredns_version-$sum_hash"

complete() { [[ -x "$bin_dir/coredns" && -x "$bin_dir/pause" ]]; }

if [[ "${1:-}" == "--print-dir" ]]; then
    echo "$bin_dir"
    complete
    exit
fi
if complete; then
    log "reusing $bin_dir"
    echo "$bin_dir"
    exit 0
fi

mkdir -p "$(dirname "$bin_dir")"
tmp_dir="$(mktemp -d "$bin_dir.tmp.XXXXXX")"
trap 'rm -rf "$tmp_dir"' EXIT
chmod 755 "$tmp_dir"

# Static binaries (they run in images with nothing else in them); -mod=readonly: the committed
# go.sum is complete.
export CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"
start=$SECONDS
log "building CoreDNS $coredns_version and pause into $bin_dir"
nice -n 10 go build -C "$here/coredns" -trimpath -ldflags "-s -w" -o "$tmp_dir/coredns" .
nice -n 10 go build -C "$here/pause" -trimpath -ldflags "-s -w" -o "$tmp_dir/pause" .

if ! mv -T "$tmp_dir" "$bin_dir" 2>/dev/null; then
    complete || { log "could not move $tmp_dir to $bin_dir"; exit 1; }
    log "another build finished first; using it"
fi
log "built in $((SECONDS - start)) s"
echo "$bin_dir"
