"""Exit codes as documented, for every way a command line can be wrong.

Click exits 2 on a usage error; this tool's contract (DESIGN.md) reserves 2 for "partial", so
every usage error is exit 1 with one clear line naming the command's help. The real entry point
runs here (``run_cli``), as the console script and ``python -m nsshutdown`` do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nsshutdown.cli.main import run_cli
from tests.cli.support import ALWAYS_DOWN, connect_to
from tests.fakes import FakeCluster

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "nights-and-weekends.yaml")

USAGE_ERRORS = {
    "unknown-flag": (["run", "--no-such-flag"], "No such option: --no-such-flag"),
    "unknown-command": (["scale-down"], "No such command"),
    "bad-choice": (["run", "--output", "xml"], "'xml' is not one of"),
    "below-range": (["run", "--concurrency", "0"], "--concurrency"),
    "not-a-number": (["run", "--concurrency", "many"], "--concurrency"),
    "directory-for-a-file": (["validate", "--schedule", "/"], "is a directory"),
    "missing-value": (["validate", "--schedule"], "requires an argument"),
    "extra-argument": (["validate", "--schedule", EXAMPLE, "surplus"], "unexpected extra argument"),
    "bad-log-level": (["run", "--log-level", "loud"], "--log-level"),
    "plan-bad-at": (["plan", "--schedule", EXAMPLE, "--at", "tomorrow-ish"], '--at "tomorrow-ish"'),
    "missing-schedule-file": (["validate", "--schedule", "/no/such/file.yaml"], "No such file"),
}


@pytest.mark.parametrize(("argv", "fragment"), list(USAGE_ERRORS.values()), ids=list(USAGE_ERRORS))
def test_a_usage_error_is_exit_1_on_one_line(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(argv) == 1
    err = capsys.readouterr().err.strip()
    assert fragment in err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ")


def test_no_arguments_shows_the_help_and_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli([]) == 0
    assert "Usage" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        pytest.param(["--version"], 0, id="version"),
        pytest.param(["validate", "--schedule", EXAMPLE], 0, id="valid"),
        pytest.param(["run", "--help"], 0, id="help"),
    ],
)
def test_successes_are_exit_0(argv: list[str], code: int) -> None:
    assert run_cli(argv) == code


# --- one JSON document on every path ------------------------------------------------------------


def test_an_invalid_schedule_is_a_json_document_naming_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("version: 1\ndefaults:\n  timezone: Europe/Madird\n  gracePeriod: 1y\n")
    assert run_cli(["validate", "--schedule", str(schedule), "--output", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["exit_code"] == 1
    assert [(e["file"], e["line"], e["field"]) for e in doc["errors"]] == [
        (str(schedule), 3, "defaults.timezone"),
        (str(schedule), 4, "defaults.gracePeriod"),
    ]
    assert "Europe/Madrid" in doc["errors"][0]["message"]


def test_bad_yaml_is_a_json_document_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("version: 1\nschedules: [\n")
    assert run_cli(["validate", "-s", str(schedule), "-o", "json"]) == 1
    (error,) = json.loads(capsys.readouterr().out)["errors"]
    assert error["file"] == str(schedule)
    assert error["message"].startswith("invalid YAML")


def test_a_usage_error_with_json_asked_for_is_a_json_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli(["run", "--concurrency", "0", "--output=json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["exit_code"] == 1
    assert "--concurrency" in doc["errors"][0]["message"]


def test_an_unreachable_cluster_is_a_json_document(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = connect_to(monkeypatch, FakeCluster())
    fake.unreachable = True
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(ALWAYS_DOWN.format(grace="0s"))
    for command in (["run"], ["status"], ["shutdown", "dev-a"], ["restore", "--all"]):
        assert run_cli([*command, "-s", str(schedule), "-o", "json"]) == 3
        doc = json.loads(capsys.readouterr().out)
        assert doc["exit_code"] == 3
        assert doc["errors"][0]["message"]
