"""What ``nsshutdown check`` asks the API server: version, identity, permissions, served kinds.

Every request goes through the cluster's :class:`~nsshutdown.kube.transport.Transport` (rate
limit, retries, counting). A request that gets no answer, or 401, means the API server cannot be
reached or refuses the credentials: :class:`~nsshutdown.errors.ClusterUnreachableError`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from urllib.parse import quote

from nsshutdown.errors import ApiError, ClusterUnreachableError, ForbiddenError, NotFoundError
from nsshutdown.kinds.registry import mechanism
from nsshutdown.kube.client import KubeCluster
from nsshutdown.model import WorkloadKind
from nsshutdown.run.permissions import Permission

_REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
_SUBJECT_REVIEWS = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
_WHOAMI = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


class KubePreflight:
    """``as_service_account`` (namespace, name): ask about that ServiceAccount, not ourselves.

    An admin then proves the CronJob's RBAC without its token: one SubjectAccessReview per
    permission (the admin needs ``create`` on ``subjectaccessreviews``).
    """

    def __init__(
        self, cluster: KubeCluster, *, as_service_account: tuple[str, str] | None = None
    ) -> None:
        self._cluster = cluster
        self._transport = cluster.transport
        self._subject = as_service_account

    def close(self) -> None:
        self._cluster.close()

    def _call(self, what: str, method: str, path: str, body: Any = None) -> Any:
        try:
            return self._transport.request(
                what, lambda: self._transport.send(method, path, body=body)
            )
        except ApiError as err:
            if err.status in (0, 401):
                hint = "cannot reach the API server" if err.status == 0 else "credentials refused"
                raise ClusterUnreachableError(f"{hint}: {err}") from err
            raise

    def server_version(self) -> str:
        """``v1.31.0``: GET /version (public to every client the server authenticates)."""
        try:
            doc = self._call("get /version", "GET", "/version")
        except ApiError as err:
            raise ClusterUnreachableError(f"the API server failed: {err}") from err
        return str(doc.get("gitVersion") or "unknown version")

    def identity(self) -> str | None:
        """Who the credentials are (SelfSubjectReview); ``None`` where not served or allowed."""
        if self._subject is not None:
            account, account_groups = _service_account(*self._subject)
            return f"{account} (asked about, groups: {', '.join(account_groups[:2])})"
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        try:
            doc = self._call("who am I", "POST", _WHOAMI, body)
        except (NotFoundError, ForbiddenError):
            return None
        user = (doc.get("status") or {}).get("userInfo") or {}
        groups = [g for g in user.get("groups") or () if g != "system:authenticated"]
        name = str(user.get("username") or "anonymous")
        return f"{name} (groups: {', '.join(groups)})" if groups else name

    def allowed(self, permission: Permission) -> tuple[bool, str]:
        """Whether the credentials may do ``permission`` (SelfSubjectAccessReview), and why."""
        attributes = {
            "verb": permission.verb,
            "group": permission.need.group,
            "resource": permission.need.resource,
            "namespace": permission.namespace,
            "name": permission.name,
        }
        spec: dict[str, Any] = {"resourceAttributes": {k: v for k, v in attributes.items() if v}}
        if self._subject is None:
            kind, path, who = "SelfSubjectAccessReview", _REVIEWS, "I"
        else:
            kind, path, who = "SubjectAccessReview", _SUBJECT_REVIEWS, "it"
            spec["user"], spec["groups"] = _service_account(*self._subject)
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": kind, "spec": spec}
        doc = self._call(f"can {who} {permission}", "POST", path, body)
        status = doc.get("status") or {}
        reason = str(status.get("reason") or status.get("evaluationError") or "")
        return bool(status.get("allowed")), reason

    def served_kinds(self, kinds: Collection[WorkloadKind]) -> frozenset[WorkloadKind]:
        """Which of ``kinds`` the API server serves (discovery; an absent CRD is not served)."""
        served = set()
        for kind in kinds:
            api = mechanism(kind).api
            try:
                doc = self._call(f"discover {api.api_version}", "GET", f"/apis/{api.api_version}")
            except NotFoundError:
                continue
            if any(r.get("name") == api.plural for r in doc.get("resources") or ()):
                served.add(kind)
        return frozenset(served)

    def read_configmap(self, namespace: str, name: str, key: str) -> str:
        """Like ``KubeCluster.read_configmap``, but a 403 or 404 stays what it is."""
        path = f"/api/v1/namespaces/{quote(namespace, safe='')}/configmaps/{quote(name, safe='')}"
        doc = self._call(f"read configmap {namespace}/{name}", "GET", path)
        data = doc.get("data") or {}
        if key not in data:
            keys = ", ".join(sorted(data)) or "none"
            raise NotFoundError(f"configmap {namespace}/{name} has no key {key!r} (keys: {keys})")
        return str(data[key])


def _service_account(namespace: str, name: str) -> tuple[str, list[str]]:
    """The user name and groups the API server gives a ServiceAccount's token."""
    groups = [
        "system:serviceaccounts",
        f"system:serviceaccounts:{namespace}",
        "system:authenticated",
    ]
    return f"system:serviceaccount:{namespace}:{name}", groups
