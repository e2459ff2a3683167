"""The end-to-end tier: the shipped image and manifests on a real node (``make e2e``, root only).

These tests take minutes and need root, so they run only when asked for by marker
(``pytest -m e2e``); any other selection, ``make test`` included, leaves them out. When the node
cannot start (not root, a binary or package missing) they skip locally, but FAIL under
``CI=true``: CI can never pass by silently skipping the tier that proves the shipped artifact.

The timings of the expensive steps (image builds, node start, the story's phases) are printed at
the end of the run.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.binaries import BinariesNotFoundError, find_node_binaries
from devtools.images import ImageBuildError
from devtools.node import KubectlError, LocalNode, NodeStartError, SandboxError
from devtools.node.images import build_node_images, save_archive
from tests.e2e.story_support import HERE, TIMINGS


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected, deselected = [], []
    wanted = "e2e" in (config.getoption("markexpr") or "").replace("not e2e", "")
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)
            if not wanted:
                deselected.append(item)
                continue
        selected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TIMINGS:
        return
    terminalreporter.section("end-to-end timings")
    for what, seconds in TIMINGS.items():
        terminalreporter.write_line(f"{what:<40} {seconds:8.1f} s")


def fail_or_skip(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the end-to-end tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def node_images() -> list[str]:
    if os.geteuid() != 0:
        fail_or_skip("the end-to-end node needs root")
    began = time.monotonic()
    try:
        refs = build_node_images()
    except ImageBuildError as exc:
        fail_or_skip(f"cannot build the node's images: {exc}")
    TIMINGS["images built (nsshutdown, add-ons)"] = time.monotonic() - began
    return refs


@pytest.fixture(scope="session")
def node(node_images: list[str]) -> Iterator[LocalNode]:
    try:
        binaries = find_node_binaries()
    except BinariesNotFoundError as exc:
        fail_or_skip(str(exc))
    with tempfile.TemporaryDirectory(prefix="nsshutdown-e2e-images-") as tmp:
        archive = save_archive(node_images, Path(tmp) / "images.tar")
        local = LocalNode(binaries=binaries, images_archive=archive)
        try:
            local.start()
        except (NodeStartError, SandboxError, KubectlError) as exc:
            fail_or_skip(f"the end-to-end node did not start: {exc}")
        try:
            for what, seconds in local.timings.items():
                TIMINGS[f"node: {what}"] = seconds
            yield local
        finally:
            local.stop()
