"""The only package that imports the ``kubernetes`` client. See ``client.KubeCluster``.

Importing the package costs nothing: ``KubeCluster`` loads when first used, so commands that
never talk to a cluster (``validate``, ``plan --namespace``, ``--help``) load none of it. The
client itself (half a second and 20 MiB of imports) loads only for the credentials that
``credentials`` does not read itself (exec plugins, auth providers, proxies...): see ``auth``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nsshutdown.kube.client import KubeCluster
    from nsshutdown.kube.limits import Limits

__all__ = ["KubeCluster", "Limits"]

_LAZY = {"KubeCluster": "nsshutdown.kube.client", "Limits": "nsshutdown.kube.limits"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
