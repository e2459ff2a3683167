# Monitoring as code: alert rules, Alertmanager routing and Grafana dashboards.
# promtool and amtool are built by tools/go/build.sh (PROMTOOL and AMTOOL name others: mk/tools.mk).

MONITORING_DIR := manifests/monitoring
MONITORING_BUILD := build/monitoring
MONITORING_RULES := $(MONITORING_BUILD)/nsshutdown.rules.yaml
MONITORING_RULE_TESTS := $(wildcard tests/fixtures/monitoring/*.test.yaml)
ALERTMANAGER_CONFIG := $(MONITORING_DIR)/alertmanager/alertmanager.yaml
DASHBOARDS := $(wildcard $(MONITORING_DIR)/dashboards/*.json)

LINT_TARGETS += lint-monitoring

.PHONY: lint-monitoring monitoring-rules monitoring-rule-tests monitoring-alertmanager monitoring-dashboards

lint-monitoring: monitoring-rules monitoring-rule-tests monitoring-alertmanager monitoring-dashboards ## promtool, amtool and dashboard checks

# promtool reads plain rule files, not the PrometheusRule CRD: extract its .spec first.
$(MONITORING_RULES): $(MONITORING_DIR)/prometheusrule.yaml tools/monitoring/extract_rules.py
	$(PYTHON) -m tools.monitoring.extract_rules $< -o $@

monitoring-rules: $(MONITORING_RULES) $(call go_tool_dep,PROMTOOL,promtool) ## promtool check rules + naming/annotation/runbook/metric policy
	$(PROMTOOL) check rules $(MONITORING_RULES)
	$(PYTHON) -m tools.monitoring.check_rules $(MONITORING_RULES) --tests $(MONITORING_RULE_TESTS)

# The tests name their rule file relative to themselves: run them next to the extracted rules.
monitoring-rule-tests: $(MONITORING_RULES) $(call go_tool_dep,PROMTOOL,promtool) ## promtool test rules
	cp $(MONITORING_RULE_TESTS) $(MONITORING_BUILD)/
	$(PROMTOOL) test rules $(addprefix $(MONITORING_BUILD)/,$(notdir $(MONITORING_RULE_TESTS)))

monitoring-alertmanager: $(call go_tool_dep,AMTOOL,amtool) ## amtool check-config + routing of a critical, a warning and an info alert
	$(AMTOOL) check-config $(ALERTMANAGER_CONFIG)
	$(AMTOOL) config routes test --config.file=$(ALERTMANAGER_CONFIG) --verify.receivers=pager,chat,email \
		severity=critical alertname=NsShutdownRestoreLate namespace=dev-a job=nsshutdown
	$(AMTOOL) config routes test --config.file=$(ALERTMANAGER_CONFIG) --verify.receivers=chat,email \
		severity=warning alertname=NsShutdownRunErrors job=nsshutdown
	$(AMTOOL) config routes test --config.file=$(ALERTMANAGER_CONFIG) --verify.receivers=null \
		severity=info alertname=NsShutdownDryRun job=nsshutdown

monitoring-dashboards: $(MONITORING_RULES) $(call go_tool_dep,PROMTOOL,promtool) ## dashboard JSON, uids, ${datasource}, PromQL parse + metrics
	$(PYTHON) -m tools.monitoring.check_dashboards --promtool $(PROMTOOL) --rules $(MONITORING_RULES) $(DASHBOARDS)
