#!/usr/bin/env bash
# Tag the local, already scanned image and push it:  push-image.sh LOCAL_IMAGE REGISTRY/REPOSITORY
#
# The tag is the git tag for a tag push (v1.2.3), else sha-<12 hex> for a manual run on a
# branch. ECR tags are immutable, so a tag is pushed once; pushing it again fails loudly
# instead of silently moving it. The pushed digest is written to the job summary.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 LOCAL_IMAGE REGISTRY/REPOSITORY" >&2
    exit 2
fi
local_image="$1"
remote="$2"

case "${GITHUB_REF_TYPE:-}" in
    tag) tag="${GITHUB_REF_NAME:?}" ;;
    *) tag="sha-${GITHUB_SHA:?}"; tag="${tag:0:16}" ;;
esac

# Docker tags allow [A-Za-z0-9_.-]; a release tag must also look like a version.
if [[ ! $tag =~ ^(v[0-9]+\.[0-9]+\.[0-9]+([.-][0-9A-Za-z.-]+)?|sha-[0-9a-f]{12})$ ]]; then
    echo "refusing to push: '$tag' is not vMAJOR.MINOR.PATCH[-suffix] nor sha-<12 hex>" >&2
    exit 1
fi
if [[ ! $remote =~ ^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+$ ]]; then
    echo "refusing to push: '$remote' is not REGISTRY/REPOSITORY" >&2
    exit 1
fi

docker tag "$local_image" "$remote:$tag"
docker push "$remote:$tag"
digest="$(docker image inspect --format '{{join .RepoDigests "\n"}}' "$remote:$tag" | grep -F "$remote@" | head -n1)"
echo "pushed $remote:$tag as $digest"
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    printf '### Image\n\n- tag: %s:%s\n- digest: %s\n' "$remote" "$tag" "$digest" >>"$GITHUB_STEP_SUMMARY"
fi
