"""Test-wide safety net: no test may ever load the kubeconfig (or in-cluster credentials) of the
machine it runs on, so no test can touch a real user's cluster.

Installed in ``pytest_configure``, before any test module is imported, so even a module that bound
``load_kube_config`` at import time gets the guarded one, and nsshutdown's own reader
(``nsshutdown.kube.credentials``) is guarded the same way. The integration harness keeps working:
it always passes an explicit ``config_file=`` it wrote under the system temp directory, and only
such files may be loaded. Anything else raises a ``ConfigException`` (what the client raises when
there is no configuration), so code under test reports "cannot reach the cluster" as it would.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from kubernetes import config as kube_config_pkg
from kubernetes.config import incluster_config, kube_config
from kubernetes.config.config_exception import ConfigException

from nsshutdown.kube import credentials as lean

settings.register_profile("nsshutdown", deadline=None, print_blob=True)
settings.load_profile("nsshutdown")

_TEMP = Path(tempfile.gettempdir()).resolve()
_GUARD = pytest.MonkeyPatch()


class RealKubeconfigForbiddenError(ConfigException):
    """A test tried to load credentials it did not create."""


def _only_temp_files(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        config_file = kwargs.get("config_file", args[0] if args else None)
        if config_file is None or not Path(config_file).resolve().is_relative_to(_TEMP):
            raise RealKubeconfigForbiddenError(
                f"tests may only load a kubeconfig they wrote under {_TEMP}, got {config_file!r}"
            )
        return original(*args, **kwargs)

    return guarded


def _no_incluster(*_args: Any, **_kwargs: Any) -> None:
    raise RealKubeconfigForbiddenError("tests may not load in-cluster credentials")


def _lean_only_temp_files(original: Callable[[Path], Any]) -> Callable[[Path], Any]:
    """nsshutdown's own kubeconfig reader: outside the temp dir, it leaves the file to the
    (guarded) client, which refuses it."""

    @functools.wraps(original)
    def guarded(path: Path) -> Any:
        if not Path(path).resolve().is_relative_to(_TEMP):
            raise lean.NotLeanError(f"tests may only load a kubeconfig under {_TEMP}")
        return original(path)

    return guarded


def _lean_in_cluster_only_in_temp(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def guarded(environ: Any, directory: Path) -> Any:
        if lean.HOST_ENV in environ and not Path(directory).resolve().is_relative_to(_TEMP):
            raise lean.NotLeanError("tests may not load in-cluster credentials")
        return original(environ, directory)

    return guarded


def pytest_configure(config: pytest.Config) -> None:
    _GUARD.setenv("KUBECONFIG", str(_TEMP / "nsshutdown-tests-have-no-kubeconfig"))
    _GUARD.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    for name in ("load_kube_config", "new_client_from_config"):
        guarded = _only_temp_files(getattr(kube_config, name))
        for module in (kube_config, kube_config_pkg):
            _GUARD.setattr(module, name, guarded)
    for module in (incluster_config, kube_config_pkg):
        _GUARD.setattr(module, "load_incluster_config", _no_incluster)
    _GUARD.setattr(lean, "load_kubeconfig", _lean_only_temp_files(lean.load_kubeconfig))
    _GUARD.setattr(lean, "in_cluster", _lean_in_cluster_only_in_temp(lean.in_cluster))


def pytest_unconfigure(config: pytest.Config) -> None:
    _GUARD.undo()


#: Each tier is a directory with a marker of the same name: `pytest -m cli`, `make test-cli`.
TIERS = ("unit", "cli", "static", "integration", "e2e")
_ROOT = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = item.path.relative_to(_ROOT).parts[0] if item.path.is_relative_to(_ROOT) else ""
        if tier in TIERS:
            item.add_marker(tier)
