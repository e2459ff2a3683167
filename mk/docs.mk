# Documentation: the Sphinx site in docs/ (MyST markdown). Warnings are errors, so a reference that
# cannot be generated, a broken link or a missing runbook fails the build.

SPHINXOPTS ?=
DOCS_OUT ?= docs/_build/html

.PHONY: docs-html docs-clean

docs: docs-html ## build the documentation site into docs/_build/html (warnings are errors)

docs-html: dev
	$(PYTHON) -m sphinx -W --keep-going -b html $(SPHINXOPTS) docs $(DOCS_OUT)

docs-clean: ## remove the built documentation
	rm -rf docs/_build
