# The shipped artifact on a real node (included by the Makefile).
#
#   make image   build the container image from the Dockerfile with podman, on a Debian base made
#                offline with mmdebstrap (cached in $(NSSHUTDOWN_CACHE)/images), then run it locked
#                down (read-only root, uid 65532, tmpfs /tmp, no capabilities)
#   make e2e     root only: a real node (etcd, control plane, containerd, kubelet, kube-proxy,
#                CoreDNS) in its own namespaces; the image and manifests installed as a user would,
#                and the CronJob itself scales the team namespaces down and back (docs/deploy/e2e.md)

IMAGE ?= localhost/nsshutdown:dev

.PHONY: image e2e e2e-packages

e2e-packages: ## Debian packages of the node and the image build (containerd, runc, CNI, podman, ...)
	tools/e2e/install-packages.sh

image: dev ## build the container image offline with podman and check it runs locked down
	$(PYTHON) -m devtools.images --tag $(IMAGE)

e2e: dev e2e-packages ## the image and manifests on a real local node: pods go away and come back (root)
	tools/k8s/build.sh --node >/dev/null
	tools/k8s/build-addons.sh >/dev/null
	$(PYTHON) -m pytest -m e2e tests/e2e $(PYTEST_ARGS)
