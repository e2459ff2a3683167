"""``validate`` and ``plan`` through the CLI: exit codes, the JSON contract, the week view."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner, Result

from nsshutdown import __version__
from nsshutdown.cli.main import app
from nsshutdown.cli.offline import parse_at, parse_namespace_arg
from nsshutdown.errors import UsageError

EXAMPLES = Path(__file__).parents[2] / "examples"
NIGHTS = str(EXAMPLES / "nights-and-weekends.yaml")


@pytest.fixture(autouse=True)
def _no_option_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every option reads NSSHUTDOWN_*: a developer's shell must not change these tests."""
    for name in list(os.environ):
        if name.startswith("NSSHUTDOWN_") and name != "NSSHUTDOWN_CACHE":
            monkeypatch.delenv(name)


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_version() -> None:
    result = run("--version")
    assert (result.exit_code, result.stdout.strip()) == (0, f"nsshutdown {__version__}")


def test_validate_valid_schedule() -> None:
    result = run("validate", "--schedule", NIGHTS)
    assert result.exit_code == 0, result.output
    assert "valid, 1 schedule" in result.stdout
    assert "dev-nights-and-weekends (Europe/Madrid): 1 window, 4 holidays" in result.stdout


def test_validate_reads_the_schedule_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NSSHUTDOWN_SCHEDULE", NIGHTS)
    assert run("validate").exit_code == 0


def test_validate_without_schedule_is_bad_input() -> None:
    result = run("validate")
    assert result.exit_code == 1
    assert "--schedule" in result.stderr


def test_validate_missing_file_is_bad_input(tmp_path: Path) -> None:
    result = run("validate", "--schedule", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1
    assert "cannot read the schedule" in result.stderr


def test_plan_json_matches_the_contract() -> None:
    result = run(
        "plan", "--schedule", NIGHTS, "--at", "2026-11-26T21:00:00+01:00", "--output", "json",
        "--namespace", "dev-a=env=dev", "--namespace", "kube-system", "--namespace", "prod",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "at": "2026-11-26T21:00:00+01:00",
        "namespaces": [
            {
                "namespace": "dev-a",
                "schedule": "dev-nights-and-weekends",
                "schedule_from": "match",
                "desired": "down",
                "reason": "window",
                "next_transition": {"at": "2026-11-27T08:00:00+01:00", "to": "up"},
                "actions": [],
            },
            {
                "namespace": "kube-system",
                "schedule": None,
                "schedule_from": "none",
                "desired": "up",
                "reason": "excluded",
                "next_transition": None,
                "actions": [],
                "message": (
                    "kube-system is protected: the cluster's own namespaces are never scaled"
                ),
            },
            {
                "namespace": "prod",
                "schedule": None,
                "schedule_from": "none",
                "desired": "up",
                "reason": "no-schedule",
                "next_transition": None,
                "actions": [],
            },
        ],
    }


@pytest.mark.parametrize(
    ("labels", "desired"),
    [("env=dev", "down"), ("env=prod", "up"), ("", "up")],
    ids=["selector-matches", "selector-fails", "no-labels"],
)
def test_plan_uses_namespace_labels(labels: str, desired: str) -> None:
    arg = f"dev-a={labels}" if labels else "dev-a"
    result = run("plan", "-s", NIGHTS, "--at", "2026-11-26T21:00", "-o", "json", "-n", arg)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["namespaces"][0]["desired"] == desired


def test_plan_text_output() -> None:
    result = run("plan", "-s", NIGHTS, "--at", "2026-11-28T12:00", "-n", "dev-a=env=dev")
    assert result.exit_code == 0, result.output
    assert "dev-a" in result.stdout
    assert "down" in result.stdout
    assert "up Mon 30 Nov 08:00 CET" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "-s", NIGHTS, "-n", "dev-a", "--at", "yesterday"],
        ["plan", "-s", NIGHTS, "-n", "dev-a=env"],
        ["plan", "-s", NIGHTS, "-n", "dev-a=-bad=x"],
        ["plan", "-s", NIGHTS, "-n", "dev-a", "-n", "dev-a"],
        ["plan", "-s", NIGHTS, "-n", "=env=dev"],
        ["plan", "-n", "dev-a"],  # no schedule
    ],
    ids=["bad-at", "label-without-value", "bad-label-key", "twice", "no-name",
         "no-schedule"],
)  # fmt: skip
def test_plan_bad_flags_exit_1(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ")


def test_plan_without_namespaces_wants_a_cluster_which_tests_never_reach() -> None:
    result = run("plan", "-s", NIGHTS)
    assert result.exit_code == 3, result.output


def test_plan_with_a_bad_schedule_exits_1_before_anything_else(tmp_path: Path) -> None:
    bad = tmp_path / "schedule.yaml"
    bad.write_text("version: 2\n")
    result = run("plan", "-s", str(bad), "-n", "dev-a")
    assert result.exit_code == 1
    assert f"{bad}:1: version:" in result.stderr


def test_plan_week_text_draws_seven_days() -> None:
    result = CliRunner(env={"COLUMNS": "160"}).invoke(
        app, ["plan", "-s", NIGHTS, "--at", "2026-11-26T12:00", "--week", "-n", "dev-a=env=dev"]
    )
    assert result.exit_code == 0, result.output
    for day in ("Thu 26 Nov", "Fri 27 Nov", "Sat 28 Nov", "Wed 02 Dec"):
        assert day in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("dev-a"))
    assert "█" in row
    assert "░" in row


def test_plan_week_json_periods() -> None:
    result = run(
        "plan", "-s", NIGHTS, "--at", "2026-11-26T12:00", "--week", "-o", "json",
        "-n", "dev-a=env=dev", "-n", "other",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    week = json.loads(result.stdout)
    assert (week["start"], week["end"]) == (
        "2026-11-26T00:00:00+01:00",
        "2026-12-03T00:00:00+01:00",
    )
    dev_a, other = week["namespaces"]
    assert dev_a["periods"][:3] == [
        {"from": "2026-11-26T00:00:00+01:00", "to": "2026-11-26T08:00:00+01:00", "desired": "down"},
        {"from": "2026-11-26T08:00:00+01:00", "to": "2026-11-26T20:00:00+01:00", "desired": "up"},
        {"from": "2026-11-26T20:00:00+01:00", "to": "2026-11-27T08:00:00+01:00", "desired": "down"},
    ]
    assert {"from": "2026-11-27T20:00:00+01:00", "to": "2026-11-30T08:00:00+01:00",
            "desired": "down"} in dev_a["periods"]  # fmt: skip
    assert other["periods"] == [
        {"from": week["start"], "to": week["end"], "desired": "up"},
    ]


NOW = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
MADRID = ZoneInfo("Europe/Madrid")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("2026-11-26T21:00:00+01:00", datetime(2026, 11, 26, 20, 0, tzinfo=UTC)),
        ("2026-11-26T20:00:00Z", datetime(2026, 11, 26, 20, 0, tzinfo=UTC)),
        ("2026-11-26T21:00", datetime(2026, 11, 26, 20, 0, tzinfo=UTC)),  # schedule's zone
        ("2026-07-01", datetime(2026, 6, 30, 22, 0, tzinfo=UTC)),  # midnight, summer time
        ("2026-03-29T02:30", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),  # skipped: the jump
    ],
    ids=["now", "offset", "zulu", "local", "date", "skipped-local-time"],
)
def test_parse_at(text: str, expected: datetime) -> None:
    assert parse_at(text, now=NOW, zone=MADRID) == expected


def test_parse_namespace_arg() -> None:
    ns = parse_namespace_arg("dev-a=env=dev,team=payments,app.kubernetes.io/part-of=shop")
    assert ns.name == "dev-a"
    assert dict(ns.labels) == {
        "env": "dev",
        "team": "payments",
        "app.kubernetes.io/part-of": "shop",
    }


def test_parse_namespace_arg_rejects_bad_labels() -> None:
    with pytest.raises(UsageError, match="KEY=VALUE"):
        parse_namespace_arg("dev-a=env")


def test_plan_shows_only_the_namespaces_named() -> None:
    result = CliRunner().invoke(
        app,
        ["plan", "dev-b", "--schedule", str(EXAMPLES / "nights-and-weekends.yaml"),
         "--namespace", "dev-a=env=dev", "--namespace", "dev-b=env=dev", "-o", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [ns["namespace"] for ns in json.loads(result.stdout)["namespaces"]] == ["dev-b"]
