"""The test-wide guard (tests/conftest.py): no test can load the machine's own credentials."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException


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
