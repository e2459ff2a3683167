"""The CI linters are really wired: each fails on a known-bad file and passes on ours.

actionlint, zizmor and cfn-lint run through the same make targets as `make lint`
(mk/ci.mk), pointed at tests/fixtures/ci/ for the failures; hadolint runs directly. A missing
tool skips its tests on a developer machine and fails them when CI=true, so CI cannot go green
by not linting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from devtools import tools

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "ci"
BAD_WORKFLOWS = FIXTURES / "workflows"
HINTS = {
    "zizmor": "make dev (zizmor is a dev dependency)",
    "cfn-lint": "make dev (cfn-lint is a dev dependency)",
}


def _missing(tool: str) -> None:
    reason = f"{tool} is not installed: {HINTS[tool]}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the linter tests must run)", pytrace=False)
    pytest.skip(reason)


def _find(tool: str) -> str:
    """actionlint, hadolint and shellcheck where the project installs them (devtools.tools); the
    other linters' console scripts next to this interpreter."""
    if tool in tools.OVERRIDES:
        try:
            return str(tools.find_tool(tool))
        except tools.ToolNotFoundError as err:
            HINTS[tool] = str(err)
    else:
        script = Path(sysconfig.get_path("scripts")) / tool
        if script.is_file() and os.access(script, os.X_OK):
            return str(script)
    _missing(tool)
    raise AssertionError("unreachable")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def _make(target: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """`make TARGET` with this interpreter's tools, so a missing tool is never built here."""
    variables = {"PYTHON": sys.executable, "ACTIONLINT": _find("actionlint"), **variables}
    assignments = [f"{name}={value}" for name, value in variables.items()]
    return _run("make", "--no-print-directory", target, *assignments)


def _report(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def actionlint() -> str:
    return _find("actionlint")


@pytest.fixture(scope="module")
def zizmor() -> str:
    return _find("zizmor")


@pytest.fixture(scope="module")
def cfn_lint() -> str:
    return _find("cfn-lint")


# --- actionlint ---------------------------------------------------------------------------


def test_actionlint_rejects_a_broken_workflow(actionlint: str) -> None:
    result = _run(actionlint, "-format", "{{json .}}", str(BAD_WORKFLOWS / "actionlint-bad.yml"))
    assert result.returncode == 1, _report(result)
    kinds = {error["kind"] for error in json.loads(result.stdout)}
    assert {"syntax-check", "expression"} <= kinds


def test_actionlint_runs_shellcheck_on_run_scripts(actionlint: str) -> None:
    shellcheck = f"-shellcheck={_find('shellcheck')}"
    bad = str(BAD_WORKFLOWS / "shellcheck-bad.yml")
    result = _run(actionlint, shellcheck, "-format", "{{json .}}", bad)
    assert result.returncode == 1, _report(result)
    (error,) = json.loads(result.stdout)
    assert error["kind"] == "shellcheck"
    assert "SC2086" in error["message"]


def test_lint_workflows_target_fails_on_a_broken_workflow(actionlint: str, zizmor: str) -> None:
    result = _make("lint-workflows", ACTIONLINT_FILES=str(BAD_WORKFLOWS / "actionlint-bad.yml"))
    assert result.returncode != 0, _report(result)
    assert "unknown-key" in result.stdout


# --- zizmor -------------------------------------------------------------------------------


def test_zizmor_rejects_an_unsafe_workflow(zizmor: str) -> None:
    bad = str(BAD_WORKFLOWS / "zizmor-bad.yml")
    result = _run(zizmor, "--offline", "--format=json", "--no-progress", bad)
    assert result.returncode != 0, _report(result)
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    assert {"template-injection", "unpinned-uses", "artipacked", "excessive-permissions"} <= {
        finding["ident"] for finding in findings
    }


def test_lint_workflows_target_fails_on_an_unsafe_workflow(actionlint: str, zizmor: str) -> None:
    bad = str(BAD_WORKFLOWS / "zizmor-bad.yml")
    # actionlint lints the real workflows (clean); zizmor gets the unsafe one.
    result = _make("lint-workflows", ZIZMOR_INPUTS=bad)
    assert result.returncode != 0, _report(result)
    assert "template-injection" in result.stdout


def test_lint_workflows_passes_on_the_real_workflows(actionlint: str, zizmor: str) -> None:
    result = _make("lint-workflows")
    assert result.returncode == 0, _report(result)
    assert "No findings to report" in result.stdout


# --- cfn-lint -----------------------------------------------------------------------------


def test_cfn_lint_rejects_a_broken_template(cfn_lint: str) -> None:
    result = _run(cfn_lint, "--format", "json", str(FIXTURES / "cfn/cfn-lint-bad.yaml"))
    assert result.returncode != 0, _report(result)
    rules = {match["Rule"]["Id"] for match in json.loads(result.stdout)}
    assert {"E1020", "E3002", "E3012"} <= rules


def test_lint_cfn_target_fails_on_a_broken_template(cfn_lint: str) -> None:
    result = _make("lint-cfn", CFN_TEMPLATES=str(FIXTURES / "cfn/cfn-lint-bad.yaml"))
    assert result.returncode != 0, _report(result)
    assert "NotARoleProperty" in result.stdout


def test_lint_cfn_passes_on_the_real_templates(cfn_lint: str) -> None:
    result = _make("lint-cfn")
    assert result.returncode == 0, _report(result)
    assert "deploy/aws/github-oidc.yaml" in result.stdout


# --- hadolint -----------------------------------------------------------------------------


def test_hadolint_rejects_a_bad_dockerfile() -> None:
    hadolint = _find("hadolint")
    bad = str(FIXTURES / "hadolint/bad.Containerfile")
    result = _run(hadolint, "--no-color", "--format", "json", bad)
    assert result.returncode != 0, _report(result)
    codes = {finding["code"] for finding in json.loads(result.stdout)}
    assert {"DL3007", "DL3020"} <= codes


def test_hadolint_passes_on_the_real_dockerfile() -> None:
    hadolint = _find("hadolint")
    dockerfile = ROOT / "Dockerfile"
    if not dockerfile.is_file():
        pytest.skip("no Dockerfile in the repository yet")
    result = _run(hadolint, "--no-color", str(dockerfile))
    assert result.returncode == 0, _report(result)
