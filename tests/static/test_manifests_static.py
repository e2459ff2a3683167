"""Deployment artefacts checked as files, without a cluster or kustomize.

The CronJob carries every field a safe 5-minute job needs; the ClusterRoles grant nothing beyond
what a run needs (no Secrets, no delete, no create on workloads, no wildcards); the namespaced
overlay's three namespace lists agree; the Argo CD example ignores exactly the fields this tool
writes; the Dockerfile runs as the CronJob's UID. The RBAC rule checker is also run on a
known-bad role, so a checker that stopped catching anything fails here.
Proven against a real API server in tests/integration/test_manifests.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from nsshutdown import constants
from nsshutdown.kinds.registry import MECHANISMS
from nsshutdown.schedule.config import load_schedule_text

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
BASE = MANIFESTS / "base"
OVERLAYS = sorted(p.parent for p in (MANIFESTS / "overlays").glob("*/kustomization.yaml"))
SCHEDULES = sorted([BASE / "schedule.yaml", *(o / "schedule.yaml" for o in OVERLAYS)])

Doc = dict[str, Any]


def _docs(path: Path) -> list[Doc]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def _doc(path: Path, kind: str) -> Doc:
    found = [d for d in _docs(path) if d["kind"] == kind]
    assert len(found) == 1, f"{path.name}: expected one {kind}"
    return found[0]


@pytest.fixture(scope="module")
def cronjob() -> Doc:
    return _doc(BASE / "cronjob.yaml", "CronJob")


@pytest.fixture(scope="module")
def pod(cronjob: Doc) -> Doc:
    return dict(cronjob["spec"]["jobTemplate"]["spec"]["template"])


@pytest.fixture(scope="module")
def container(pod: Doc) -> Doc:
    containers = pod["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


# -- the CronJob --------------------------------------------------------------------------------


def test_cronjob_schedule_and_job_limits(cronjob: Doc) -> None:
    spec = cronjob["spec"]
    job = spec["jobTemplate"]["spec"]
    assert spec["schedule"] == "*/5 * * * *"
    assert spec["timeZone"] == "Etc/UTC"
    assert spec["concurrencyPolicy"] == "Forbid"
    period = 300
    # A late start is dropped and a hung run is stopped before the next slot.
    assert 0 < spec["startingDeadlineSeconds"] < period
    assert 0 < job["activeDeadlineSeconds"] < period
    assert 0 <= job["backoffLimit"] <= 2
    assert spec["successfulJobsHistoryLimit"] >= 1
    assert spec["failedJobsHistoryLimit"] >= 1
    assert job["ttlSecondsAfterFinished"] > 0


def test_pod_is_hardened(pod: Doc, container: Doc) -> None:
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never"
    assert pod["metadata"]["annotations"][constants.KARPENTER_DO_NOT_DISRUPT] == "true"
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == 65532
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security.get("privileged", False) is False
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]


def test_resources_have_requests_and_limits(container: Doc) -> None:
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][bound]), bound


def test_token_is_mounted_in_the_job_pod_only(pod: Doc) -> None:
    service_account = _doc(BASE / "serviceaccount.yaml", "ServiceAccount")
    assert service_account["automountServiceAccountToken"] is False
    assert pod["spec"]["automountServiceAccountToken"] is True
    assert pod["spec"]["serviceAccountName"] == service_account["metadata"]["name"]


def test_pod_namespace_comes_from_the_downward_api(container: Doc) -> None:
    env = {e["name"]: e for e in container["env"]}
    source = env[constants.POD_NAMESPACE_ENV]["valueFrom"]["fieldRef"]["fieldPath"]
    assert source == "metadata.namespace"


def test_args_read_the_generated_configmap_the_role_allows(container: Doc) -> None:
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    generator = kustomization["configMapGenerator"][0]
    assert generator["options"]["disableNameSuffixHash"] is True
    key = Path(generator["files"][0]).name
    role = _doc(BASE / "role.yaml", "Role")
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": [generator["name"]],
            "verbs": ["get"],
        }
    ]
    args = container["args"]
    assert args[0] == "run"
    assert f"--configmap=$(POD_NAMESPACE)/{generator['name']}:{key}" in args
    assert "--events" in args
    assert "--log-format=json" in args


def test_image_is_pinned_by_tag() -> None:
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    (image,) = kustomization["images"]
    assert image["name"] == "ghcr.io/nsshutdown/nsshutdown"
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[\w.]+)?", image["newTag"])


# -- RBAC ---------------------------------------------------------------------------------------

#: What the kind registry scales: the only resources a run may patch besides Events.
WORKLOADS = {(m.api.group, m.api.plural) for m in MECHANISMS.values()}
MAY_CREATE = {
    ("", "events"),
    ("events.k8s.io", "events"),
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
}
NEVER = {"delete", "deletecollection", "escalate", "bind", "impersonate", "update", "watch"}


def rbac_problems(rules: list[Doc], *, may_patch: set[tuple[str, str]]) -> list[str]:
    """Every way ``rules`` grant more than a run of nsshutdown needs."""
    problems = []
    for rule in rules:
        verbs = set(rule.get("verbs", []))
        if rule.get("nonResourceURLs"):
            problems.append(f"non-resource URLs {rule['nonResourceURLs']}")
        for group in rule.get("apiGroups", []):
            for resource in rule.get("resources", []):
                what = f"{group or 'core'}/{resource}"
                if "*" in (group, resource) or "*" in verbs:
                    problems.append(f"wildcard in {what} {sorted(verbs)}")
                if resource.split("/")[0] == "secrets":
                    problems.append(f"{what}: any access to Secrets")
                if "/" in resource:
                    problems.append(f"{what}: subresource")
                if verbs & NEVER:
                    problems.append(f"{what}: {sorted(verbs & NEVER)}")
                if "create" in verbs and (group, resource) not in MAY_CREATE:
                    problems.append(f"{what}: create")
                if "patch" in verbs and (group, resource) not in may_patch:
                    problems.append(f"{what}: patch")
    return problems


JOB_MAY_PATCH = WORKLOADS | {("", "events"), ("events.k8s.io", "events")}


def test_job_clusterrole_grants_only_what_a_run_needs() -> None:
    rules = _doc(BASE / "clusterrole.yaml", "ClusterRole")["rules"]
    assert rbac_problems(rules, may_patch=JOB_MAY_PATCH) == []
    granted = {(g, r) for rule in rules for g in rule["apiGroups"] for r in rule["resources"]}
    assert granted >= WORKLOADS
    assert ("", "namespaces") in granted


def test_operator_clusterrole_adds_only_namespace_patch() -> None:
    path = MANIFESTS / "components" / "operator" / "clusterrole.yaml"
    rules = _doc(path, "ClusterRole")["rules"]
    may_patch = JOB_MAY_PATCH | {("", "namespaces")}
    assert rbac_problems(rules, may_patch=may_patch) == []


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}, "Secrets"),
        ({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["delete"]}, "delete"),
        ({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create"]}, "create"),
        ({"apiGroups": ["*"], "resources": ["deployments"], "verbs": ["get"]}, "wildcard"),
        ({"apiGroups": ["apps"], "resources": ["*"], "verbs": ["get"]}, "wildcard"),
        ({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}, "wildcard"),
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["patch"]}, "patch"),
        ({"apiGroups": [""], "resources": ["namespaces"], "verbs": ["patch"]}, "patch"),
        ({"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["patch"]}, "sub"),
        (
            {
                "apiGroups": ["rbac.authorization.k8s.io"],
                "resources": ["clusterroles"],
                "verbs": ["escalate"],
            },
            "escalate",
        ),
        ({"nonResourceURLs": ["/metrics"], "verbs": ["get"]}, "non-resource"),
    ],
)
def test_rbac_checker_catches_a_bad_rule(rule: Doc, expected: str) -> None:
    problems = rbac_problems([rule], may_patch=JOB_MAY_PATCH)
    assert any(expected in p for p in problems), problems


def test_base_binds_the_job_clusterrole_to_its_service_account() -> None:
    binding = _doc(BASE / "clusterrolebinding.yaml", "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == "nsshutdown"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "nsshutdown", "namespace": "nsshutdown"}
    ]


# -- the namespace and its NetworkPolicies ------------------------------------------------------


def test_namespace_enforces_restricted() -> None:
    labels = _doc(BASE / "namespace.yaml", "Namespace")["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


def _ports(rule: Doc) -> set[tuple[str, int]]:
    return {(p["protocol"], p["port"]) for p in rule["ports"]}


def test_network_policies_allow_dns_pushgateway_and_apiserver_only(pod: Doc) -> None:
    policies = {p["metadata"]["name"]: p["spec"] for p in _docs(BASE / "networkpolicy.yaml")}
    main, apiserver = policies["nsshutdown"], policies["nsshutdown-apiserver-egress"]
    pod_labels = pod["metadata"]["labels"] | {"app.kubernetes.io/name": "nsshutdown"}
    for spec in (main, apiserver):
        assert spec["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert main["policyTypes"] == ["Ingress", "Egress"]
    assert main["ingress"] == []
    dns, pushgateway = main["egress"]
    assert _ports(dns) == {("UDP", 53), ("TCP", 53)}
    assert _ports(pushgateway) == {("TCP", 9091)}
    (api,) = apiserver["egress"]
    assert _ports(api) == {("TCP", 443), ("TCP", 6443)}
    assert api["to"] == [{"ipBlock": {"cidr": "192.0.2.0/24"}}]  # documented placeholder


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_overlay_replaces_the_apiserver_placeholder(overlay: Path) -> None:
    patch = _doc(overlay / "apiserver-egress-patch.yaml", "NetworkPolicy")
    cidrs = [to["ipBlock"]["cidr"] for rule in patch["spec"]["egress"] for to in rule["to"]]
    assert cidrs
    assert "192.0.2.0/24" not in cidrs


# -- schedules and overlays ---------------------------------------------------------------------


@pytest.mark.parametrize("path", SCHEDULES, ids=lambda p: str(p.relative_to(MANIFESTS)))
def test_shipped_schedules_are_valid(path: Path) -> None:
    schedule = load_schedule_text(path.read_text(encoding="utf-8"), source=str(path))
    assert schedule.schedules


def test_namespaced_overlay_lists_agree() -> None:
    overlay = MANIFESTS / "overlays" / "namespaced"
    bindings = {d["metadata"]["namespace"] for d in _docs(overlay / "rolebindings.yaml")}
    (op,) = yaml.safe_load((overlay / "cronjob-patch.yaml").read_text())
    flag, scope = op["value"].split("=", 1)
    assert flag == "--scope-namespaces"
    schedule = yaml.safe_load((overlay / "schedule.yaml").read_text())
    named = {n for rule in schedule["schedules"] for n in rule["namespaces"]["names"]}
    assert bindings == set(scope.split(",")) == named
    kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    deleted = _doc(overlay / "delete-clusterrolebinding.yaml", "ClusterRoleBinding")
    assert deleted["$patch"] == "delete"
    assert "delete-clusterrolebinding.yaml" in [p["path"] for p in kustomization["patches"]]


# -- Argo CD ------------------------------------------------------------------------------------


def _pointer(annotation: str) -> str:
    escaped = annotation.replace("~", "~0").replace("/", "~1")
    return f"/metadata/annotations/{escaped}"


def test_argocd_example_ignores_every_field_nsshutdown_writes() -> None:
    app = _doc(MANIFESTS / "argocd" / "example-app-ignore-differences.yaml", "Application")
    assert "RespectIgnoreDifferences=true" in app["spec"]["syncPolicy"]["syncOptions"]
    rules = {(r["group"], r["kind"]): r for r in app["spec"]["ignoreDifferences"]}
    written = {
        ("apps", "Deployment"): ["/spec/replicas", constants.ORIGINAL_REPLICAS],
        ("apps", "StatefulSet"): ["/spec/replicas", constants.ORIGINAL_REPLICAS],
        ("argoproj.io", "Rollout"): ["/spec/replicas", constants.ORIGINAL_REPLICAS],
        ("batch", "CronJob"): ["/spec/suspend", constants.ORIGINAL_SUSPEND],
        ("keda.sh", "ScaledObject"): [
            constants.KEDA_PAUSED_REPLICAS,
            constants.ORIGINAL_PAUSED_REPLICAS,
        ],
    }
    assert set(rules) == set(written)
    for kind, fields in written.items():
        rule = rules[kind]
        assert rule["managedFieldsManagers"] == [constants.FIELD_MANAGER]
        wanted = [f if f.startswith("/") else _pointer(f) for f in fields]
        wanted += [_pointer(constants.SHUTDOWN_AT), _pointer(constants.SHUTDOWN_BY)]
        assert sorted(rule["jsonPointers"]) == sorted(wanted), kind


def test_argocd_application_syncs_automatically_with_retry() -> None:
    app = _doc(MANIFESTS / "argocd" / "application.yaml", "Application")
    appset = _doc(MANIFESTS / "argocd" / "applicationset.yaml", "ApplicationSet")
    assert "clusters" in appset["spec"]["generators"][0]
    for policy in (app["spec"]["syncPolicy"], appset["spec"]["template"]["spec"]["syncPolicy"]):
        assert policy["automated"] == {"prune": True, "selfHeal": True}
        assert policy["retry"]["limit"] > 0
        assert set(policy["retry"]["backoff"]) == {"duration", "factor", "maxDuration"}


def test_argocd_sync_windows_deny() -> None:
    project = _doc(MANIFESTS / "argocd" / "example-appproject-sync-windows.yaml", "AppProject")
    windows = project["spec"]["syncWindows"]
    assert windows
    assert {w["kind"] for w in windows} == {"deny"}


# -- Dockerfile ---------------------------------------------------------------------------------


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            word, _, rest = stripped.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def test_dockerfile_final_stage(container: Doc) -> None:
    instructions = _instructions(ROOT / "Dockerfile")
    froms = [args for word, args in instructions if word == "FROM"]
    assert len(froms) >= 2, "multi-stage"
    assert {f.split()[0] for f in froms} == {"${PYTHON_IMAGE}"}
    (default,) = [args for word, args in instructions if args.startswith("PYTHON_IMAGE=")]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11\.\d+-slim-\w+", default)
    final = dict(_final_stage(instructions))
    assert final["USER"].split(":")[0] == str(container["securityContext"]["runAsUser"])
    assert final["ENTRYPOINT"] == '["nsshutdown"]'
    assert "HEALTHCHECK" not in {word for word, _ in instructions}
    assert "PYTHONDONTWRITEBYTECODE=1" in final["ENV"]
    assert "PYTHONUNBUFFERED=1" in final["ENV"]
    assert "RUN" not in final, "the final stage installs nothing"


def test_dockerfile_installs_the_project_from_pyproject() -> None:
    runs = " ".join(args for word, args in _instructions(ROOT / "Dockerfile") if word == "RUN")
    assert re.search(r"pip install --no-cache-dir \.(\s|$)", runs)


def test_dockerignore_denies_by_default() -> None:
    lines = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "*"
    assert "!pyproject.toml" in lines
    assert "!nsshutdown/" in lines


# -- the CLI the manifests drive ----------------------------------------------------------------

#: Flags the manifests use that the CLI is still gaining (tracked in the deployment issue); the
#: integration tests that run the CronJob's arguments skip until they exist. None left.
PENDING_FLAGS: set[str] = set()


def _run_options() -> set[str]:
    import typer

    from nsshutdown.cli.main import app

    command = typer.main.get_command(app)
    run = command.commands["run"]  # type: ignore[attr-defined]
    return {opt for param in run.params for opt in (*param.opts, *param.secondary_opts)}


@pytest.mark.parametrize(
    "args_source",
    [BASE / "cronjob.yaml", MANIFESTS / "overlays" / "namespaced" / "cronjob-patch.yaml"],
    ids=["base", "namespaced"],
)
def test_cronjob_flags_exist_in_the_cli(args_source: Path) -> None:
    docs = yaml.safe_load(args_source.read_text())
    if isinstance(docs, list):  # a JSON patch appending to args
        args = [op["value"] for op in docs]
    else:
        spec = docs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        args = spec["containers"][0]["args"]
    flags = {a.split("=", 1)[0] for a in args if a.startswith("--")}
    assert flags
    assert not sorted(flags - _run_options() - PENDING_FLAGS)
