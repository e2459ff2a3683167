"""The docs' cluster examples, run on a real API server: each prints what its page shows.

A console block marked ``<!-- runnable cluster=SETUP [now=TIME] -->`` (see "Writing the
documentation") gets a fresh API server of its own, holding ``docs/examples-data/SETUP`` (a
kustomization, applied with ``kubectl apply -k``), so examples never see each other's namespaces or
those of other tests. Its commands then run in order, in a scratch directory holding copies of
``manifests/``, ``examples/`` and the setup's own files (a ``schedule.yaml``, say): ``nsshutdown``
with its clock fixed at ``TIME`` (``docs/_ext/nsshutdown_docs/fixed_clock.py``), ``kubectl`` with
the cluster's kubeconfig. Every command must exit 0 and print (on stdout) what the page shows;
``UPDATE_DOCS=1`` rewrites the pages from what runs instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import LocalCluster
from tests.integration.conftest import started_cluster
from tests.integration.manifest_support import find_kubectl

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

from nsshutdown_docs import pages  # noqa: E402 - the docs extension lives under docs/_ext

CLUSTER_BLOCKS = [block for block in pages.all_code_blocks() if block.tier == "cluster"]
FIXED_CLOCK = ROOT / "docs" / "_ext" / "nsshutdown_docs" / "fixed_clock.py"
SCRATCH = ("manifests", "examples")


@pytest.fixture
def fresh_cluster() -> Iterator[LocalCluster]:
    """An API server of the example's own (about 4 s to start)."""
    yield from started_cluster()


def _env(cluster: LocalCluster, home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NSSHUTDOWN_", "KUBERNETES_")) and key != "KUBECONFIG"
    }
    return env | {
        "HOME": str(home),
        "KUBECONFIG": str(cluster.kubeconfig_path),
        "COLUMNS": "120",
        "NO_COLOR": "1",
        "PYTHONPATH": str(ROOT),
    }


@pytest.mark.slow
@pytest.mark.parametrize("block", CLUSTER_BLOCKS, ids=lambda b: b.where)
def test_cluster_example_prints_what_the_docs_show(
    block: pages.CodeBlock, fresh_cluster: LocalCluster, tmp_path: Path
) -> None:
    kubectl = str(find_kubectl(fresh_cluster))
    env = _env(fresh_cluster, tmp_path)
    setup = pages.EXAMPLES_DATA / block.setup
    applied = subprocess.run(
        [kubectl, "apply", "-k", str(setup)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert applied.returncode == 0, f"{block.where}: setup {block.setup}:\n{applied.stderr}"
    scratch = tmp_path / "scratch"
    shutil.copytree(setup, scratch)
    for name in SCRATCH:
        shutil.copytree(ROOT / name, scratch / name)
    for index, command in enumerate(pages.console_commands(block)):
        program, *args = command.argv
        argv = (
            [sys.executable, str(FIXED_CLOCK), block.now, *args]
            if program == "nsshutdown"
            else [kubectl, *args]
        )
        result = subprocess.run(
            argv, cwd=scratch, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, (
            f"{command.where}: `{command.command}` exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
        problem = pages.check_output(command, index, result.stdout)
        assert problem is None, problem
