"""Every external tool comes from the project's own install steps, and everyone finds it there.

`make lint`, `make test` and `make demo` once called tools from the system PATH (a bare `hadolint`,
Debian's Pushgateway, promtool and amtool), so they failed on a fresh machine and passed only where
someone had installed those by hand. Now the Go tools are built by tools/go/build.sh and the
Haskell ones come as wheels; these checks keep the makefiles and the Python locator on that.
"""

from __future__ import annotations

import re
import subprocess
import sysconfig
from pathlib import Path

import pytest

from devtools import tools

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "tools" / "go" / "build.sh"
MAKEFILES = [ROOT / "Makefile", *sorted((ROOT / "mk").glob("*.mk"))]
WRAPPERS = sorted(p.parent for p in (ROOT / "tools" / "go").glob("*/go.mod"))


def _build(*args: str, cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cache or Path.home())}
    if cache is not None:
        env["NSSHUTDOWN_CACHE"] = str(cache)
    return subprocess.run(
        ["bash", str(BUILD), *args], capture_output=True, text=True, env=env, check=False
    )


def test_the_locator_knows_every_tool_the_project_installs() -> None:
    built = set(_build("--list").stdout.split())
    assert built == {"pushgateway", "promtool", "amtool", "alertmanager", "actionlint", "helm"}
    assert set(tools.OVERRIDES) == built | tools.VENV_TOOLS


@pytest.mark.parametrize("wrapper", WRAPPERS, ids=lambda p: p.name)
def test_each_wrapper_module_pins_a_version_and_has_its_go_sum(wrapper: Path) -> None:
    go_mod = (wrapper / "go.mod").read_text("utf-8")
    commands = re.findall(r"^\s*(?:tool\s+)?[\w.-]+(?:/[\w.-]+)+/([\w-]+)$", go_mod, re.MULTILINE)
    assert re.search(r"^tool\b", go_mod, re.MULTILINE), "no `tool` directive: nothing to build"
    assert (wrapper / "go.sum").is_file()
    path = Path(_build("--print-path", commands[0]).stdout.strip())
    assert path.parent.parent.name == "bin"
    directory = re.fullmatch(rf"{wrapper.name}-(v\d+\.\d+\.\d+)-[0-9a-f]{{12}}", path.parent.name)
    assert directory, f"{path.parent.name}: the directory must name the version and the go.sum hash"
    assert f" {directory[1]}" in go_mod


@pytest.mark.parametrize("makefile", MAKEFILES, ids=lambda p: p.name)
def test_no_recipe_runs_a_tool_from_the_system_path(makefile: Path) -> None:
    names = "|".join(tools.OVERRIDES)
    text = makefile.read_text("utf-8")
    assert not re.findall(rf"^\t[@-]*({names})\b", text, re.MULTILINE), "a bare command"
    default = rf"^\s*[A-Z_]+\s*[?:+]?=\s*({names})\s*$"
    assert not re.findall(default, text, re.MULTILINE), "a variable defaulting to a bare name"


def test_a_tool_not_built_yet_names_the_make_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NSSHUTDOWN_CACHE", str(tmp_path))
    monkeypatch.delenv("PUSHGATEWAY_BIN", raising=False)
    with pytest.raises(tools.ToolNotFoundError, match=r"run `make tools`.*PUSHGATEWAY_BIN"):
        tools.find_tool("pushgateway")
    assert _build("--print-path", "pushgateway", cache=tmp_path).returncode == 1


def test_an_override_wins_and_must_be_executable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "promtool"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("PROMTOOL", str(fake))
    with pytest.raises(tools.ToolNotFoundError, match=r"\$PROMTOOL=.* is not an executable"):
        tools.find_tool("promtool")
    fake.chmod(0o755)
    assert tools.find_tool("promtool") == fake


def test_the_venv_tools_are_the_wheels_next_to_this_interpreter() -> None:
    for name in tools.VENV_TOOLS:
        assert tools.venv_tool_path(name).parent == Path(sysconfig.get_path("scripts"))
