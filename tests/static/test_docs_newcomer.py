"""What a newcomer reads first is true: the make targets and what they do, the demo's options, and
the advice to copy an overlay with the base and components it builds on.

The copy itself is a runnable example in the getting-started page (built with ``kubectl kustomize``
from a scratch copy by ``test_docs_runnable.py``); this checks that the advice holds for every
overlay, and that the page still gives it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

from nsshutdown_docs import pages  # noqa: E402 - the docs extension lives under docs/_ext

from devtools import demo  # noqa: E402

MANIFESTS = ROOT / "manifests"
OVERLAYS = sorted(p.parent for p in (MANIFESTS / "overlays").glob("*/kustomization.yaml"))
#: What the getting-started page says to copy along with an overlay.
COPIED = (MANIFESTS / "base", MANIFESTS / "components")


def _text() -> str:
    return "\n".join(pages.page_text(p) for p in pages.sources())


def _make_targets() -> set[str]:
    makefiles = [ROOT / "Makefile", *sorted((ROOT / "mk").glob("*.mk"))]
    rule = re.compile(r"^([a-zA-Z][\w-]*(?:\s+[a-zA-Z][\w-]*)*)\s*:(?!=)", re.MULTILINE)
    return {
        target
        for path in makefiles
        for match in rule.finditer(path.read_text(encoding="utf-8"))
        for target in match[1].split()
    }


def test_every_make_target_the_docs_name_exists() -> None:
    named = set(re.findall(r"(?:`|\$ )make ([a-z][\w-]*)", _text()))
    assert named, "the docs name no make target"
    assert named <= _make_targets(), f"no such make target: {sorted(named - _make_targets())}"


def test_make_dev_is_described_as_creating_the_venv() -> None:
    lines = [line for line in _text().splitlines() if "$ make dev" in line]
    assert lines
    for line in lines:
        assert ".venv" in line, f"`make dev` creates .venv; the docs say: {line.strip()}"
    assert "current Python" not in _text()


def test_every_demo_option_the_docs_name_exists() -> None:
    paragraphs = [p for p in _text().split("\n\n") if "python -m devtools.demo" in p]
    shown = r"devtools\.demo((?: --[\w-]+)+)|`(--[\w-]+)`"  # after the command, or on their own
    flags = {f for p in paragraphs for m in re.findall(shown, p) for f in " ".join(m).split()}
    assert {"--plain", "--hold"} <= flags, "the docs name the demo's options"
    for flag in flags:
        try:
            demo._parse_args([flag])
        except SystemExit:
            pytest.fail(f"python -m devtools.demo has no {flag}")
    assert isinstance(demo._parse_args([]), argparse.Namespace)


def _references(kustomization: Path) -> list[str]:
    doc = yaml.safe_load(kustomization.read_text(encoding="utf-8")) or {}
    found = [*doc.get("resources", []), *doc.get("components", [])]
    found += [patch["path"] for patch in doc.get("patches", []) if "path" in patch]
    return [str(ref) for ref in found if "://" not in str(ref)]


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_an_overlay_needs_only_the_base_and_components_besides_itself(overlay: Path) -> None:
    for ref in _references(overlay / "kustomization.yaml"):
        target = (overlay / ref).resolve()
        inside = target.is_relative_to(overlay) or any(target.is_relative_to(c) for c in COPIED)
        assert inside, f"{overlay.name} refers to {ref}: copying base, components and it breaks"


def test_getting_started_copies_the_base_and_components_with_the_overlay() -> None:
    page = pages.DOCS / "getting-started.md"
    [copy] = [
        block
        for block in pages.code_blocks(page)
        if block.tier == "offline" and "cp -r" in block.text
    ]
    text = copy.text
    assert all(f"manifests/{c.name}" in text for c in COPIED), text
    assert "kubectl kustomize" in text, "the copy is built, so the test proves it works"
