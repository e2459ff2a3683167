"""Readable at 80 columns, at 200 and in a pipe: no name or value is ever cut.

The text views print side by side when the columns fit and stacked (one ``header: value`` line
each) when they do not; either way every namespace and every value appears whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nsshutdown.cli.main import run_cli
from nsshutdown.model import Kind, Namespace
from tests.cli.support import ALWAYS_DOWN, cli, connect_to
from tests.cli.test_commands import COMMANDS
from tests.fakes import FakeCluster, workload

LONG = "team-payments-settlement-reconciliation-staging-eu-west-1"
NAMES = ["dev-a", LONG, "kube-node-lease"]


@pytest.fixture
def wide_world(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    fake = FakeCluster(
        [
            workload("api", replicas=3),
            workload("nightly-report-generator", namespace=LONG, kind=Kind.CRONJOB),
            workload("settlement-worker", namespace=LONG, replicas=12, cpu=0.5),
        ],
        namespaces=[Namespace("kube-node-lease")],
    )
    return connect_to(monkeypatch, fake)


def _schedule(tmp_path: Path) -> Path:
    path = tmp_path / "schedule.yaml"
    path.write_text(ALWAYS_DOWN.format(grace="0s").replace('["dev-*"]', '["dev-*", "team-*"]'))
    return path


@pytest.mark.parametrize("columns", ["80", "200"])
@pytest.mark.parametrize("command", ["plan", "run", "status"])
def test_every_namespace_and_value_is_whole(
    wide_world: FakeCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    columns: str,
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    schedule = _schedule(tmp_path)
    if command == "status":
        cli("run", "-s", schedule)
    code, out, _ = cli(command, "-s", schedule)
    assert code == 0, out
    assert "…" not in out
    for name in NAMES:
        assert name in out, f"{name} cut at {columns} columns:\n{out}"
    expected = {
        "plan": ["kube-node-lease", "excluded", "settlement-worker", "replicas 12 → 0"],
        "run": ["converged", "2 shutdown", "replicas 12 → 0"],
        "status": ["excluded", "down", "12", "6"],
    }[command]
    for value in expected:
        assert value in out, f"{value!r} cut at {columns} columns:\n{out}"
    if columns != "200":
        assert all(len(line) <= int(columns) for line in out.splitlines() if " " in line.strip())


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_is_whole_at_80_columns(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert run_cli([command, "--help"]) == 0
    text = capsys.readouterr().out
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "NSSHUTDOWN_" in text or command in ("validate", "plan")
