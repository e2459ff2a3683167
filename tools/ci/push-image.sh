#!/usr/bin/env bash
# Tag the local, already scanned image and push it to each repository given:
#
#   push-image.sh LOCAL_IMAGE REGISTRY/REPOSITORY...
#
# The tag comes from tools/ci/image-tag.sh: X.Y.Z for the git tag vX.Y.Z (the version in
# pyproject.toml, which the manifests pull), else sha-<12 hex> for a manual run on a branch. A
# tag is pushed once: when a repository already holds it, this refuses instead of moving it
# (ECR repositories with immutable tags would refuse too; GHCR would not). The pushed digests
# are written to the job summary.
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: $0 LOCAL_IMAGE REGISTRY/REPOSITORY..." >&2
    exit 2
fi
local_image="$1"
shift

tag="$("$(dirname "${BASH_SOURCE[0]}")/image-tag.sh")"

for remote in "$@"; do
    if [[ ! $remote =~ ^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+$ ]]; then
        echo "refusing to push: '$remote' is not REGISTRY/REPOSITORY" >&2
        exit 1
    fi
    if docker manifest inspect "$remote:$tag" >/dev/null 2>&1; then
        echo "refusing to push: $remote:$tag exists already; a release tag is never moved" >&2
        exit 1
    fi
done

for remote in "$@"; do
    docker tag "$local_image" "$remote:$tag"
    docker push "$remote:$tag"
    digest="$(docker image inspect --format '{{join .RepoDigests "\n"}}' "$remote:$tag" |
        grep -F "$remote@" | head -n1)"
    echo "pushed $remote:$tag as $digest"
    if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
        printf -- '- %s:%s (%s)\n' "$remote" "$tag" "$digest" >>"$GITHUB_STEP_SUMMARY"
    fi
done
