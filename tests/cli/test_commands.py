"""Every command is registered, and a broken command module fails loudly instead of vanishing."""

from __future__ import annotations

import importlib
import pathlib
import pkgutil
import subprocess
import sys
import textwrap

import pytest
import typer

from nsshutdown import cli

#: The command line users and the CronJob script against (DESIGN.md "Commands").
COMMANDS = {
    "run", "shutdown", "restore", "wake", "resume", "status", "validate", "plan", "check",
}  # fmt: skip


def test_every_cli_module_imports() -> None:
    for module in pkgutil.iter_modules(cli.__path__, prefix="nsshutdown.cli."):
        importlib.import_module(module.name)


def test_the_full_command_list_is_registered() -> None:
    from nsshutdown.cli.main import app

    group = typer.main.get_command(app)
    assert set(group.commands) == COMMANDS  # type: ignore[attr-defined]


def test_each_command_loads_the_module_that_registers_it() -> None:
    # `nsshutdown CMD` imports only COMMAND_MODULES[CMD]: a wrong entry would run without CMD
    from nsshutdown.cli.main import COMMAND_MODULES, app

    registered = {
        info.name or info.callback.__name__.replace("_", "-"): info.callback.__module__
        for info in app.registered_commands
        if info.callback is not None
    }
    expected = {name: f"nsshutdown.cli.{module}" for name, module in COMMAND_MODULES.items()}
    assert registered == expected


@pytest.mark.parametrize(
    "argv",
    [["run", "--dry-run"], ["--help"], ["no-such-command"]],
    ids=["its-command", "help", "unknown-command"],
)
def test_a_broken_command_module_fails_loudly_instead_of_dropping_commands(
    argv: list[str],
) -> None:
    # A fresh interpreter where importing the converge commands raises, as a broken dependency
    # would: `nsshutdown run` (and the help, which lists every command) must fail, never come up
    # without `run`.
    script = textwrap.dedent(
        """
        import importlib.abc, sys

        class Broken(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name == "nsshutdown.cli.converge":
                    raise ImportError("simulated broken dependency")
                return None

        sys.meta_path.insert(0, Broken())
        from nsshutdown.cli.main import run_cli
        run_cli(sys.argv[1:])
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, *argv], capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0
    assert "simulated broken dependency" in proc.stderr


def test_offline_commands_never_load_the_kubernetes_client() -> None:
    # validate, plan --namespace and --help run in CI pipelines: the client is 0.2 s and 34 MiB
    script = (
        "import sys\n"
        "from nsshutdown.cli.main import run_cli\n"
        "code = run_cli(['validate', '--schedule', sys.argv[1]])\n"
        "assert code == 0, code\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('kubernetes', 'urllib3'))\n"
        "assert not loaded, loaded\n"
    )
    example = pathlib.Path(__file__).resolve().parents[2] / "examples" / "holidays.yaml"
    proc = subprocess.run(
        [sys.executable, "-c", script, str(example)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
