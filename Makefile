# One entry point for people and CI. `make help` lists the targets.
# Each area adds its own lint and tool targets in mk/*.mk (LINT_TARGETS += ...).

PYTHON ?= python3
PYTEST_ARGS ?=
export NSSHUTDOWN_CACHE ?= $(HOME)/.cache/nsshutdown

LINT_TARGETS := lint-python lint-yaml

.DEFAULT_GOAL := help
.PHONY: help dev lint test test-unit demo bench docs lint-python lint-yaml clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

dev: ## install nsshutdown and the development tools into the current Python
	$(PYTHON) -m pip install -e '.[dev]'

test: ## all three test tiers (integration tests build/reuse the local API server)
	$(PYTHON) -m pytest $(PYTEST_ARGS)

test-unit: ## only the tests that need no external process
	$(PYTHON) -m pytest -m 'not integration' $(PYTEST_ARGS)

demo: ## run the main job end to end on a throwaway local cluster
	$(PYTHON) -m devtools.demo

bench: ## benchmark a run over many workloads on the local API server
	$(PYTHON) -m bench

lint-python:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy

lint-yaml:
	$(PYTHON) -m yamllint --strict .

clean: ## remove local build and test leftovers (never the binary cache)
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis docs/_build

-include mk/*.mk

lint: $(LINT_TARGETS) ## ruff, mypy --strict, yamllint and every validator
