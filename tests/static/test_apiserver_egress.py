"""The API server egress rule keeps the endpoint ports in every shipped overlay.

NetworkPolicies are evaluated after the ``kubernetes`` Service's translation on most CNIs, so
the rule must allow the API server ENDPOINT's port: 443 on most managed control planes, 6443 on
kubeadm-style ones (and on the end-to-end node). A strategic merge patch replaces a policy's
``ports`` list whole, so an overlay that names only 443 silently cuts a kubeadm cluster's job off
its API server. The bridge CNI of the end-to-end node does not enforce policies, so this is
checked here, as files (docs/deploy/e2e.md says what is and is not tested).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
OVERLAYS = sorted(p.parent for p in (MANIFESTS / "overlays").glob("*/kustomization.yaml"))
ENDPOINT_PORTS = {("TCP", 443), ("TCP", 6443)}
POLICY = "nsshutdown-apiserver-egress"


def _policy(path: Path) -> dict[str, Any]:
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    (policy,) = [
        d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == POLICY
    ]
    return dict(policy)


def _ports(rule: dict[str, Any]) -> set[tuple[str, int]]:
    return {(p.get("protocol", "TCP"), int(p["port"])) for p in rule.get("ports") or []}


def test_base_allows_both_endpoint_ports() -> None:
    policy = _policy(MANIFESTS / "base" / "networkpolicy.yaml")
    assert [_ports(rule) for rule in policy["spec"]["egress"]] == [ENDPOINT_PORTS]


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_overlay_patch_keeps_both_endpoint_ports(overlay: Path) -> None:
    policy = _policy(overlay / "apiserver-egress-patch.yaml")
    rules = policy["spec"]["egress"]
    assert rules, f"{overlay.name}: the patch must keep an egress rule"
    for rule in rules:
        assert _ports(rule) >= ENDPOINT_PORTS, (
            f"{overlay.name}: the API server rule allows {sorted(_ports(rule))}; a cluster whose "
            "endpoint listens on 6443 (kubeadm) would be cut off"
        )


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_overlay_applies_its_egress_patch(overlay: Path) -> None:
    kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text(encoding="utf-8"))
    paths = [patch.get("path") for patch in kustomization.get("patches") or []]
    assert "apiserver-egress-patch.yaml" in paths
