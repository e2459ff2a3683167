"""Credentials loaded by the Kubernetes client: whatever ``kube.credentials`` does not read itself.

Same order: ``--kubeconfig``/``--context``, else in-cluster, else the default kubeconfig. Only
imported when needed (the client costs half a second of start-up).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import urllib3
from kubernetes.client import ApiClient, Configuration
from kubernetes.config import incluster_config, kube_config
from kubernetes.config.config_exception import ConfigException

from nsshutdown import __version__
from nsshutdown.errors import ClusterUnreachableError
from nsshutdown.kube.connection import Endpoint

logger = logging.getLogger(__name__)

#: The loaders' annotations differ between client releases (typed in some, not in others).
_kube_config: Any = kube_config
_incluster_config: Any = incluster_config


class ApiClientEndpoint:
    """The client's ``ApiClient`` as an :class:`~nsshutdown.kube.connection.Endpoint`: its
    pool, its default headers and its credentials (asked each time: an exec plugin's token is
    refreshed there)."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.host = str(api.configuration.host).rstrip("/")
        self.pool = api.rest_client.pool_manager  # a proxy's too, when the kubeconfig sets one

    def request(
        self,
        method: str,
        target: str,
        *,
        body: bytes | None,
        headers: dict[str, str],
        timeout: urllib3.Timeout,
    ) -> urllib3.BaseHTTPResponse:
        return self.pool.request(
            method,
            self.host + target,
            body=body,
            headers=headers,
            timeout=timeout,
            preload_content=False,
        )

    def headers(self) -> dict[str, str]:
        headers = dict(self.api.default_headers)
        self.api.update_params_for_auth(headers, [], ["BearerToken"], "", "", None)
        return headers

    def close(self) -> None:
        self.api.close()  # type: ignore[no-untyped-call]


def api_client_endpoint(
    *, kubeconfig: Path | None, context: str | None, pool_size: int
) -> Endpoint:
    return ApiClientEndpoint(
        build_api_client(kubeconfig=kubeconfig, context=context, pool_size=pool_size)
    )


def build_api_client(*, kubeconfig: Path | None, context: str | None, pool_size: int) -> ApiClient:
    """An ``ApiClient`` without urllib3's own retries (ours are the only ones) and a pool sized
    for the run's concurrency."""
    configuration = Configuration()
    _load(configuration, kubeconfig=kubeconfig, context=context)
    configuration.retries = False
    configuration.connection_pool_maxsize = pool_size
    api = ApiClient(configuration)
    api.user_agent = f"nsshutdown/{__version__}"
    # Large lists compress ~30x (the API server gzips responses over 128 KiB when asked);
    # urllib3 decodes transparently.
    api.default_headers["Accept-Encoding"] = "gzip"
    return api


def _load(configuration: Configuration, *, kubeconfig: Path | None, context: str | None) -> None:
    try:
        if kubeconfig is not None or context is not None:
            _kube_config.load_kube_config(
                config_file=str(kubeconfig) if kubeconfig else None,
                context=context,
                client_configuration=configuration,
                persist_config=False,
            )
            return
        try:
            _incluster_config.load_incluster_config(client_configuration=configuration)
            logger.debug("using in-cluster configuration")
        except ConfigException:
            _kube_config.load_kube_config(client_configuration=configuration, persist_config=False)
    except (ConfigException, OSError, ValueError, TypeError) as err:
        where = f" from {kubeconfig}" if kubeconfig else ""
        raise ClusterUnreachableError(f"cannot load cluster credentials{where}: {err}") from err
