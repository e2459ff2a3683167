#!/usr/bin/env bash
# Build (or reuse) the Go tools that `make lint`, `make test` and `make demo` call: the
# Pushgateway, promtool, amtool, Alertmanager and actionlint. Nothing comes from the system.
#
# Each directory next to this script is a wrapper module: a go.mod that requires one published
# module at a pinned version and names the commands to build in `tool` lines, and its go.sum. A
# comment line `// build tags: a,b` in the go.mod passes -tags to the build; `// ldflags: ...` adds
# linker flags, with `{version}` standing for the module's version (e.g. a version variable).
# A module's binaries go together into
#   ${NSSHUTDOWN_CACHE:-~/.cache/nsshutdown}/bin/<dir>-<version>-<hash of go.mod and go.sum>/
# so a version bump builds a new directory while an unchanged module is reused offline. A build
# goes to a temporary sibling that is renamed at the end: an interrupted build never leaves a
# directory that looks complete, and two builds at once are harmless.
#
#   tools/go/build.sh                      build every module that is not built yet
#   tools/go/build.sh promtool amtool      only the modules holding these commands
#   tools/go/build.sh prometheus           only this wrapper module (a directory name here)
#   tools/go/build.sh --path promtool      build if needed, then print the binary's path
#   tools/go/build.sh --print-path NAME    print the path without building; exit 1 if absent
#   tools/go/build.sh --list               every command, one per line
#   tools/go/build.sh --modules            every wrapper module, one per line
#   tools/go/build.sh --bin-path           every module's directory, joined by ':' for PATH
#
# Logs (including each module's build time) go to stderr; stdout holds only the paths asked for.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${NSSHUTDOWN_CACHE:-$HOME/.cache/nsshutdown}"

log() { printf 'tools/go/build.sh: %s\n' "$*" >&2; }

# The build in progress goes to $tmp: removed however the script ends.
tmp=""
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
die() { log "$*"; exit 1; }

# The packages named by a go.mod's `tool` directives, single-line or block form.
tool_packages() { # <go.mod>
    awk '$1 == "tool" && $2 != "(" { print $2 }
         $1 == "tool" && $2 == "(" { block = 1; next }
         block && $1 == ")" { block = 0 }
         block && NF { print $1 }' "$1"
}

# The version of the module the wrapper exists for: the requirement that provides its first
# tool package (the longest module path that prefixes it). `go mod tidy` marks it `// indirect`
# because only a `tool` line uses it, so the comment cannot tell it apart.
main_version() { # <go.mod>
    local pkg
    pkg="$(tool_packages "$1" | head -n 1)"
    awk -v pkg="$pkg" '
        $1 == "require" && $2 == "(" { block = 1; next }
        block && $1 == ")" { block = 0; next }
        { path = ""; version = "" }
        $1 == "require" && $2 != "(" { path = $2; version = $3 }
        block && NF >= 2 { path = $1; version = $2 }
        path != "" && (pkg == path || index(pkg, path "/") == 1) && length(path) > best {
            best = length(path); found = version
        }
        END { if (found == "") exit 1; print found }' "$1"
}

build_tags() { # <go.mod>
    sed -n 's|^// build tags: *||p' "$1" | head -n 1
}

extra_ldflags() { # <go.mod> <version>
    sed -n 's|^// ldflags: *||p' "$1" | head -n 1 | sed "s|{version}|$2|g"
}

module_dir() { # <wrapper dir name> -> cache directory for its binaries
    local mod="$here/$1/go.mod"
    local hash
    hash="$(cat "$mod" "$here/$1/go.sum" | sha256sum | cut -c1-12)"
    echo "$cache_root/bin/$1-$(main_version "$mod")-$hash"
}

modules() { # every wrapper directory, by name
    local mod
    for mod in "$here"/*/go.mod; do basename "$(dirname "$mod")"; done
}

module_of() { # <command or wrapper dir name> -> wrapper dir name
    local name pkg
    [[ -f "$here/$1/go.mod" ]] && { echo "$1"; return; }
    for name in $(modules); do
        for pkg in $(tool_packages "$here/$name/go.mod"); do
            [[ "${pkg##*/}" == "$1" ]] && { echo "$name"; return; }
        done
    done
    die "unknown tool '$1' (known: $(list | tr '\n' ' '))"
}

list() {
    local name
    for name in $(modules); do tool_packages "$here/$name/go.mod" | sed 's|.*/||'; done
}

built() { # <wrapper dir name>: every command of the module is in its cache directory
    local dir pkg
    dir="$(module_dir "$1")"
    for pkg in $(tool_packages "$here/$1/go.mod"); do
        [[ -x "$dir/${pkg##*/}" ]] || return 1
    done
}

build() { # <wrapper dir name>
    local name=$1 dir start version packages
    dir="$(module_dir "$name")"
    if built "$name"; then
        log "reusing $dir"
        return
    fi
    command -v go >/dev/null || die "Go is required to build $name (https://go.dev/doc/install)"
    version="$(main_version "$here/$name/go.mod")"
    mapfile -t packages < <(tool_packages "$here/$name/go.mod")
    mkdir -p "$(dirname "$dir")"
    tmp="$(mktemp -d "$dir.tmp.XXXXXX")"
    chmod 755 "$tmp"
    start=$SECONDS
    log "building $name $version into $dir"
    # -mod=readonly: the committed go.sum must be complete (its hash names the directory), so a
    # build never rewrites it. -buildvcs=false: this repository's git state says nothing about
    # these tools. The version variable is the one the Prometheus projects print in --version.
    if ! CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" nice -n 10 \
        go build -C "$here/$name" -trimpath -tags "$(build_tags "$here/$name/go.mod")" \
            -ldflags "-s -w -X github.com/prometheus/common/version.Version=${version#v} $(extra_ldflags "$here/$name/go.mod" "$version")" \
            -o "$tmp/" "${packages[@]}"; then
        rm -rf "$tmp"
        die "building $name failed"
    fi
    if ! mv -T "$tmp" "$dir" 2>/dev/null; then
        rm -rf "$tmp"
        tmp=""
        built "$name" || die "could not move the build of $name into $dir"
        log "another build of $name finished first; using it"
        return
    fi
    tmp=""
    log "built $name $version in $((SECONDS - start)) s"
}

case "${1:-}" in
    --list)
        list
        ;;
    --modules)
        modules
        ;;
    --bin-path)
        for name in $(modules); do module_dir "$name"; done | paste -sd:
        ;;
    --path | --print-path)
        [[ $# -eq 2 ]] || die "usage: $0 $1 COMMAND"
        name="$(module_of "$2")"
        [[ "$1" == --path ]] && build "$name"
        echo "$(module_dir "$name")/$2"
        [[ -x "$(module_dir "$name")/$2" ]]
        ;;
    -*)
        die "unknown option $1 (see the header of $0)"
        ;;
    *)
        if [[ $# -eq 0 ]]; then
            for name in $(modules); do build "$name"; done
        else
            # Each module once, even when several of its commands are named.
            for name in $(for tool in "$@"; do module_of "$tool"; done | sort -u); do
                build "$name"
            done
        fi
        ;;
esac
