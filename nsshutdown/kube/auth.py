"""Which credentials a run uses: ``--kubeconfig``/``--context``, else in-cluster, else default."""

from __future__ import annotations

import logging
from pathlib import Path

from kubernetes import config
from kubernetes.client import ApiClient, Configuration
from kubernetes.config.config_exception import ConfigException

from nsshutdown import __version__
from nsshutdown.errors import ClusterUnreachableError

logger = logging.getLogger(__name__)


def build_api_client(*, kubeconfig: Path | None, context: str | None, pool_size: int) -> ApiClient:
    """An ``ApiClient`` without urllib3's own retries (ours are the only ones) and a pool sized
    for the run's concurrency."""
    configuration = Configuration()
    _load(configuration, kubeconfig=kubeconfig, context=context)
    configuration.retries = False
    configuration.connection_pool_maxsize = pool_size
    api = ApiClient(configuration)
    api.user_agent = f"nsshutdown/{__version__}"
    return api


def _load(configuration: Configuration, *, kubeconfig: Path | None, context: str | None) -> None:
    try:
        if kubeconfig is not None or context is not None:
            config.load_kube_config(
                config_file=str(kubeconfig) if kubeconfig else None,
                context=context,
                client_configuration=configuration,
                persist_config=False,
            )  # type: ignore[no-untyped-call]
            return
        try:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            logger.debug("using in-cluster configuration")
        except ConfigException:
            config.load_kube_config(  # type: ignore[no-untyped-call]
                client_configuration=configuration, persist_config=False
            )
    except (ConfigException, OSError, ValueError, TypeError) as err:
        where = f" from {kubeconfig}" if kubeconfig else ""
        raise ClusterUnreachableError(f"cannot load cluster credentials{where}: {err}") from err
