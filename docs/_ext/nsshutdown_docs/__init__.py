"""Sphinx extension: reference pages generated from the code, so they cannot drift from it.

Directives (each takes an optional ``:heading-level:``, default 2):

``nsshutdown-cli-reference``
    every command, argument and option of the Typer app, with defaults and environment variables;
``nsshutdown-schedule-reference``
    every field of the schedule's pydantic models, with key, type, default and description;
``nsshutdown-metrics-reference``
    every metric declared in ``nsshutdown.observe.metrics.METRICS``;
``nsshutdown-alerts``
    every alert of the PrometheusRule manifests, linked to its runbook;
``nsshutdown-examples``
    every file in ``examples/``, included verbatim;
``nsshutdown-kinds``
    every kind of the kind registry: API, what down means, where the saved value goes;
``nsshutdown-rbac PATH...``
    the rules of the Role and ClusterRole manifests at PATH (from the repository root), each with
    the comment that explains it.

A generator whose source is missing stops the build with an ``ExtensionError``: a reference page is
never silently empty.

Folder index pages written by hand (``nsshutdown_folder_indexes`` in ``conf.py``, e.g. the runbooks'
``index.md``) that have no toctree of their own get a hidden one listing their folder, so a new page
dropped into the folder is part of the site without anyone editing a toctree.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

from nsshutdown_docs import (
    alerts_reference,
    cli_reference,
    examples_reference,
    kinds_reference,
    metrics_reference,
    rbac_reference,
    schedule_reference,
)

#: The repository root (``docs/..``).
ROOT = Path(__file__).resolve().parents[3]


class GeneratedDirective(SphinxDirective):
    """Renders MyST produced by ``generate`` in place, headings included."""

    has_content = False
    optional_arguments = 0
    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {
        "heading-level": directives.positive_int
    }
    what = "reference"

    def generate(self, level: int) -> list[str]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        for path in sorted((ROOT / "nsshutdown").rglob("*.py")):
            self.env.note_dependency(str(path))
        try:
            lines = self.generate(self.options.get("heading-level", 2))
        except ImportError as err:
            raise ExtensionError(f"cannot generate the {self.what}: {err}") from err
        container = nodes.section()
        container.document = self.state.document
        self.state.nested_parse(StringList(lines), 0, container, match_titles=True)
        return container.children


class CliReference(GeneratedDirective):
    what = "CLI reference"

    def generate(self, level: int) -> list[str]:
        return cli_reference.render(cli_reference.collect(), level=level)


class ScheduleReference(GeneratedDirective):
    what = "schedule reference"

    def generate(self, level: int) -> list[str]:
        models = schedule_reference.collect()
        for problem in schedule_reference.problems(models):
            self.reporter.warning(problem, line=self.lineno)  # -W turns these into failures
        return schedule_reference.render(models, level=level)


class MetricsReference(GeneratedDirective):
    what = "metrics reference"

    def generate(self, level: int) -> list[str]:
        return metrics_reference.render(metrics_reference.collect(), level=level)


class AlertsReference(GeneratedDirective):
    what = "alerts reference"

    def generate(self, level: int) -> list[str]:
        alerts = alerts_reference.collect(ROOT)
        if not alerts:
            raise ExtensionError(f"no alert found in {alerts_reference.MONITORING_DIR}")
        for alert in alerts:
            self.env.note_dependency(str(alert.source))
        found = {doc for doc in self.env.found_docs if doc.startswith("runbooks/")}
        for problem in alerts_reference.problems(alerts, found):
            self.reporter.warning(problem, line=self.lineno)
        return alerts_reference.render(alerts, found_docs=found, level=level)


class ExamplesReference(GeneratedDirective):
    what = "configuration templates"

    def generate(self, level: int) -> list[str]:
        files = examples_reference.collect(ROOT)
        if not files:
            raise ExtensionError(f"no file found in {examples_reference.EXAMPLES_DIR}")
        for path in files:
            self.env.note_dependency(str(path))
        return examples_reference.render(files, root=ROOT, level=level)


class KindsReference(GeneratedDirective):
    what = "kinds table"

    def generate(self, level: int) -> list[str]:
        del level  # a table, no headings
        return kinds_reference.render(kinds_reference.collect())


class RbacReference(GeneratedDirective):
    what = "RBAC reference"
    required_arguments = 1
    final_argument_whitespace = True

    def generate(self, level: int) -> list[str]:
        paths = self.arguments[0].split()
        for path in paths:
            if not (ROOT / path).is_file():
                raise ExtensionError(f"{self.what}: no such manifest {path}")
            self.env.note_dependency(str(ROOT / path))
        return rbac_reference.render(rbac_reference.collect(ROOT, paths), level=level)


def _always_regenerate(
    app: Sphinx, env: Any, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Pages with a generated reference are re-read on every build: their sources are outside docs/
    (a new file in examples/ or a new alert changes them without touching any noted dependency)."""
    del app, added, changed, removed
    pages = []
    for docname in env.found_docs:
        source = Path(env.doc2path(docname))
        if source.is_file() and "{nsshutdown-" in source.read_text(encoding="utf-8"):
            pages.append(docname)
    return pages


def _folder_toctree(app: Sphinx, docname: str, source: list[str]) -> None:
    if docname in app.config.nsshutdown_folder_indexes and "{toctree}" not in source[0]:
        source[0] += "\n\n```{toctree}\n:hidden:\n:glob:\n\n*\n```\n"


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("nsshutdown_folder_indexes", [], "env", types=[list])
    app.connect("source-read", _folder_toctree)
    app.connect("env-get-outdated", _always_regenerate)
    app.add_directive("nsshutdown-cli-reference", CliReference)
    app.add_directive("nsshutdown-schedule-reference", ScheduleReference)
    app.add_directive("nsshutdown-metrics-reference", MetricsReference)
    app.add_directive("nsshutdown-alerts", AlertsReference)
    app.add_directive("nsshutdown-examples", ExamplesReference)
    app.add_directive("nsshutdown-kinds", KindsReference)
    app.add_directive("nsshutdown-rbac", RbacReference)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
