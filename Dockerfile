# syntax=docker/dockerfile:1
#
# nsshutdown's container image. Two stages: `build` installs the project from pyproject.toml into
# a virtual environment; the final stage copies only that environment onto a clean base.
#
# Base image: pinned by an explicit version tag here. Release builds pin the digest too, by
# passing the same tag with its digest (resolved at release time, e.g. with
# `docker buildx imagetools inspect python:3.11.14-slim-bookworm`):
#   docker build --build-arg PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:<digest> .
# Both stages use the same image, so the environment's interpreter path is valid in the final one.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
# checkov:skip=CKV_DOCKER_7: the base is `FROM ${PYTHON_IMAGE}`, which checkov does not expand; the ARG default above is an explicit version tag (and a digest in release builds).

FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY nsshutdown ./nsshutdown

# The same install as the test environment's (`pip install -e '.[dev]'` there): the project and
# the dependencies declared in pyproject.toml, resolved by pip. Then pip itself is removed from
# the environment: the final image installs nothing at run time.
RUN python -m venv /opt/nsshutdown \
    && /opt/nsshutdown/bin/pip install --no-cache-dir . \
    && /opt/nsshutdown/bin/pip uninstall --yes pip \
    && /opt/nsshutdown/bin/nsshutdown --help > /dev/null

FROM ${PYTHON_IMAGE}

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown

LABEL org.opencontainers.image.title="nsshutdown" \
      org.opencontainers.image.description="Scale whole Kubernetes namespaces down outside working hours and bring them back on time." \
      org.opencontainers.image.source="https://github.com/nsshutdown/nsshutdown" \
      org.opencontainers.image.url="https://github.com/nsshutdown/nsshutdown" \
      org.opencontainers.image.documentation="https://github.com/nsshutdown/nsshutdown/tree/main/docs" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="The nsshutdown authors" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"

ENV PATH=/opt/nsshutdown/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

COPY --from=build /opt/nsshutdown /opt/nsshutdown

# Numeric, so the kubelet can check runAsNonRoot without a passwd lookup; matches the CronJob's
# runAsUser. No home directory is needed: the root filesystem is read-only in the pod and /tmp is
# an emptyDir.
USER 65532:65532

# No HEALTHCHECK, on purpose: Docker's HEALTHCHECK is ignored by Kubernetes, and a CronJob run is a
# process that starts, converges and exits; its health is its exit code and the metrics it pushes.
# checkov:skip=CKV_DOCKER_2: a HEALTHCHECK means nothing to a Kubernetes CronJob (see above).

ENTRYPOINT ["nsshutdown"]
CMD ["--help"]
