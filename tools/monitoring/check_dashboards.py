"""Offline checks of the Grafana dashboards in manifests/monitoring/dashboards/.

- valid JSON; ``id`` null; a stable ``uid`` unique across dashboards; the pinned ``schemaVersion``;
- a ``datasource`` template variable of type datasource (prometheus), and every panel, target and
  query variable uses it as ``${datasource}``: no datasource uid is hard-coded anywhere;
- every PromQL expression parses (promtool, after substituting Grafana's variables) and selects
  only metrics nsshutdown emits (nsshutdown.observe.metrics.METRICS), the rules record, or a listed
  built-in.

Usage: python -m tools.monitoring.check_dashboards --rules RULES_FILE DASHBOARD.json...
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devtools.tools import ToolNotFoundError, find_tool
from tools.monitoring import promql
from tools.monitoring.catalog import (
    METRICS_MODULE,
    Catalog,
    MetricsModuleError,
    emitted_metrics,
    recorded_metrics,
)

SCHEMA_VERSION = 39
DATASOURCE_REF = {"type": "prometheus", "uid": "${datasource}"}
UID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(frozen=True)
class Expression:
    where: str  # "<file>: panel 'Title' target A" - for messages
    promql: str  # with Grafana variables substituted


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # collapsed rows hold their panels


def _datasource_refs(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every value stored under a ``datasource`` key, anywhere in the dashboard."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield f"{path}.{key}", value
            yield from _datasource_refs(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _datasource_refs(value, f"{path}[{index}]")


def _dashboard_problems(dashboard: Mapping[str, Any]) -> list[str]:
    problems = []
    if "id" not in dashboard or dashboard["id"] is not None:
        problems.append("`id` must be null (Grafana assigns it)")
    if not UID.match(str(dashboard.get("uid", ""))):
        problems.append(f"uid {dashboard.get('uid')!r} is not a stable lowercase slug")
    if dashboard.get("schemaVersion") != SCHEMA_VERSION:
        problems.append(f"schemaVersion {dashboard.get('schemaVersion')!r} != {SCHEMA_VERSION}")
    variables = dashboard.get("templating", {}).get("list", [])
    wanted = {"name": "datasource", "type": "datasource", "query": "prometheus"}
    if not any(all(v.get(k) == want for k, want in wanted.items()) for v in variables):
        problems.append("no `datasource` template variable of type datasource (query: prometheus)")
    for path, value in _datasource_refs(dashboard):
        if value not in (DATASOURCE_REF, "${datasource}"):
            problems.append(f"{path} is {value!r}, not {DATASOURCE_REF}")
    ids = [p.get("id") for p in _panels(dashboard.get("panels", []))]
    if len(ids) != len(set(ids)):
        problems.append("panel ids are not unique")
    return problems


def _panel_problems(panel: Mapping[str, Any]) -> list[str]:
    title = panel.get("title", "?")
    problems = [] if "gridPos" in panel else [f"panel {title!r} has no gridPos"]
    if panel.get("type") == "row":
        return problems
    if panel.get("datasource") != DATASOURCE_REF:
        problems.append(f"panel {title!r} does not use ${{datasource}}")
    targets = panel.get("targets", [])
    if not targets:
        problems.append(f"panel {title!r} has no query")
    for target in targets:
        where = f"panel {title!r} target {target.get('refId')}"
        if target.get("datasource") != DATASOURCE_REF:
            problems.append(f"{where} does not use ${{datasource}}")
        if not str(target.get("expr", "")).strip():
            problems.append(f"{where} has no expr")
    return problems


def structure_problems(dashboard: Mapping[str, Any]) -> list[str]:
    problems = _dashboard_problems(dashboard)
    for panel in _panels(dashboard.get("panels", [])):
        problems += _panel_problems(panel)
    return problems


def expressions(dashboard: Mapping[str, Any], source: str) -> list[Expression]:
    found = []
    for panel in _panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            if str(target.get("expr", "")).strip():
                where = f"{source}: panel {panel.get('title')!r} target {target.get('refId')}"
                found.append(Expression(where, promql.substitute_grafana_variables(target["expr"])))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else str(query or "")
        expr = promql.template_query_expr(text)
        if expr:
            where = f"{source}: variable {variable.get('name')!r}"
            found.append(Expression(where, promql.substitute_grafana_variables(expr)))
    return found


def promtool_problems(exprs: list[Expression], promtool: str) -> list[str]:
    """Parse every expression with promtool, as recording rules in a throwaway rule file."""
    if not exprs:
        return []
    rules = [{"record": f"dashboard_check:expr_{n}", "expr": e.promql} for n, e in enumerate(exprs)]
    with tempfile.TemporaryDirectory(prefix="nsshutdown-dashboards-") as tmp:
        path = Path(tmp) / "dashboard-exprs.rules.yaml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
        proc = subprocess.run(
            [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
        )
    if proc.returncode == 0:
        return []
    output = proc.stdout + proc.stderr
    failing = sorted({int(n) for n in re.findall(r"dashboard_check:expr_(\d+)", output)})
    problems = [f"{exprs[n].where}: promtool cannot parse {exprs[n].promql!r}" for n in failing]
    return problems or [f"promtool check rules failed: {output.strip()}"]


def check(paths: list[Path], *, catalog: Catalog, promtool: str) -> list[str]:
    problems: list[str] = []
    exprs: list[Expression] = []
    uids: dict[str, Path] = {}
    for path in paths:
        try:
            dashboard = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            problems.append(f"{path}: not valid JSON: {err}")
            continue
        problems += [f"{path}: {p}" for p in structure_problems(dashboard)]
        uid = str(dashboard.get("uid"))
        if uid in uids:
            problems.append(f"{path}: uid {uid!r} is also used by {uids[uid]}")
        uids[uid] = path
        for expr in expressions(dashboard, str(path)):
            exprs.append(expr)
            problems += [f"{expr.where}: {p}" for p in catalog.problems(expr.promql)]
    return problems + promtool_problems(exprs, promtool)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dashboards", type=Path, nargs="+")
    parser.add_argument(
        "--rules", type=Path, required=True, help="plain rule file (recorded names)"
    )
    parser.add_argument(
        "--promtool", help="promtool to run (default: $PROMTOOL, else the one `make tools` builds)"
    )
    parser.add_argument(
        "--metrics-module",
        default=METRICS_MODULE,
        help="module whose METRICS lists emitted metrics",
    )
    args = parser.parse_args(argv)
    groups = yaml.safe_load(args.rules.read_text(encoding="utf-8"))["groups"]
    try:
        catalog = Catalog(
            emitted=emitted_metrics(args.metrics_module), recorded=recorded_metrics(groups)
        )
    except MetricsModuleError as err:
        sys.stderr.write(f"{err}\n")
        return 2
    try:
        promtool = args.promtool or str(find_tool("promtool"))
    except ToolNotFoundError as err:
        sys.stderr.write(f"{err}\n")
        return 2
    problems = check(args.dashboards, catalog=catalog, promtool=promtool)
    for problem in problems:
        sys.stderr.write(f"{problem}\n")
    if not problems:
        sys.stdout.write(f"{len(args.dashboards)} dashboards OK\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
