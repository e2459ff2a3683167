"""Every console block in the docs is run, or says why not; the offline ones are run here.

The convention (see ``docs/_ext/nsshutdown_docs/pages.py`` and the "Writing the documentation"
page): an HTML comment right before a ```` ```console ```` block. ``<!-- runnable -->`` blocks are
run here, with no cluster, in a scratch directory holding a copy of ``manifests/`` and
``examples/`` (``cd`` moves within the scratch area, so a copy can be built away from the tree);
``<!-- runnable cluster=SETUP -->`` blocks are run on a real API server by
``tests/integration/test_docs_examples.py`` and only checked here; ``<!-- not runnable: REASON -->``
blocks are never run. Commands start with ``$ ``; the lines after a command are output it must
print (``...`` skips lines).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

from nsshutdown_docs import pages  # noqa: E402 - the docs extension lives under docs/_ext

from devtools import BinariesNotFoundError, find_binaries  # noqa: E402

BLOCKS = list(pages.all_code_blocks())
CONSOLE_BLOCKS = [block for block in BLOCKS if block.language in pages.CONSOLE_LANGUAGES]
MARKED_BLOCKS = [block for block in BLOCKS if block.marker]
OFFLINE_BLOCKS = [block for block in BLOCKS if block.tier == "offline"]
CLUSTER_BLOCKS = [block for block in BLOCKS if block.tier == "cluster"]
OFFLINE = [command for block in OFFLINE_BLOCKS for command in pages.console_commands(block)]
#: Runs the console script's entry point under the name the docs show (``nsshutdown``), with the
#: interpreter running these tests.
ENTRY = "import sys; from nsshutdown.cli.main import main; sys.argv[0] = 'nsshutdown'; main()"
#: What an offline block's scratch directory holds: copies of the paths the docs' commands read.
SCRATCH = ("manifests", "examples")
#: Words that would need a shell, which the runner does not use.
SHELL = frozenset({"|", "||", "&&", ";", ">", ">>", "<", "&"})


def test_the_docs_have_runnable_commands() -> None:
    assert len(OFFLINE) >= 3
    assert len(CLUSTER_BLOCKS) >= 3


@pytest.mark.parametrize("block", CONSOLE_BLOCKS, ids=lambda b: b.where)
def test_every_console_block_is_run_or_says_why_not(block: pages.CodeBlock) -> None:
    assert block.tier or block.not_runnable, (
        f"{block.where}: mark the block `<!-- runnable -->` (offline), "
        "`<!-- runnable cluster=SETUP -->` or `<!-- not runnable: REASON -->` "
        "(see docs/writing-docs.md)"
    )


@pytest.mark.parametrize("block", MARKED_BLOCKS, ids=lambda b: b.where)
def test_markers_are_well_formed_and_on_console_blocks(block: pages.CodeBlock) -> None:
    if "runnable" not in block.marker:
        return  # another HTML comment
    assert block.tier or block.not_runnable, f"{block.where}: cannot read {block.marker!r}"
    assert block.language in pages.CONSOLE_LANGUAGES, f"{block.where}: not a console block"
    if block.tier:
        assert pages.console_commands(block), f"{block.where}: no `$ ` command in a runnable block"


@pytest.mark.parametrize("block", CLUSTER_BLOCKS, ids=lambda b: b.where)
def test_cluster_blocks_name_a_setup_a_clock_and_plain_commands(block: pages.CodeBlock) -> None:
    options = pages._marker(block.marker)
    assert set(options) <= {"tier", "cluster", "now"}, f"{block.where}: unknown option"
    setup = pages.EXAMPLES_DATA / block.setup / "kustomization.yaml"
    assert setup.is_file(), f"{block.where}: no setup {setup.relative_to(pages.ROOT)}"
    assert datetime.fromisoformat(block.now).utcoffset() is not None, f"{block.where}: now="
    for command in pages.console_commands(block):
        argv = command.argv
        assert argv[0] in pages.CLUSTER_PROGRAMS, f"{command.where}: runs {argv[0]}"
        assert not SHELL & set(argv), f"{command.where}: needs a shell"
        assert not any(arg.startswith(("<", "$")) for arg in argv), f"{command.where}: a blank"


def offline_problem(argv: list[str]) -> str | None:  # noqa: PLR0911 - one return per rule
    """Why ``argv`` may not be marked runnable, or ``None`` when it is a safe offline command."""
    if not argv or argv[0] not in pages.OFFLINE_PROGRAMS:
        return f"offline blocks run only {sorted(pages.OFFLINE_PROGRAMS)}"
    if SHELL & set(argv):
        return "the runner uses no shell"
    if argv[0] == "kubectl":
        return None if argv[1:2] == ["kustomize"] else "kubectl only as `kubectl kustomize`"
    if argv[0] == "cd":
        return None if len(argv) == 2 else "cd takes one directory"
    if argv[0] != "nsshutdown":
        return None
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
        (["kubectl", "kustomize", "overlays/dev"], True),
        (["cp", "-r", "manifests/base", "x/"], True),
        (["nsshutdown", "validate", "-s", "x.yaml", "|", "less"], False),
    ],
)
def test_only_offline_commands_may_be_runnable(argv: list[str], allowed: bool) -> None:
    assert (offline_problem(argv) is None) is allowed


def _kubectl() -> str:
    try:
        kubectl = find_binaries().kubectl
    except BinariesNotFoundError as exc:
        kubectl, reason = None, str(exc)
    else:
        reason = "no kubectl next to kube-apiserver"
    if kubectl is not None:
        return str(kubectl)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: every docs example must run)", pytrace=False)
    pytest.skip(reason)


@pytest.mark.parametrize("block", OFFLINE_BLOCKS, ids=lambda b: b.where)
def test_offline_block_runs_and_prints_what_the_docs_show(
    block: pages.CodeBlock, tmp_path: Path
) -> None:
    commands = pages.console_commands(block)
    for command in commands:
        problem = offline_problem(command.argv)
        assert problem is None, (
            f"{command.where}: `{command.command}` cannot be runnable: {problem}"
        )
    scratch = tmp_path / "scratch"
    for name in SCRATCH:
        shutil.copytree(ROOT / name, scratch / name)
    home = tmp_path / "home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NSSHUTDOWN_", "KUBERNETES_")) and key != "KUBECONFIG"
    }
    env |= {
        "HOME": str(home),
        "KUBECONFIG": str(tmp_path / "no-kubeconfig"),
        "COLUMNS": "120",
        "NO_COLOR": "1",
        "PYTHONPATH": str(ROOT),
    }
    cwd = scratch
    for index, command in enumerate(commands):
        argv = command.argv
        if argv[0] == "cd":
            cwd = (cwd / argv[1]).resolve()
            assert cwd.is_relative_to(tmp_path), f"{command.where}: cd out of the scratch area"
            continue
        if argv[0] == "nsshutdown":
            argv = [sys.executable, "-c", ENTRY, *argv[1:]]
        elif argv[0] == "kubectl":
            argv = [_kubectl(), *argv[1:]]
        result = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, (
            f"{command.where}: `{command.command}` exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
        problem = pages.check_output(command, index, result.stdout)
        assert problem is None, problem


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
        (("8 API requests in 0.1 s",), "8 API requests in 2.35 s", True),  # measured durations
        (("took 12 ms",), "took 7ms", True),
        (("9 API requests",), "8 API requests", False),
    ],
)
def test_output_matching(expected: tuple[str, ...], actual: str, matches: bool) -> None:
    assert pages.output_matches(expected, actual) is matches


@pytest.mark.parametrize(
    ("expected", "actual", "shown"),
    [
        (("old",), "new\nlines  \n\n", ["new", "lines"]),
        (("a", "..."), "x\ny\nz", ["x", "..."]),
        (("...", "a"), "x\ny\nz", ["...", "z"]),
        (("a", "...", "b"), "x\ny\nz", ["x", "...", "z"]),
        (("a", "...", "b"), "x\ny", ["x", "y"]),
        (("...", "a", "...", "b"), "x\ny\nz", ["x", "y", "z"]),
    ],
)
def test_update_mode_keeps_the_shape_of_the_shown_output(
    expected: tuple[str, ...], actual: str, shown: list[str]
) -> None:
    assert pages.updated_output(expected, actual) == shown


def test_update_mode_rewrites_the_output_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "ROOT", tmp_path)
    page = tmp_path / "page.md"
    page.write_text(
        "# T\n\n1. step\n\n   <!-- runnable -->\n   ```console\n   $ nsshutdown a \\\n"
        "       --b\n   old\n\n   $ nsshutdown c\n   kept\n   ```\n",
        encoding="utf-8",
    )
    [block] = pages.code_blocks(page)
    first, second = pages.console_commands(block)
    monkeypatch.setenv(pages.UPDATE_ENV, "1")
    assert pages.check_output(first, 0, "new 1\nnew 2\n") is None
    assert pages.check_output(second, 1, "kept\n") is None
    assert page.read_text(encoding="utf-8") == (
        "# T\n\n1. step\n\n   <!-- runnable -->\n   ```console\n   $ nsshutdown a \\\n"
        "       --b\n   new 1\n   new 2\n\n   $ nsshutdown c\n   kept\n   ```\n"
    )
    monkeypatch.delenv(pages.UPDATE_ENV)
    [block] = pages.code_blocks(page)
    assert pages.check_output(pages.console_commands(block)[1], 1, "changed") is not None
