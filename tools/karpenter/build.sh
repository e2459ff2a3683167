#!/usr/bin/env bash
# Build (or reuse) Karpenter's KWOK cloud provider and the KWOK controller for the Karpenter demo
# and tests, next to the files they need at run time:
#
#   <dir>/karpenter-kwok   Karpenter with the KWOK cloud provider (sigs.k8s.io/karpenter/kwok)
#   <dir>/kwok             the KWOK controller (sigs.k8s.io/kwok/cmd/kwok)
#   <dir>/crds/            NodePool, NodeClaim, NodeOverlay and KWOKNodeClass CRDs
#   <dir>/stages/          KWOK stages: node-initialize, node-heartbeat-with-lease, pod-ready,
#                          pod-complete, pod-delete (kwok refuses to start without stages)
#
# The directory is ${NSSHUTDOWN_CACHE:-~/.cache/nsshutdown}/karpenter-bin/
# karpenter-<ver>-kwok-<ver>-<hash of the go.sum files and the layout>/, built from the wrapper
# modules next to this script when missing. The CRDs and stages are copied out of the module
# cache so that running the harness needs no Go toolchain.
#
# The directory is the LAST line of stdout (logs go to stderr):  dir=$(tools/karpenter/build.sh)
# --print-dir prints the expected directory without building; exit 1 if it is not built yet.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
karpenter_mod="$here/karpenter"
kwok_mod="$here/kwok"

log() { printf 'karpenter/build.sh: %s\n' "$*" >&2; }

has_bins() { [[ -x "$1/karpenter-kwok" && -x "$1/kwok" && -d "$1/crds" && -d "$1/stages" ]]; }

module_version() { # <go.mod> <module path>
    awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$1"
}

karpenter_version="$(module_version "$karpenter_mod/go.mod" sigs.k8s.io/karpenter)"
kwok_version="$(module_version "$kwok_mod/go.mod" sigs.k8s.io/kwok)"
# Bump when the directory's layout (the files copied next to the binaries) changes.
layout=1
sum_hash="$({ cat "$karpenter_mod/go.sum" "$kwok_mod/go.sum"; echo "layout $layout"; } | sha256sum | cut -c1-12)"
cache_root="${NSSHUTDOWN_CACHE:-$HOME/.cache/nsshutdown}"
bin_dir="$cache_root/karpenter-bin/karpenter-$karpenter_version-kwok-$kwok_version-$sum_hash"

if [[ "${1:-}" == "--print-dir" ]]; then
    echo "$bin_dir"
    has_bins "$bin_dir"
    exit
fi

if has_bins "$bin_dir"; then
    log "reusing $bin_dir"
    echo "$bin_dir"
    exit 0
fi

# Build into a temporary sibling directory and rename it at the end, so an interrupted build never
# leaves a directory that looks complete.
mkdir -p "$(dirname "$bin_dir")"
tmp_dir="$(mktemp -d "$bin_dir.tmp.XXXXXX")"
trap 'rm -rf "$tmp_dir"' EXIT
chmod 755 "$tmp_dir"

# -mod=readonly: the committed go.sum must be complete (its hash names the cache dir).
# GOTOOLCHAIN=local: build with the installed Go; never download another toolchain silently.
export CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local
start=$SECONDS
log "building karpenter-kwok $karpenter_version and kwok $kwok_version into $bin_dir"
log "a cold build takes ~10 min on 2 cores (plus downloading ~1 GB of modules)"
nice -n 10 go build -C "$karpenter_mod" -trimpath -ldflags "-s -w" -o "$tmp_dir/karpenter-kwok" \
    sigs.k8s.io/karpenter/kwok
nice -n 10 go build -C "$kwok_mod" -trimpath -ldflags "-s -w" -o "$tmp_dir/kwok" \
    sigs.k8s.io/kwok/cmd/kwok

karpenter_src="$(go list -C "$karpenter_mod" -m -f '{{.Dir}}' sigs.k8s.io/karpenter)"
kwok_src="$(go list -C "$kwok_mod" -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
mkdir "$tmp_dir/crds" "$tmp_dir/stages"
cp "$karpenter_src"/pkg/apis/crds/*.yaml "$karpenter_src"/kwok/apis/crds/*.yaml "$tmp_dir/crds/"
cp "$kwok_src/kustomize/stage/node/fast/node-initialize.yaml" \
    "$kwok_src/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
    "$kwok_src"/kustomize/stage/pod/fast/pod-{ready,complete,delete}.yaml "$tmp_dir/stages/"
chmod -R u+w,go+rX "$tmp_dir"

if ! mv -T "$tmp_dir" "$bin_dir" 2>/dev/null; then
    has_bins "$bin_dir" || { log "could not move $tmp_dir to $bin_dir"; exit 1; }
    log "another build finished first; using it"
fi
log "built in $((SECONDS - start)) s"
echo "$bin_dir"
