"""Policy checks on the alerting and recording rules that promtool does not make.

- every alert: ``NsShutdown<CamelCase>`` name, a ``for:``, ``severity`` critical|warning|info,
  ``summary``, a templated ``description`` and a ``runbook_url`` whose page exists in
  docs/runbooks/ (and is listed in its index.md);
- every expression selects only metrics nsshutdown emits (nsshutdown.observe.metrics.METRICS),
  records, or an explicitly listed built-in, with labels those metrics have;
- every alert has a promtool test case where it fires and one where it does not.

Usage: python -m tools.monitoring.check_rules RULES_FILE [--tests TEST_FILE...] [--runbooks DIR]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from tools.monitoring.catalog import (
    METRICS_MODULE,
    Catalog,
    MetricsModuleError,
    emitted_metrics,
    recorded_metrics,
)

RUNBOOK_BASE = "https://github.com/nsshutdown/nsshutdown/blob/main/docs/runbooks/"
SEVERITIES = frozenset({"critical", "warning", "info"})
ALERT_NAME = re.compile(r"^NsShutdown(?:[A-Z][a-z0-9]+)+$")
REPO_ROOT = Path(__file__).resolve().parents[2]


def alerts(groups: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def alert_problems(rule: Mapping[str, Any], runbooks: Path) -> list[str]:
    name = str(rule["alert"])
    labels = rule.get("labels") or {}
    annotations = rule.get("annotations") or {}
    problems = []
    if not ALERT_NAME.match(name):
        problems.append("name is not NsShutdown followed by CamelCase words")
    if "for" not in rule:
        problems.append("has no `for:` (one bad run would page)")
    if labels.get("severity") not in SEVERITIES:
        problems.append(f"severity {labels.get('severity')!r} is not one of {sorted(SEVERITIES)}")
    if not str(annotations.get("summary", "")).strip():
        problems.append("has no summary annotation")
    if "{{" not in str(annotations.get("description", "")):
        problems.append("description is missing or not templated")
    url = str(annotations.get("runbook_url", ""))
    if url != f"{RUNBOOK_BASE}{name}.md":
        problems.append(f"runbook_url {url!r} is not {RUNBOOK_BASE}{name}.md")
    elif not (runbooks / f"{name}.md").is_file():
        problems.append(f"runbook {runbooks / (name + '.md')} does not exist")
    return [f"alert {name}: {problem}" for problem in problems]


def runbook_index_problems(names: set[str], runbooks: Path) -> list[str]:
    index = runbooks / "index.md"
    if not index.is_file():
        return [f"{index} does not exist"]
    text = index.read_text(encoding="utf-8")
    problems = [
        f"{index} does not link {name}.md" for name in sorted(names) if f"({name}.md)" not in text
    ]
    pages = {path.stem for path in runbooks.glob("*.md")} - {"index"}
    problems += [f"runbook {page}.md has no alert" for page in sorted(pages - names)]
    return problems


def reference_problems(groups: Iterable[Mapping[str, Any]], catalog: Catalog) -> list[str]:
    problems = []
    for group in groups:
        for rule in group["rules"]:
            name = rule.get("alert") or rule.get("record")
            problems += [f"rule {name}: {p}" for p in catalog.problems(str(rule["expr"]))]
    return problems


def coverage_problems(names: set[str], test_files: Iterable[Path]) -> list[str]:
    """Each alert needs a test case expecting it to fire and one expecting silence."""
    firing: set[str] = set()
    silent: set[str] = set()
    for path in test_files:
        for test in yaml.safe_load(path.read_text(encoding="utf-8")).get("tests", []):
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else silent).add(case["alertname"])
    problems = [f"alert {n}: no promtool test case where it fires" for n in sorted(names - firing)]
    problems += [
        f"alert {n}: no promtool test case where it stays silent" for n in sorted(names - silent)
    ]
    return problems


def check(
    groups: list[Mapping[str, Any]],
    *,
    emitted: Mapping[str, frozenset[str]],
    runbooks: Path,
    test_files: Iterable[Path] = (),
) -> list[str]:
    catalog = Catalog(emitted=emitted, recorded=recorded_metrics(groups))
    names = {str(rule["alert"]) for rule in alerts(groups)}
    problems = [p for rule in alerts(groups) for p in alert_problems(rule, runbooks)]
    problems += runbook_index_problems(names, runbooks)
    problems += reference_problems(groups, catalog)
    test_files = list(test_files)
    if test_files:
        problems += coverage_problems(names, test_files)
    return list(dict.fromkeys(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rules", type=Path, help="plain rule file (see extract_rules)")
    parser.add_argument("--tests", type=Path, nargs="*", default=[], help="promtool test files")
    parser.add_argument("--runbooks", type=Path, default=REPO_ROOT / "docs" / "runbooks")
    parser.add_argument(
        "--metrics-module",
        default=METRICS_MODULE,
        help="module whose METRICS lists emitted metrics",
    )
    args = parser.parse_args(argv)
    groups = yaml.safe_load(args.rules.read_text(encoding="utf-8"))["groups"]
    try:
        emitted = emitted_metrics(args.metrics_module)
    except MetricsModuleError as err:
        sys.stderr.write(f"{err}\n")
        return 2
    problems = check(groups, emitted=emitted, runbooks=args.runbooks, test_files=args.tests)
    for problem in problems:
        sys.stderr.write(f"{args.rules}: {problem}\n")
    if not problems:
        sys.stdout.write(f"{args.rules}: {len(alerts(groups))} alerting rules follow the policy\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
