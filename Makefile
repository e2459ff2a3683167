# One entry point for people and CI. `make help` lists the targets.
# Each area adds its own lint and tool targets in mk/*.mk (LINT_TARGETS += ...).

# Everything runs in a project virtualenv that `make dev` (or any target needing it) creates, so
# `make demo` and `make test` work on a fresh machine with nothing but Python 3.11+ and Go.
BOOTSTRAP_PYTHON ?= python3
VENV ?= .venv
PYTHON ?= $(VENV)/bin/python
DEV_STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
export NSSHUTDOWN_CACHE ?= $(HOME)/.cache/nsshutdown

# Where every external tool comes from (tools/go/build.sh, the venv). Included first: the rules
# below and the areas in mk/*.mk use its variables in their prerequisites.
include mk/tools.mk

LINT_TARGETS := dev lint-python lint-yaml

.DEFAULT_GOAL := help
.PHONY: help dev lint test test-unit test-cli test-static test-integration demo bench docs lint-python lint-yaml clean k8s-bin

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

dev: $(DEV_STAMP) ## create .venv with nsshutdown (editable) and the development tools

$(DEV_STAMP): pyproject.toml
	test -x $(PYTHON) || $(BOOTSTRAP_PYTHON) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# kube-apiserver, etcd and kubectl built from Go modules into $(NSSHUTDOWN_CACHE) (reused when
# present). Without Go the integration tests skip locally; under CI=true they fail instead.
k8s-bin:
	@tools/k8s/build.sh >/dev/null || { [ "$$CI" != true ] && \
	  echo "warning: local kube-apiserver unavailable; integration tests will skip" >&2; }

# The tests run with the project's tools first on PATH (the venv's bin/, as if it were activated,
# and the Go tools' directories), so a test that runs one by name gets the project's own.
test test-unit test-cli test-static test-integration: export PATH := $(abspath $(VENV))/bin:$(shell $(GO_TOOLS_BUILD) --bin-path):$(PATH)

test: dev k8s-bin tools ## every tier but the real node: unit, cli, static, integration
	$(PYTHON) -m pytest $(PYTEST_ARGS)

test-unit: dev ## pure unit tests (tests/unit)
	$(PYTHON) -m pytest tests/unit $(PYTEST_ARGS)

test-cli: dev ## commands and executor against in-memory fakes (tests/cli)
	$(PYTHON) -m pytest tests/cli $(PYTEST_ARGS)

test-static: dev tools ## docs, CI, manifests, monitoring and layer checks (tests/static)
	$(PYTHON) -m pytest tests/static $(PYTEST_ARGS)

test-integration: dev k8s-bin tools ## real kube-apiserver, Pushgateway, promtool (tests/integration)
	$(PYTHON) -m pytest tests/integration $(PYTEST_ARGS)

demo: dev k8s-bin tool-pushgateway ## run the main job end to end on a throwaway local cluster
	$(PYTHON) -m devtools.demo

bench: dev k8s-bin ## benchmark runs over 10,000 workloads on the local API server
	$(PYTHON) -m bench $(BENCH_ARGS)

lint-python: dev
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy

lint-yaml: dev
	$(PYTHON) -m yamllint --strict .

clean: ## remove local build and test leftovers and .venv (never the binary cache)
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis docs/_build $(VENV)

-include $(filter-out mk/tools.mk,$(wildcard mk/*.mk))

lint: $(LINT_TARGETS) ## ruff, mypy --strict, yamllint and every validator
