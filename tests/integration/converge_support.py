"""Helpers for the converge scenarios against the real API server.

Each test gets a :class:`World`: its own uniquely named namespaces, schedule files whose
``names`` list exactly those namespaces, and the real CLI (in-process, ``CliRunner``) pointed at
the harness cluster with ``--kubeconfig``. Runs see the whole cluster (lists are cluster-wide), so
assertions look at the test's own namespaces only, and on the way out every namespace of the test
is annotated ``nsshutdown.io/exclude: "true"`` so later tests' runs leave it alone.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from kubernetes import client
from typer.testing import CliRunner

from devtools import LocalCluster
from devtools.workloads import create_namespace
from nsshutdown import constants as c
from nsshutdown.cli.main import app

ALWAYS_DOWN_WINDOW = '{shutdown: "* * * * *", startup: "0 0 1 1 *"}'
PLURALS = {
    "Deployment": ("apps", "v1", "deployments"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
    "CronJob": ("batch", "v1", "cronjobs"),
    "ScaledObject": ("keda.sh", "v1alpha1", "scaledobjects"),
    "Rollout": ("argoproj.io", "v1alpha1", "rollouts"),
    "Job": ("batch", "v1", "jobs"),
    "CloneSet": ("apps.kruise.io", "v1alpha1", "clonesets"),  # tests/fixtures/crds/cloneset.yaml
}


@dataclass
class Result:
    code: int
    doc: Any  # the parsed --output json, or the raw stdout
    stderr: str

    @property
    def log_messages(self) -> list[str]:
        """The ``message`` of every JSON log line on stderr."""
        messages = []
        for line in self.stderr.splitlines():
            try:
                messages.append(str(json.loads(line)["message"]))
            except (ValueError, KeyError, TypeError):
                continue
        return messages

    def namespace(self, name: str) -> dict[str, Any]:
        return next(ns for ns in self.doc["namespaces"] if ns["namespace"] == name)

    def action(self, namespace: str, name: str) -> dict[str, Any]:
        return next(a for a in self.namespace(namespace)["actions"] if a["name"] == name)


class World:
    def __init__(self, cluster: LocalCluster, tmp_path: Path) -> None:
        self.cluster = cluster
        self.tmp_path = tmp_path
        self.api = cluster.api_client()
        self.namespaces: list[str] = []
        self.kubeconfig: Path = cluster.kubeconfig_path

    def __enter__(self) -> World:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for name in self.namespaces:
            self.annotate_namespace(name, {c.EXCLUDE: "true"})
        self.api.close()

    # --- setup ----------------------------------------------------------------------------------

    def namespace(self, labels: Mapping[str, str] | None = None) -> str:
        name = f"c-{uuid.uuid4().hex[:10]}"
        create_namespace(self.api, name, labels=labels)
        self.namespaces.append(name)
        return name

    def schedule(
        self,
        *,
        down: bool = True,
        names: Iterable[str] | None = None,
        grace: str = "0s",
        kinds: str = "[Deployment, StatefulSet, CronJob, ScaledObject, Rollout]",
        file: str = "schedule.yaml",
        extra: str = "",
    ) -> Path:
        """A schedule owning this test's namespaces: always down (an open window) or always up."""
        names = list(self.namespaces if names is None else names)
        when = f"windows: [{ALWAYS_DOWN_WINDOW}]" if down else 'holidays: ["2001-01-01"]'
        text = (
            f"version: 1\ndefaults: {{gracePeriod: {grace}}}\n{extra}schedules:\n"
            f"  - name: test\n    namespaces: {{names: {json.dumps(names)}}}\n"
            f"    kinds: {kinds}\n    {when}\n"
        )
        path = self.tmp_path / file
        path.write_text(text)
        return path

    def annotate_namespace(self, name: str, annotations: Mapping[str, str | None]) -> None:
        body = {"metadata": {"annotations": dict(annotations)}}
        client.CoreV1Api(self.api).patch_namespace(name, body)

    def namespace_annotations(self, name: str) -> dict[str, str]:
        ns = client.CoreV1Api(self.api).read_namespace(name)
        return dict(ns.metadata.annotations or {})

    def no_schedule(self) -> Path:
        path = self.tmp_path / "empty.yaml"
        path.write_text("version: 1\n")
        return path

    # --- acting ---------------------------------------------------------------------------------

    def cli(self, *args: str | Path, kubeconfig: Path | None = None, logs: bool = True) -> Result:
        argv = [str(a) for a in args]
        argv += ["--kubeconfig", str(kubeconfig or self.kubeconfig), "--output", "json"]
        argv += ["--log-format", "json"] if logs else []
        result = CliRunner().invoke(app, argv)
        try:
            doc = json.loads(result.stdout)
        except ValueError:
            doc = result.stdout
        return Result(result.exit_code, doc, result.stderr)

    # --- reading back ---------------------------------------------------------------------------

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        group, version, plural = PLURALS[kind]
        custom = client.CustomObjectsApi(self.api)
        obj = custom.get_namespaced_custom_object(group, version, namespace, plural, name)
        return dict(obj)  # type: ignore[arg-type]

    def patch(self, kind: str, namespace: str, name: str, body: Mapping[str, Any]) -> None:
        """A change by "someone else" (the admin user, another field manager)."""
        group, version, plural = PLURALS[kind]
        client.CustomObjectsApi(self.api).patch_namespaced_custom_object(
            group, version, namespace, plural, name, dict(body),
            field_manager="someone-else", _content_type="application/merge-patch+json",
        )  # fmt: skip

    def replicas(self, namespace: str, name: str, kind: str = "Deployment") -> int:
        return int(self.get(kind, namespace, name)["spec"]["replicas"])

    def annotations(self, namespace: str, name: str, kind: str = "Deployment") -> dict[str, str]:
        return dict(self.get(kind, namespace, name)["metadata"].get("annotations") or {})

    def ours(self, namespace: str, name: str, kind: str = "Deployment") -> dict[str, str]:
        """This tool's annotations on a workload."""
        annotations = self.annotations(namespace, name, kind)
        return {k: v for k, v in annotations.items() if k.startswith(c.PREFIX)}


class TcpProxy:
    """A loopback TCP forwarder to the API server that can be cut, like a server going away.

    TLS passes through untouched (the serving certificate is for 127.0.0.1, any port).
    """

    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            if self._stopped.is_set():
                downstream.close()
                return
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                downstream.close()
                continue
            with self._lock:
                self._sockets += [downstream, upstream]
            for src, dst in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=_pipe, args=(src, dst), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and reset every open one."""
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


def kubeconfig_via(cluster: LocalCluster, port: int, path: Path) -> Path:
    """A copy of the admin kubeconfig whose server is ``https://127.0.0.1:<port>``."""
    doc = yaml.safe_load(cluster.kubeconfig_path.read_text())
    doc["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{port}"
    path.write_text(yaml.safe_dump(doc))
    return path


# --- RBAC ---------------------------------------------------------------------------------------

_RESOURCES = (
    ("", ["namespaces"]),
    ("apps", ["deployments", "statefulsets"]),
    ("batch", ["cronjobs", "jobs"]),
    ("keda.sh", ["scaledobjects"]),
    ("argoproj.io", ["rollouts"]),
)


def _role(name: str, verbs: list[str], without: Iterable[str] = ()) -> client.V1ClusterRole:
    rules = [
        client.V1PolicyRule(
            api_groups=[group], resources=[r for r in resources if r not in without], verbs=verbs
        )
        for group, resources in _RESOURCES
    ]
    return client.V1ClusterRole(metadata=client.V1ObjectMeta(name=name), rules=rules)


def service_account_kubeconfig(
    world: World,
    name: str,
    *,
    patch_in: Iterable[str],
    cluster_wide_read: bool = True,
    without: Iterable[str] = (),
) -> Path:
    """A ServiceAccount that may patch only in ``patch_in``, and read everything cluster-wide
    (or, without ``cluster_wide_read``, read only in ``patch_in``: the namespaced mode), on every
    workload resource but those named in ``without``.

    Returns a kubeconfig with its token once the API server enforces the grants.
    """
    home = world.namespaces[0]
    rbac = client.RbacAuthorizationV1Api(world.api)
    subject = client.RbacV1Subject(kind="ServiceAccount", name=name, namespace=home)
    reader, writer = f"{home}-{name}-read", f"{home}-{name}-patch"
    without = list(without)
    rbac.create_cluster_role(_role(reader, ["get", "list"], without))
    rbac.create_cluster_role(_role(writer, ["get", "list", "patch"], without))
    if cluster_wide_read:
        rbac.create_cluster_role_binding(
            client.V1ClusterRoleBinding(
                metadata=client.V1ObjectMeta(name=reader),
                role_ref=_role_ref(reader),
                subjects=[subject],
            )
        )
    patch_in = list(patch_in)
    for namespace in patch_in:
        rbac.create_namespaced_role_binding(
            namespace,
            client.V1RoleBinding(
                metadata=client.V1ObjectMeta(name=writer),
                role_ref=_role_ref(writer),
                subjects=[subject],
            ),
        )
    user = f"system:serviceaccount:{home}:{name}"
    if cluster_wide_read:
        _wait_allowed(world, user, "list", None)
    for namespace in patch_in:
        _wait_allowed(world, user, "patch", namespace)
    token = world.cluster.create_service_account_token(home, name)
    return world.cluster.kubeconfig_for_token(token, world.tmp_path / f"{name}.kubeconfig")


def _role_ref(name: str) -> client.V1RoleRef:
    return client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=name)


def _wait_allowed(world: World, user: str, verb: str, namespace: str | None) -> None:
    auth = client.AuthorizationV1Api(world.api)
    review = client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(
            user=user,
            resource_attributes=client.V1ResourceAttributes(
                group="apps", resource="deployments", verb=verb, namespace=namespace
            ),
        )
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if auth.create_subject_access_review(review).status.allowed:
            return
        time.sleep(0.2)
    raise TimeoutError(f"RBAC never allowed {user} to {verb} deployments in {namespace}")
