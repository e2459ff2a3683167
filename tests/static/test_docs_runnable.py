"""Every command in a docs code block marked runnable runs, exits 0 and prints what the page shows.

The convention (see ``docs/_ext/nsshutdown_docs/pages.py`` and the "Writing the documentation"
page): an HTML comment ``<!-- runnable -->`` right before a ```` ```console ```` block. Commands
start with ``$ ``; the lines after a command are output it must print (``...`` skips lines). Only
offline commands may be marked runnable, so these tests never need, or touch, a cluster.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

from nsshutdown_docs import pages  # noqa: E402 - the docs extension lives under docs/_ext

RUNNABLE_BLOCKS = [block for block in pages.all_code_blocks() if block.runnable]
RUNNABLE = [command for block in RUNNABLE_BLOCKS for command in pages.console_commands(block)]
#: Runs the console script's entry point under the name the docs show (``nsshutdown``), with the
#: interpreter running these tests.
ENTRY = "import sys; from nsshutdown.cli.main import main; sys.argv[0] = 'nsshutdown'; main()"


def test_the_docs_have_runnable_commands() -> None:
    assert len(RUNNABLE) >= 3


@pytest.mark.parametrize("block", RUNNABLE_BLOCKS, ids=lambda b: b.where)
def test_runnable_blocks_are_console_blocks_with_commands(block: pages.CodeBlock) -> None:
    assert block.language == "console", f"{block.where}: only console blocks can be runnable"
    assert pages.console_commands(block), f"{block.where}: no `$ ` command in a runnable block"


def offline_problem(argv: list[str]) -> str | None:
    """Why ``argv`` may not be marked runnable, or ``None`` when it is a safe offline command."""
    if not argv or argv[0] != "nsshutdown":
        return "only nsshutdown commands can be runnable"
    if any(arg in ("--help", "-h", "--version") for arg in argv[1:]):
        return None
    words = [arg for arg in argv[1:] if not arg.startswith("-")]
    command = words[0] if words else ""
    if command not in pages.RUNNABLE_COMMANDS:
        return f"`{command}` may need a cluster; runnable: {sorted(pages.RUNNABLE_COMMANDS)}"
    flags = {arg.split("=", 1)[0] for arg in argv[1:] if arg.startswith("-")}
    if flags & pages.CLUSTER_OPTIONS:
        return f"{sorted(flags & pages.CLUSTER_OPTIONS)} would reach for a cluster"
    if command == "plan" and not flags & {"--namespace", "-n"}:
        return "plan without --namespace reads the cluster"
    return None


@pytest.mark.parametrize(
    ("argv", "allowed"),
    [
        (["nsshutdown", "validate", "--schedule", "x.yaml"], True),
        (["nsshutdown", "plan", "-s", "x.yaml", "--namespace", "dev-a"], True),
        (["nsshutdown", "run", "--help"], True),
        (["nsshutdown", "plan", "-s", "x.yaml"], False),
        (["nsshutdown", "run", "--dry-run"], False),
        (["nsshutdown", "validate", "--configmap", "a/b"], False),
        (["kubectl", "get", "ns"], False),
    ],
)
def test_only_offline_commands_may_be_runnable(argv: list[str], allowed: bool) -> None:
    assert (offline_problem(argv) is None) is allowed


@pytest.mark.parametrize("command", RUNNABLE, ids=lambda c: c.where)
def test_runnable_command_succeeds(command: pages.ConsoleCommand, tmp_path: Path) -> None:
    argv = command.argv
    problem = offline_problem(argv)
    assert problem is None, f"{command.where}: `{command.command}` cannot be runnable: {problem}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NSSHUTDOWN_", "KUBERNETES_")) and key != "KUBECONFIG"
    }
    env |= {
        "HOME": str(tmp_path),
        "KUBECONFIG": str(tmp_path / "no-kubeconfig"),
        "COLUMNS": "120",
        "NO_COLOR": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", ENTRY, *argv[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        f"{command.where}: `{command.command}` exited {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    assert pages.output_matches(command.expected, result.stdout), (
        f"{command.where}: `{command.command}` no longer prints what the docs show.\n"
        "expected:\n" + "\n".join(command.expected) + f"\nactual:\n{result.stdout}"
    )


@pytest.mark.parametrize(
    ("expected", "actual", "matches"),
    [
        (("a", "b"), "a\nb\n\n", True),
        (("a", "b"), "x\na\nb\ny", False),  # every line printed is shown...
        (("...", "a", "b", "..."), "x\na\nb\ny", True),  # ...unless "..." stands for it
        (("a", "b"), "a\nb\na legend", False),  # a line the docs forgot
        (("a", "b"), "a\nx\nb", False),
        (("a", "...", "b"), "a\nx\ny\nb", True),
        (("a   b",), "a b", True),
        (("b", "a"), "a\nb", False),
        ((), "anything", True),
        (("missing",), "a\nb", False),
    ],
)
def test_output_matching(expected: tuple[str, ...], actual: str, matches: bool) -> None:
    assert pages.output_matches(expected, actual) is matches
