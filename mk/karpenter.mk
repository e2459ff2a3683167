# Karpenter on the local API server: the demo's nodes, the Karpenter integration tests and the
# savings report (docs/karpenter.md).
#
#   karpenter-bin     build (or reuse) karpenter-kwok and kwok in $(NSSHUTDOWN_CACHE)/karpenter-bin
#   karpenter-report  per scenario: nsshutdown's estimated savings vs. the nodes Karpenter removed
#
# `make test` and `make demo` need the binaries too: the rule below adds karpenter-bin to their
# prerequisites. Without Go the Karpenter tests skip locally and the demo runs without nodes;
# under CI=true a failed build fails the target instead.

.PHONY: karpenter-bin karpenter-report

karpenter-bin: ## build (or reuse) Karpenter's KWOK provider and kwok from Go modules
	@tools/karpenter/build.sh >/dev/null || { [ "$$CI" != true ] && \
	  echo "warning: Karpenter binaries unavailable; the Karpenter tests will skip" >&2; }

test demo: karpenter-bin

karpenter-report: dev k8s-bin karpenter-bin ## nsshutdown's savings estimate held against the nodes Karpenter removes
	$(PYTHON) -m devtools.karpenter.report $(KARPENTER_REPORT_ARGS)
