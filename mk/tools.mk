# The external tools that `make lint`, `make test` and `make demo` run. Every one comes from the
# project's own install steps, none from the system PATH, so a fresh machine with only Python 3.11+
# and Go gets exactly the versions that CI proves:
#
#   Go tools      Pushgateway, promtool, amtool, Alertmanager, actionlint, Helm: wrapper modules in
#                 tools/go/<module>/ built by tools/go/build.sh into versioned directories of
#                 $(NSSHUTDOWN_CACHE)/bin, reused while go.mod and go.sum are unchanged
#   venv tools    hadolint and shellcheck (Haskell programs): wheels of the dev extras, in the
#                 scripts directory of $(PYTHON)
#
#   make tools            build (or reuse) every Go tool
#   make tool-promtool    only the module that holds promtool (any name of `tools/go/build.sh --list`)
#
# Each tool variable may be overridden (make lint-monitoring PROMTOOL=/opt/bin/promtool); a target
# then builds nothing for it. The Python side (tests, demo) finds the same paths through
# devtools/tools.py, with the same variables as overrides.

.PHONY: tools

GO_TOOLS_BUILD := tools/go/build.sh
# The path a Go tool has for this checkout's go.mod/go.sum. Recursive: expanded only in recipes,
# after the tool-% prerequisite has built it.
go_tool_path = $(shell $(GO_TOOLS_BUILD) --print-path $(1))
# The tool-% target to depend on, unless the variable was set outside the makefiles.
go_tool_dep = $(if $(filter file,$(origin $(1))),tool-$(2))

PROMTOOL ?= $(call go_tool_path,promtool)
AMTOOL ?= $(call go_tool_path,amtool)
ACTIONLINT ?= $(call go_tool_path,actionlint)
HELM ?= $(call go_tool_path,helm)

# zizmor, cfn-lint, hadolint and shellcheck ship console scripts only (no `python -m`): take the
# ones installed for $(PYTHON), whether or not its virtualenv is activated.
PYTHON_SCRIPTS ?= $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
HADOLINT ?= $(PYTHON_SCRIPTS)/hadolint
SHELLCHECK ?= $(PYTHON_SCRIPTS)/shellcheck

tools: ## build (or reuse) the Go tools: Pushgateway, promtool, amtool, Alertmanager, actionlint, Helm
	@$(GO_TOOLS_BUILD)

tool-%:
	@$(GO_TOOLS_BUILD) $*
