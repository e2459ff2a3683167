# CI/CD: workflow and CloudFormation linters (included by the Makefile).
#
#   lint-workflows  actionlint (with shellcheck on run: scripts when installed) and
#                   zizmor --offline on .github/
#   lint-cfn        cfn-lint on deploy/aws/*.yaml
#   actionlint      build or reuse actionlint in $(NSSHUTDOWN_CACHE)/bin
#
# The inputs are variables so the tests can point the very same targets at known-bad files.

LINT_TARGETS += lint-workflows lint-cfn

ACTIONLINT_CACHED := $(NSSHUTDOWN_CACHE)/bin/actionlint
# Another binary may be named (ACTIONLINT=/path); only the cached one is built on demand.
ACTIONLINT ?= $(ACTIONLINT_CACHED)
# Empty: actionlint finds .github/workflows itself.
ACTIONLINT_FILES ?=
ZIZMOR_INPUTS ?= .github
# zizmor's "pedantic" persona reports code smells too, not only likely vulnerabilities.
ZIZMOR_PERSONA ?= pedantic
CFN_TEMPLATES ?= $(wildcard deploy/aws/*.yaml)
# zizmor and cfn-lint ship console scripts only (no `python -m`): take the ones installed for
# $(PYTHON), whether or not its virtualenv is activated.
PYTHON_SCRIPTS ?= $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("scripts"))')

.PHONY: actionlint lint-workflows lint-cfn

actionlint: ## build (or reuse) actionlint from the Go module proxy
	@tools/ci/install-actionlint.sh >/dev/null

lint-workflows: $(if $(filter $(ACTIONLINT_CACHED),$(ACTIONLINT)),actionlint) ## actionlint and zizmor on the GitHub Actions workflows
	@command -v shellcheck >/dev/null || echo "lint-workflows: shellcheck not on PATH:" \
		"actionlint skips run: scripts (apt-get install shellcheck)" >&2
	$(ACTIONLINT) $(ACTIONLINT_FILES)
	$(PYTHON_SCRIPTS)/zizmor --offline --persona=$(ZIZMOR_PERSONA) --no-progress $(ZIZMOR_INPUTS)

lint-cfn: ## cfn-lint on the CloudFormation templates
	$(PYTHON_SCRIPTS)/cfn-lint $(CFN_TEMPLATES)
