"""Where a workload kind lives in the API: group, version and plural (the REST path)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

#: What a run does with every kind it scales: list them, re-read one after a 409, patch it.
WORKLOAD_VERBS = ("get", "list", "patch")


@dataclass(frozen=True)
class KindApi:
    """Every kind is addressed by group/version/plural, so one code path (raw JSON on the REST
    path) serves built-in kinds and CRDs alike. A CRD that is not installed answers
    404: the kind is not served, and is left out of the run.
    """

    group: str
    version: str
    plural: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def qualified(self) -> str:
        """``deployments.apps``: kubectl's and RBAC's spelling."""
        return f"{self.plural}.{self.group}"

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """The REST path of the kind (cluster-wide), of its objects in ``namespace``, or of one."""
        path = f"/apis/{self.group}/{self.version}"
        if namespace is not None:
            path += f"/namespaces/{quote(namespace, safe='')}"
        path += f"/{self.plural}"
        return path if name is None else f"{path}/{quote(name, safe='')}"
