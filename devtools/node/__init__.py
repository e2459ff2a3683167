"""A real single-node Kubernetes cluster on this machine, for the end-to-end tests (root only).

See :mod:`devtools.node.node` for what runs and :mod:`devtools.node.sandbox` for how it is
contained and always torn down.
"""

from devtools.node.node import KubectlError, LocalNode, NodeStartError
from devtools.node.sandbox import SandboxError

__all__ = ["KubectlError", "LocalNode", "NodeStartError", "SandboxError"]
