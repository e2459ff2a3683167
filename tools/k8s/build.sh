#!/usr/bin/env bash
# Build (or reuse) the Kubernetes binaries for the integration tests and the local node: etcd,
# kube-apiserver and kubectl (integration tests, demo, benchmarks), kube-controller-manager,
# kube-scheduler, kubelet and kube-proxy (the end-to-end node, tests/e2e).
#
# Binary directory, in order of preference:
#   1. $KUBEBUILDER_ASSETS, when it holds kube-apiserver and etcd (envtest layout);
#   2. ${NSSHUTDOWN_CACHE:-~/.cache/nsshutdown}/k8s-bin/k8s-<ver>-etcd-<ver>-<hash of go.sum files>/,
#      built here from the wrapper modules next to this script when missing.
#
# The directory is the LAST line of stdout (logs go to stderr):  dir=$(tools/k8s/build.sh)
# --print-dir prints the expected directory without building; exit 1 if it is not built yet.
# --node also requires the node binaries: a $KUBEBUILDER_ASSETS holding only the envtest pair
# (kube-apiserver, etcd) is then passed over for the cache directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
api_mod="$here/apiserver"
etcd_mod="$here/etcd"

log() { printf 'build.sh: %s\n' "$*" >&2; }

# One `go build` for every Kubernetes command: they share most packages, so building them
# together costs far less than building them one by one.
k8s_commands=(kube-apiserver kubectl kube-controller-manager kube-scheduler kubelet kube-proxy)
envtest_bins=(kube-apiserver etcd)
all_bins=("${k8s_commands[@]}" etcd)

need_node=false
print_dir=false
for arg in "$@"; do
    case "$arg" in
        --node) need_node=true ;;
        --print-dir) print_dir=true ;;
        *) log "unknown argument: $arg"; exit 2 ;;
    esac
done

has_bins() { # <dir> <binary>...
    local dir="$1" bin
    shift
    for bin in "$@"; do
        [[ -x "$dir/$bin" ]] || return 1
    done
}

module_version() { # <go.mod> <module path>
    awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$1"
}

k8s_version="$(module_version "$api_mod/go.mod" k8s.io/kubernetes)"
etcd_version="$(module_version "$etcd_mod/go.mod" go.etcd.io/etcd/server/v3)"
sum_hash="$(cat "$api_mod/go.sum" "$etcd_mod/go.sum" | sha256sum | cut -c1-12)"
cache_root="${NSSHUTDOWN_CACHE:-$HOME/.cache/nsshutdown}"
bin_dir="$cache_root/k8s-bin/k8s-$k8s_version-etcd-$etcd_version-$sum_hash"

if [[ $need_node == true ]]; then
    assets_bins=("${all_bins[@]}")
else
    assets_bins=("${envtest_bins[@]}")
fi
if [[ -n "${KUBEBUILDER_ASSETS:-}" ]] && has_bins "$KUBEBUILDER_ASSETS" "${assets_bins[@]}"; then
    log "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
    echo "$KUBEBUILDER_ASSETS"
    exit 0
fi

if [[ $print_dir == true ]]; then
    echo "$bin_dir"
    has_bins "$bin_dir" "${all_bins[@]}"
    exit
fi

if has_bins "$bin_dir" "${all_bins[@]}"; then
    log "reusing $bin_dir"
    echo "$bin_dir"
    exit 0
fi

# Build into a temporary sibling directory and rename it at the end, so an
# interrupted build never leaves a directory that looks complete.
mkdir -p "$(dirname "$bin_dir")"
tmp_dir="$(mktemp -d "$bin_dir.tmp.XXXXXX")"
trap 'rm -rf "$tmp_dir"' EXIT
chmod 755 "$tmp_dir"

minor="${k8s_version#v*.}"
minor="${minor%%.*}"
major="${k8s_version#v}"
major="${major%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean"
done

# -mod=readonly: the committed go.sum must be complete (its hash names the cache dir), so a
# build never rewrites it. -buildvcs=false: the repo's git state is irrelevant to these tools.
export CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"
build_flags=(-trimpath -tags "selinux,notest,grpcnotrace")
start=$SECONDS
log "building ${k8s_commands[*]} $k8s_version and etcd $etcd_version into $bin_dir"
log "a cold build takes tens of minutes on 2 cores (plus downloading ~1 GB of modules)"
nice -n 10 go build -C "$api_mod" "${build_flags[@]}" -ldflags "$ldflags" -o "$tmp_dir/" \
    "${k8s_commands[@]/#/k8s.io/kubernetes/cmd/}"
nice -n 10 go build -C "$etcd_mod" "${build_flags[@]}" -ldflags "-s -w" -o "$tmp_dir/etcd" \
    go.etcd.io/etcd/server/v3

if ! mv -T "$tmp_dir" "$bin_dir" 2>/dev/null; then
    has_bins "$bin_dir" "${all_bins[@]}" || { log "could not move $tmp_dir to $bin_dir"; exit 1; }
    log "another build finished first; using it"
fi
log "built in $((SECONDS - start)) s"
echo "$bin_dir"
