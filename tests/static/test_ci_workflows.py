"""Supply-chain rules for the GitHub Actions workflows, checked on the files themselves.

Every `uses:` is pinned to a full commit SHA with a `# vX.Y.Z` comment (a tag can be moved to
other code; a SHA cannot), workflows start from `permissions: {}`, checkouts do not persist the
token, and no `${{ github.event.* }}` is expanded inside a shell script. Each rule is also run
on a known-bad workflow, so a rule that stops catching anything fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BAD_WORKFLOW = ROOT / "tests" / "fixtures" / "ci" / "workflows" / "unpinned.yml"

USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})$")
VERSION_COMMENT = re.compile(r"^\s+# (?P<version>v\d+\.\d+\.\d+)$")
EVENT_EXPRESSION = re.compile(r"\$\{\{[^}]*\bgithub\.event\.")


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: not a mapping"
    return data


def _steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow.get("jobs", {}).items():
        for step in job.get("steps", []):
            yield job_id, step


def pin_problems(path: Path) -> list[str]:
    """Every `uses:` line names owner/repo[/path]@<40 hex> followed by `# vX.Y.Z`."""
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = USES_LINE.match(line)
        if not match:
            continue
        where = f"{path.name}:{number}"
        if not PINNED.match(match["ref"]):
            problems.append(f"{where}: {match['ref']} is not pinned to a full commit SHA")
        elif not VERSION_COMMENT.match(match["rest"]):
            problems.append(f"{where}: {match['ref']} has no '# vX.Y.Z' version comment")
    return problems


def permission_problems(path: Path) -> list[str]:
    workflow = _load(path)
    if workflow.get("permissions") != {}:
        return [f"{path.name}: top-level permissions are {workflow.get('permissions')!r}, not {{}}"]
    return []


def checkout_problems(path: Path) -> list[str]:
    problems = []
    for job_id, step in _steps(_load(path)):
        is_checkout = str(step.get("uses", "")).startswith("actions/checkout@")
        if is_checkout and (step.get("with") or {}).get("persist-credentials") is not False:
            problems.append(f"{path.name}: job {job_id} checks out with persisted credentials")
    return problems


def test_there_are_workflows_to_check() -> None:
    names = {path.name for path in WORKFLOWS}
    assert {"ci.yml", "release.yml", "codeql.yml"} <= names


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_commit_sha_with_its_version(path: Path) -> None:
    assert pin_problems(path) == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_the_line_check_sees_every_uses_in_the_workflow(path: Path) -> None:
    # The pin check reads lines (YAML drops comments); make sure it misses no `uses:`.
    from_yaml = sorted(str(step["uses"]) for _, step in _steps(_load(path)) if "uses" in step)
    from_lines = sorted(
        match["ref"]
        for line in path.read_text(encoding="utf-8").splitlines()
        if (match := USES_LINE.match(line))
    )
    assert from_yaml
    assert from_lines == from_yaml


def test_one_action_is_pinned_to_one_sha_and_version_everywhere() -> None:
    # CodeQL's init, analyze and upload-sarif must also agree, or analyze refuses to run.
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in WORKFLOWS:
        for line in path.read_text(encoding="utf-8").splitlines():
            if (match := USES_LINE.match(line)) and (pinned := PINNED.match(match["ref"])):
                repo = "/".join(pinned["action"].split("/")[:2])
                comment = VERSION_COMMENT.match(match["rest"])
                version = comment["version"] if comment else ""
                pins.setdefault(repo, set()).add((pinned["sha"], version))
    assert pins
    assert {repo: shas for repo, shas in pins.items() if len(shas) > 1} == {}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_top_level_permissions_are_empty(path: Path) -> None:
    assert permission_problems(path) == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_every_job_declares_its_permissions_and_a_timeout(path: Path) -> None:
    for job_id, job in _load(path)["jobs"].items():
        assert isinstance(job.get("permissions"), dict), f"{path.name}: {job_id} has no permissions"
        assert "write-all" not in str(job["permissions"])
        assert isinstance(job.get("timeout-minutes"), int), f"{path.name}: {job_id} has no timeout"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_checkout_never_persists_the_token(path: Path) -> None:
    assert checkout_problems(path) == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_no_event_payload_is_expanded_inside_a_script(path: Path) -> None:
    for job_id, step in _steps(_load(path)):
        script = str(step.get("run", ""))
        assert not EVENT_EXPRESSION.search(script), f"{path.name}: {job_id}: {script!r}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_each_workflow_has_a_concurrency_group(path: Path) -> None:
    assert "group" in _load(path)["concurrency"]


def test_release_job_gets_oidc_and_nothing_else_it_does_not_need() -> None:
    job = _load(ROOT / ".github" / "workflows" / "release.yml")["jobs"]["image"]
    assert job["permissions"] == {
        "contents": "read",
        "packages": "write",  # the GHCR push
        "id-token": "write",
        "security-events": "write",
    }
    uses = {str(step.get("uses", "")).split("@")[0]: step for step in job["steps"]}
    aws = uses["aws-actions/configure-aws-credentials"]["with"]
    assert aws["role-to-assume"] == "${{ vars.AWS_RELEASE_ROLE_ARN }}"
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(aws)
    # The trust policy pins sub to this environment (deploy/aws/github-oidc.yaml).
    assert job["environment"] == "release"


def test_release_gates_on_fixable_critical_and_high_findings() -> None:
    steps = _load(ROOT / ".github" / "workflows" / "release.yml")["jobs"]["image"]["steps"]
    trivy = [s["with"] for s in steps if str(s.get("uses", "")).startswith("aquasecurity/trivy")]
    gates = [w for w in trivy if str(w.get("exit-code")) == "1"]
    assert len(gates) == 1
    assert gates[0]["format"] == "table"
    assert gates[0]["severity"] == "CRITICAL,HIGH"
    assert gates[0]["ignore-unfixed"] is True
    assert any(w.get("format") == "sarif" for w in trivy)
    names = [str(s.get("uses", s.get("run", ""))) for s in steps]
    push = next(i for i, name in enumerate(names) if "push-image.sh" in name)
    gate = next(i for i, s in enumerate(steps) if s.get("with") is gates[0])
    assert gate < push, "the image must be scanned before it is pushed"


def test_codeql_covers_python_and_actions_with_security_extended() -> None:
    job = _load(ROOT / ".github" / "workflows" / "codeql.yml")["jobs"]["analyze"]
    assert set(job["strategy"]["matrix"]["language"]) == {"python", "actions"}
    init = next(s for s in job["steps"] if "codeql-action/init@" in str(s.get("uses", "")))
    assert init["with"]["queries"] == "security-extended"


def test_the_rules_catch_a_badly_pinned_workflow() -> None:
    pins = pin_problems(BAD_WORKFLOW)
    assert any("actions/checkout@v4 is not pinned" in p for p in pins)
    assert any("actions/setup-python@a26af69 is not pinned" in p for p in pins)
    assert any("setup-go@" in p and "no '# vX.Y.Z'" in p for p in pins)
    assert any("actions/cache@" in p and "no '# vX.Y.Z'" in p for p in pins)
    assert len(pins) == 4
    assert permission_problems(BAD_WORKFLOW)
    assert checkout_problems(BAD_WORKFLOW)
