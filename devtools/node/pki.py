"""Certificates for the end-to-end node: one CA, the API server's serving certificate, and one
client certificate per component, each with the identity a real cluster gives it.

Identities matter here: the controller-manager, scheduler and kube-proxy get the users that the
API server's bootstrap RBAC bindings name (``system:kube-controller-manager``, ...), and the
kubelet gets ``system:node:<name>`` in ``system:nodes`` so the Node authorizer and the
NodeRestriction admission plugin check it as they would on a real node.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = datetime.timedelta(days=2)
_PEM = serialization.Encoding.PEM


@dataclass(frozen=True)
class Credential:
    cert: Path
    key: Path


@dataclass(frozen=True)
class NodePKI:
    ca_cert: Path
    ca_key: Path
    apiserver: Credential
    sa_public_key: Path
    sa_private_key: Path
    clients: dict[str, Credential]


# component -> (user, group): the names the API server's bootstrap RBAC expects.
def client_identities(node_name: str) -> dict[str, tuple[str, str | None]]:
    return {
        "admin": ("admin", "system:masters"),
        "apiserver-kubelet-client": ("kube-apiserver-kubelet-client", "system:masters"),
        "kube-controller-manager": ("system:kube-controller-manager", None),
        "kube-scheduler": ("system:kube-scheduler", None),
        "kube-proxy": ("system:kube-proxy", None),
        "kubelet": (f"system:node:{node_name}", "system:nodes"),
    }


def _name(common_name: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(_PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)


class _Authority:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = _name("nsshutdown-e2e-ca")
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def issue(
        self,
        directory: Path,
        stem: str,
        subject: x509.Name,
        usage: x509.ObjectIdentifier,
        sans: list[x509.GeneralName] | None = None,
    ) -> Credential:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        credential = Credential(cert=directory / f"{stem}.crt", key=directory / f"{stem}.key")
        credential.cert.write_bytes(builder.sign(self.key, hashes.SHA256()).public_bytes(_PEM))
        _write_key(credential.key, key)
        return credential


def write_node_pki(
    directory: Path, *, node_name: str, node_ip: str, service_ip: str, cluster_domain: str
) -> NodePKI:
    """Generate every key and certificate of the node into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = _Authority()
    dns = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"]
    dns.append(f"kubernetes.default.svc.{cluster_domain}")
    sans: list[x509.GeneralName] = [x509.DNSName(name) for name in dns]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in (node_ip, service_ip, "127.0.0.1")]
    apiserver = ca.issue(
        directory, "apiserver", _name("kube-apiserver"), ExtendedKeyUsageOID.SERVER_AUTH, sans
    )
    clients = {
        component: ca.issue(
            directory, component, _name(user, group), ExtendedKeyUsageOID.CLIENT_AUTH
        )
        for component, (user, group) in client_identities(node_name).items()
    }
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pki = NodePKI(
        ca_cert=directory / "ca.crt",
        ca_key=directory / "ca.key",
        apiserver=apiserver,
        sa_public_key=directory / "sa.pub",
        sa_private_key=directory / "sa.key",
        clients=clients,
    )
    pki.ca_cert.write_bytes(ca.cert.public_bytes(_PEM))
    _write_key(pki.ca_key, ca.key)
    pki.sa_public_key.write_bytes(
        sa_key.public_key().public_bytes(_PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    _write_key(pki.sa_private_key, sa_key)
    return pki
