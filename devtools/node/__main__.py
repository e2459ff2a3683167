"""Start the end-to-end node by hand and keep it up until Ctrl-C (root only).

    python -m devtools.node

Prints the command that runs kubectl inside the node. Everything is torn down on exit.
"""

from __future__ import annotations

import shlex
import signal
import sys
import tempfile
from pathlib import Path

from devtools.binaries import find_node_binaries
from devtools.node.images import build_node_images, save_archive
from devtools.node.node import LocalNode


def main() -> int:
    # Started in the background, a process may inherit SIGINT ignored: take it back.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    binaries = find_node_binaries(build=True)
    refs = build_node_images()
    with tempfile.TemporaryDirectory(prefix="nsshutdown-e2e-images-") as tmp:
        archive = save_archive(refs, Path(tmp) / "images.tar")
        with LocalNode(binaries=binaries, images_archive=archive) as node:
            for what, seconds in node.timings.items():
                print(f"{what:<30} {seconds:6.1f} s")
            kubectl = node.sandbox.command(
                [str(binaries.kubectl_required), f"--kubeconfig={node.layout.kubeconfig('admin')}"]
            )
            print(f"node up; kubectl inside it:\n  {shlex.join(kubectl)} get pods -A")
            print("Ctrl-C stops it.")
            try:
                signal.pause()
            except KeyboardInterrupt:
                print("stopping")
    return 0


if __name__ == "__main__":
    sys.exit(main())
