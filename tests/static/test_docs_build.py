"""``make docs`` builds the site with no warning, and the built pages hold every generated entry.

Slow (a full Sphinx build, about half a minute): marked ``slow``, run by ``make test``.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

from nsshutdown_docs import (  # noqa: E402 - the docs extension lives under docs/_ext
    alerts_reference,
    cli_reference,
    examples_reference,
    metrics_reference,
    schedule_reference,
)

pytestmark = pytest.mark.slow


def test_make_docs_treats_warnings_as_errors() -> None:
    result = subprocess.run(
        ["make", "-n", "docs"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    command = next(line for line in result.stdout.splitlines() if "sphinx" in line)
    assert " -W " in command
    assert "--keep-going" in command
    assert "-b html" in command


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "docs",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"the docs build failed:\n{result.stderr}\n{result.stdout}"
    assert not result.stderr.strip(), f"the docs build printed warnings:\n{result.stderr}"
    return out


def _text(page: Path) -> str:
    """The visible text of a built page, whitespace collapsed."""
    source = page.read_text(encoding="utf-8")
    source = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", source)).split())


def test_every_command_and_option_is_in_the_built_cli_reference(site: Path) -> None:
    text = _text(site / "reference" / "cli.html")
    missing = []
    for command in cli_reference.collect().walk():
        if command.name not in text:
            missing.append(command.name)
        for param in command.params:
            names = (*param.opts, *param.secondary_opts) if param.kind == "option" else ()
            missing += [f"{command.name} {name}" for name in names if name not in text]
            missing += [f"{command.name} {env}" for env in param.envvars if env not in text]
    assert not missing


def test_every_schedule_field_is_in_the_built_schedule_reference(site: Path) -> None:
    text = _text(site / "reference" / "schedule.html")
    models = schedule_reference.collect()
    missing = [f.key for m in models for f in m.fields if f.key not in text]
    missing += [m.path for m in models if m.path and m.path not in text]
    assert not missing


def test_every_metric_is_in_the_built_metrics_reference(site: Path) -> None:
    text = _text(site / "reference" / "metrics.html")
    assert not [m.name for m in metrics_reference.collect() if m.name not in text]


def test_every_alert_is_listed_and_its_runbook_built(site: Path) -> None:
    text = _text(site / "observability.html")
    built = {p.relative_to(site).with_suffix("").as_posix() for p in site.rglob("*.html")}
    for alert in alerts_reference.collect(ROOT):
        assert alert.name in text
        doc = alerts_reference.runbook_doc(alert, built)
        assert doc is not None, f"no built runbook page for {alert.name}"


def test_every_example_is_in_the_built_templates_page(site: Path) -> None:
    text = _text(site / "examples.html")
    for path in examples_reference.collect(ROOT):
        assert path.relative_to(ROOT).as_posix() in text


def test_the_architecture_diagram_is_shipped(site: Path) -> None:
    page = (site / "architecture.html").read_text(encoding="utf-8")
    [src] = re.findall(r'<img [^>]*src="([^"]*architecture\.svg)"', page)
    assert (site / src).is_file()


def test_the_python_api_is_documented(site: Path) -> None:
    text = _text(site / "reference" / "api.html")
    for name in (
        "nsshutdown.plan.planner.plan",
        "nsshutdown.schedule.config.load_schedule_text",
        "ExitCode",
    ):
        assert name.rsplit(".", 1)[-1] in text, name
