# The Helm chart (charts/nsshutdown), checked like the kustomize manifests (included by the Makefile).
#
#   make lint-helm         helm lint --strict, then each value set's `helm template` through the
#                          validators of lint-manifests: kubernetes-validate --strict and checkov
#   make render-helm       only render (into build/helm/)
#   make sync-helm-files   copy the files the chart reads into charts/nsshutdown/files/ again
#
# Helm is built by tools/go/build.sh (HELM names another: mk/tools.mk). Helm cannot read files
# outside its chart, so the chart holds copies of manifests/base/schedule.yaml and of the
# monitoring rules and dashboards; tests/static/test_helm_chart.py fails when a copy differs.

LINT_TARGETS += lint-helm
.PHONY: lint-helm render-helm sync-helm-files

CHART := charts/nsshutdown
HELM_RENDER_DIR := build/helm
# The namespace manifests/base installs into.
HELM_NAMESPACE := nsshutdown
# Without a cluster Helm assumes the Kubernetes version of its client-go (see tools/go/helm): each
# command names the versions the manifests support instead (the oldest and the one the
# integration tests run; see mk/manifests.mk), so the checks do not move with Helm.
HELM_KUBE_VERSIONS ?= 1.29.0 1.34.0

# The value sets rendered and validated, each the counterpart of a kustomization:
#   default     manifests/base
#   namespaced  manifests/overlays/namespaced (RoleBindings per namespace, --scope-namespaces)
#   observe     manifests/base + components/observe (--dry-run)
#   monitoring  manifests/base + manifests/monitoring
#   custom      every other value changed at once
HELM_VALUE_SETS := default namespaced observe monitoring custom
HELM_SET_default :=
HELM_SET_namespaced := --set 'scope.namespaces={team-a,team-b}' --set 'apiServer.cidrs={10.30.0.0/16}' \
	--set-file schedule=manifests/overlays/namespaced/schedule.yaml
HELM_SET_observe := --set dryRun=true
HELM_SET_monitoring := --set monitoring.enabled=true
HELM_SET_custom := --set image.digest=sha256:$(shell printf '%064d' 0) --set cronjob.schedule='*/10 * * * *' \
	--set pushgateway.url= --set resources.limits.memory=1Gi --set namespace.create=false \
	--set 'extraArgs={--log-level=debug}' --set 'extraEnv[0].name=NSSHUTDOWN_EVENTS' \
	--set-string 'extraEnv[0].value=false'
# kubernetes-validate has no schema for the prometheus-operator kinds (it would only warn): the
# monitoring set is schema-checked without them. Their content is compared with manifests/monitoring
# by tests/static/test_helm_chart.py and applied with their CRDs by tests/integration/test_helm.py.
HELM_VALIDATE_monitoring := --set monitoring.serviceMonitor.enabled=false \
	--set monitoring.prometheusRule.enabled=false

HELM_FILES := $(CHART)/files
sync-helm-files: ## copy manifests/base/schedule.yaml and the monitoring rules and dashboards into the chart
	cp manifests/base/schedule.yaml $(HELM_FILES)/schedule.yaml
	cp manifests/monitoring/prometheusrule.yaml $(HELM_FILES)/monitoring/prometheusrule.yaml
	rm -f $(HELM_FILES)/monitoring/dashboards/*.json
	cp manifests/monitoring/dashboards/*.json $(HELM_FILES)/monitoring/dashboards/

HELM_TEMPLATE_FLAGS = --namespace $(HELM_NAMESPACE) --kube-version $(lastword $(HELM_KUBE_VERSIONS))

render-helm: $(call go_tool_dep,HELM,helm) ## helm template of each value set (into build/helm/)
	@mkdir -p $(HELM_RENDER_DIR)
	@set -e; $(foreach set,$(HELM_VALUE_SETS), \
	    echo "helm template $(CHART) ($(set)) -> $(HELM_RENDER_DIR)/$(set).yaml"; \
	    $(HELM) template nsshutdown $(CHART) $(HELM_TEMPLATE_FLAGS) $(HELM_SET_$(set)) \
	        > $(HELM_RENDER_DIR)/$(set).yaml;)
	@$(HELM) template nsshutdown $(CHART) $(HELM_TEMPLATE_FLAGS) $(HELM_SET_monitoring) \
	    $(HELM_VALIDATE_monitoring) > $(HELM_RENDER_DIR)/monitoring-builtin.validate

# The same checks as lint-manifests (mk/manifests.mk): a kubernetes-validate WARN means a kind or
# apiVersion it does not know, which fails here too.
lint-helm: render-helm ## helm lint --strict, kubernetes-validate --strict and checkov on the chart
	@set -e; $(foreach version,$(HELM_KUBE_VERSIONS),$(foreach set,$(HELM_VALUE_SETS), \
	    echo "helm lint --strict --kube-version $(version) ($(set))"; \
	    $(HELM) lint --strict --quiet --kube-version $(version) $(CHART) $(HELM_SET_$(set));))
	@set -e; for out in $(filter-out %/monitoring.yaml,$(HELM_VALUE_SETS:%=$(HELM_RENDER_DIR)/%.yaml)) \
	        $(HELM_RENDER_DIR)/monitoring-builtin.validate; do \
	    for version in $(KUBE_VALIDATE_VERSIONS); do \
	        echo "kubernetes-validate --strict -k $$version $$out"; \
	        log=$$($(KUBERNETES_VALIDATE) --strict --quiet -k $$version $$out) || { echo "$$log"; exit 1; }; \
	        if printf '%s\n' "$$log" | grep -q .; then echo "$$log"; exit 1; fi; \
	    done; \
	done
	@test -x "$(CHECKOV)" || $(MAKE) --no-print-directory "$(CHECKOV)"
	$(CHECKOV) $(CHECKOV_FLAGS) --framework kubernetes -d $(HELM_RENDER_DIR)
