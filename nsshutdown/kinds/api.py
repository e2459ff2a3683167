"""Where each workload kind lives in the API: group, version and plural (the REST path)."""

from __future__ import annotations

from dataclasses import dataclass

from nsshutdown.model import Kind


@dataclass(frozen=True)
class KindApi:
    group: str
    version: str
    plural: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"


#: Every kind is addressed by group/version/plural, so one code path (CustomObjectsApi, raw JSON)
#: serves built-in kinds and CRDs alike. A CRD that is not installed answers 404: kind not served.
KIND_APIS: dict[Kind, KindApi] = {
    Kind.DEPLOYMENT: KindApi("apps", "v1", "deployments"),
    Kind.STATEFULSET: KindApi("apps", "v1", "statefulsets"),
    Kind.CRONJOB: KindApi("batch", "v1", "cronjobs"),
    Kind.SCALEDOBJECT: KindApi("keda.sh", "v1alpha1", "scaledobjects"),
    Kind.ROLLOUT: KindApi("argoproj.io", "v1alpha1", "rollouts"),
}
