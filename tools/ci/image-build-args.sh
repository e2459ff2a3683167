#!/usr/bin/env bash
# Build arguments for a release image, written as step outputs ($GITHUB_OUTPUT) or to stdout:
#
#   python-image  the Dockerfile's PYTHON_IMAGE default, pinned to the digest it has now, so
#                 the build log and the image record exactly which base was used
#   version       1.2.3 for the tag v1.2.3 (which must be pyproject's version: image-tag.sh);
#                 else <pyproject version>+<12 hex of the commit>
#   revision      the commit SHA
#   created       the commit's time (RFC 3339), so rebuilding a commit gives the same label
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

base="$(sed -n 's/^ARG PYTHON_IMAGE=//p' Dockerfile | head -n1)"
if [[ -z $base ]]; then
    echo "image-build-args.sh: no 'ARG PYTHON_IMAGE=' default in Dockerfile" >&2
    exit 1
fi
if [[ $base != *@sha256:* ]]; then
    digest="$(docker buildx imagetools inspect "$base" --format '{{json .Manifest}}' |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["digest"])')"
    base="$base@$digest"
fi

revision="$(git rev-parse HEAD)"
if [[ ${GITHUB_REF_TYPE:-} == tag ]]; then
    version="$(tools/ci/image-tag.sh)"
else
    project="$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
    version="$project+${revision:0:12}"
fi
created="$(git log -1 --format=%cI HEAD)"

{
    echo "python-image=$base"
    echo "version=$version"
    echo "revision=$revision"
    echo "created=$created"
} >>"${GITHUB_OUTPUT:-/dev/stdout}"
