"""The package's layers, checked: building blocks never import behaviour, and nothing imports up.

Each top-level part of ``nsshutdown`` (a package, or one of the foundation modules) may import only
the parts listed for it in :data:`ALLOWED`. The list is the architecture page's table as code: a new
import that crosses a layer fails here, with the module and line that does it, before it becomes a
cycle. Imports inside ``if TYPE_CHECKING:`` count too: a type that must cross a layer is a sign the
type lives in the wrong place.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "nsshutdown"

#: The foundation: plain data, names and errors that every layer speaks.
FOUNDATION = frozenset({"constants", "errors", "model", "targets", "timeutil", "quantity"})
_PURE = FOUNDATION | {"schedule", "kinds"}

#: part -> the parts it may import (itself always allowed).
ALLOWED: dict[str, frozenset[str]] = {
    **dict.fromkeys(FOUNDATION, FOUNDATION),
    "schedule": FOUNDATION,
    "kinds": FOUNDATION,
    "plan": _PURE,
    "run": _PURE | {"plan"},
    "observe": _PURE | {"plan", "run"},
    "kube": _PURE | {"run"},
    "session": _PURE | {"plan", "run", "observe", "kube"},
    "views": _PURE | {"plan", "run", "observe", "session"},
    "cli": _PURE | {"plan", "run", "observe", "kube", "views", "session"},
    "__init__": frozenset(),
    "__main__": frozenset({"cli"}),
}

#: Third-party packages that only one part may import.
EXCLUSIVE = {"kubernetes": "kube", "typer": "cli", "click": "cli"}


def _part(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _module(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = _module(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*here[: len(here) - node.level + 1], *filter(None, [base])])
            # `from nsshutdown.kube import wire` imports a submodule, `from x import y` a name of
            # x: yield base.name and let the caller trim it to the nearest module
            yield from ((node.lineno, f"{base}.{alias.name}") for alias in node.names)


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _crossings() -> list[str]:
    problems: list[str] = []
    for path in _sources():
        part = _part(path)
        allowed = ALLOWED.get(part)
        if allowed is None:
            problems.append(f"{path.relative_to(PACKAGE.parent)}: part {part!r} is not in ALLOWED")
            continue
        for line, name in _imports(path):
            top, _, rest = name.partition(".")
            where = f"{path.relative_to(PACKAGE.parent)}:{line}"
            if top in EXCLUSIVE and EXCLUSIVE[top] != part:
                problems.append(f"{where}: only {EXCLUSIVE[top]}/ may import {top}")
            if top != "nsshutdown" or not rest:
                continue
            target = rest.split(".")[0]
            if target not in ALLOWED:
                continue  # a name imported from the package root (__version__)
            if target != part and target not in allowed:
                problems.append(f"{where}: {part} imports nsshutdown.{target} (not below {part})")
    return list(dict.fromkeys(problems))  # `from x import a, b` reports once


def test_no_import_crosses_a_layer() -> None:
    assert _crossings() == []


def test_every_part_is_placed() -> None:
    parts = {_part(path) for path in _sources()}
    assert parts <= set(ALLOWED), f"unplaced: {sorted(parts - set(ALLOWED))}"


def _graph() -> dict[str, set[str]]:
    modules = {_module(path): path for path in _sources()}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for _, imported in _imports(path):
            target = imported
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target not in (name, "nsshutdown"):
                graph[name].add(target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle (module names), or [] when there is none."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_no_import_cycles() -> None:
    assert _cycle(_graph()) == []


@pytest.mark.parametrize(
    ("graph", "has_cycle"),
    [
        pytest.param({"a": {"b"}, "b": set()}, False, id="chain"),
        pytest.param({"a": {"b"}, "b": {"a"}}, True, id="two-cycle"),
        pytest.param({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True, id="three-cycle"),
    ],
)
def test_cycle_finder(graph: dict[str, set[str]], has_cycle: bool) -> None:
    assert bool(_cycle(graph)) is has_cycle


def test_crossing_finder_sees_an_upward_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "nsshutdown"
    (fake / "schedule").mkdir(parents=True)
    (fake / "schedule" / "config.py").write_text("from nsshutdown.cli import app\nimport typer\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["_"]), "PACKAGE", fake)
    problems = _crossings()
    assert len(problems) == 2
    assert "schedule imports nsshutdown.cli (not below schedule)" in problems[0]
    assert "only cli/ may import typer" in problems[1]
