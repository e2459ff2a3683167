#!/usr/bin/env bash
# The tag a release image is pushed with, printed on stdout:
#
#   tag push vX.Y.Z   X.Y.Z, which must be the version in pyproject.toml: the manifests pull
#                     ghcr.io/nsshutdown/nsshutdown:<that version>, so a git tag that disagrees
#                     would publish an image nothing installs (tests/static/test_image_reference.py
#                     checks the manifests, this workflow and the docs against the same version)
#   anything else     sha-<12 hex of the commit>, for a manual run on a branch
#
# Reads GITHUB_REF_TYPE, GITHUB_REF_NAME and GITHUB_SHA as GitHub Actions sets them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

if [[ ${GITHUB_REF_TYPE:-} != tag ]]; then
    sha="${GITHUB_SHA:?GITHUB_SHA is not set}"
    echo "sha-${sha:0:12}"
    exit 0
fi

ref="${GITHUB_REF_NAME:?GITHUB_REF_NAME is not set}"
project="$(python3 -c 'import sys, tomllib
print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$root/pyproject.toml")"
if [[ $ref != "v$project" ]]; then
    echo "image-tag.sh: the git tag $ref is not v$project, the version in pyproject.toml:" \
        "bump the version (and the manifests' image tag) first" >&2
    exit 1
fi
# Docker tags allow [A-Za-z0-9_.-]; PEP 440 versions (0.2.0rc1, 0.1.0.post1) fit.
if [[ ! $project =~ ^[0-9]+\.[0-9]+\.[0-9]+[0-9A-Za-z.]*$ ]]; then
    echo "image-tag.sh: '$project' does not look like a release version" >&2
    exit 1
fi
echo "$project"
