"""The test-wide guard (tests/conftest.py): no test can load the machine's own credentials."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from nsshutdown.errors import ClusterUnreachableError
from nsshutdown.kube import credentials


def test_the_default_kubeconfig_cannot_be_loaded() -> None:
    with pytest.raises(ConfigException, match="tests may only load"):
        config.load_kube_config()


def test_a_kubeconfig_outside_the_temp_dir_cannot_be_loaded() -> None:
    with pytest.raises(ConfigException, match="tests may only load"):
        config.new_client_from_config(config_file=str(Path.home() / ".kube" / "config"))


def test_in_cluster_credentials_cannot_be_loaded() -> None:
    with pytest.raises(ConfigException, match="in-cluster"):
        config.load_incluster_config()


def test_a_kubeconfig_the_test_wrote_loads(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(path), client_configuration=configuration)
    assert configuration.host == "https://127.0.0.1:1"


def test_our_own_reader_cannot_load_a_kubeconfig_outside_the_temp_dir() -> None:
    with pytest.raises(credentials.NotLeanError, match="tests may only load"):
        credentials.load_kubeconfig(Path.home() / ".kube" / "config")


def test_our_own_reader_cannot_load_in_cluster_credentials() -> None:
    environ = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    with pytest.raises(credentials.NotLeanError, match="in-cluster"):
        credentials.in_cluster(environ, credentials.SERVICE_ACCOUNT_DIR)


def test_connecting_without_credentials_reports_the_cluster_unreachable() -> None:
    with pytest.raises(ClusterUnreachableError, match="tests may only load"):
        credentials.open_endpoint(kubeconfig=None, context=None, pool_size=1)
