"""``nsshutdown check``: will a run work from here? A preflight for operators, read-only.

Checks, in order: the schedule is valid (file, or the ConfigMap once connected); the API server
answers (its version); who the credentials are (SelfSubjectReview, skipped where not served or
allowed); every permission a run needs (``nsshutdown.run.permissions``, one SelfSubjectAccessReview
each, per namespace with ``--scope-namespaces``); which workload kinds are served (a CRD that is
absent is information, not a failure); the Pushgateway answers ``/-/ready`` (``--pushgateway``).

Exit code (:func:`exit_code`): 1 when the schedule is invalid, else 3 when the API server cannot be
reached or refuses the credentials, else 2 when any other check fails, else 0.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import groupby
from typing import Protocol

from nsshutdown.errors import (
    ApiError,
    ClusterUnreachableError,
    ConfigError,
    ExitCode,
    NotFoundError,
)
from nsshutdown.model import Kind, WorkloadKind
from nsshutdown.observe.push_options import MetricsOptions
from nsshutdown.observe.pushgateway import read_password, ready
from nsshutdown.run.permissions import Permission, required
from nsshutdown.schedule.config import Schedule, load_schedule, load_schedule_text
from nsshutdown.session.sources import ScheduleSource, parse_configmap_ref


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - not a password
    FAIL = "fail"
    SKIP = "skip"
    INFO = "info"


@dataclass(frozen=True)
class CheckResult:
    check: str  # schedule, api, identity, permission, kind, pushgateway
    subject: str
    status: Status
    detail: str = ""
    missing: tuple[str, ...] = ()  # permissions: what is not allowed
    code: ExitCode = ExitCode.PARTIAL  # what a failure of this check means


class Preflight(Protocol):
    def server_version(self) -> str: ...
    def identity(self) -> str | None: ...
    def allowed(self, permission: Permission) -> tuple[bool, str]: ...
    def served_kinds(self, kinds: Collection[WorkloadKind]) -> frozenset[WorkloadKind]: ...
    def read_configmap(self, namespace: str, name: str, key: str) -> str: ...


@dataclass(frozen=True)
class CheckOptions:
    source: ScheduleSource
    scope: tuple[str, ...] = ()
    events: bool = False
    metrics: MetricsOptions = field(default_factory=MetricsOptions)


def exit_code(results: list[CheckResult]) -> ExitCode:
    failed = {r.code for r in results if r.status is Status.FAIL}
    order = (ExitCode.BAD_INPUT, ExitCode.UNREACHABLE, ExitCode.PARTIAL)
    return next((code for code in order if code in failed), ExitCode.OK)


def run_checks(options: CheckOptions, *, connect: Callable[[], Preflight]) -> list[CheckResult]:
    """Every check; an API server that stops answering skips the rest of the cluster checks."""
    result, schedule = _schedule_file(options.source)
    results = [result] if result is not None else []
    try:
        results += _cluster_checks(options, connect(), schedule)
    except (ClusterUnreachableError, ApiError) as err:  # ApiError: 5xx that outlasted the retries
        unreachable = ExitCode.UNREACHABLE
        results.append(CheckResult("api", "API server", Status.FAIL, str(err), code=unreachable))
        skipped = ["identity", "permission", "kind"]
        skipped = ["schedule", *skipped] if options.source.configmap else skipped
        results += [
            CheckResult(n, "", Status.SKIP, "the API server is unreachable") for n in skipped
        ]
    if options.metrics.url:
        results.append(_pushgateway(options.metrics))
    return results


def _schedule_file(source: ScheduleSource) -> tuple[CheckResult | None, Schedule | None]:
    path = source.file
    if path is not None:
        return _schedule_result(str(path), lambda: load_schedule(path))
    if source.configmap is None:
        skip = CheckResult(
            "schedule", "", Status.SKIP, "give --schedule or --configmap to check it"
        )
        return skip, None
    return None, None  # read from the cluster, with the cluster checks


def _schedule_result(
    subject: str, load: Callable[[], Schedule]
) -> tuple[CheckResult, Schedule | None]:
    try:
        schedule = load()
    except ConfigError as err:
        fail = CheckResult("schedule", subject, Status.FAIL, str(err), code=ExitCode.BAD_INPUT)
        return fail, None
    names = ", ".join(rule.name for rule in schedule.schedules) or "none"
    return CheckResult("schedule", subject, Status.PASS, f"valid; schedules: {names}"), schedule


def _cluster_checks(
    options: CheckOptions, cluster: Preflight, schedule: Schedule | None
) -> list[CheckResult]:
    version = cluster.server_version()
    results = [CheckResult("api", "API server", Status.PASS, f"reachable, Kubernetes {version}")]
    who = cluster.identity()
    results.append(
        CheckResult("identity", "credentials", Status.PASS, who)
        if who is not None
        else CheckResult("identity", "credentials", Status.SKIP, "SelfSubjectReview not available")
    )
    configmap = None
    if options.source.configmap is not None:
        namespace, name, key = parse_configmap_ref(options.source.configmap)
        configmap = (namespace, name)
        result, schedule = _configmap_schedule(cluster, namespace, name, key)
        results.append(result)
    # Custom kinds are known only from a schedule that loads; without one, the built-in kinds.
    custom = schedule.custom_kinds if schedule is not None else ()
    wanted = required(
        scope=options.scope, events=options.events, configmap=configmap, custom_kinds=custom
    )
    results += _permissions(cluster, wanted)
    kinds = (*Kind, *custom)
    served = cluster.served_kinds(kinds)
    for kind in kinds:
        if kind in served:
            results.append(CheckResult("kind", kind.value, Status.PASS, "served"))
        else:
            note = "not installed (no CRD): runs skip it"
            results.append(CheckResult("kind", kind.value, Status.INFO, note))
    return results


def _configmap_schedule(
    cluster: Preflight, namespace: str, name: str, key: str
) -> tuple[CheckResult, Schedule | None]:
    subject = f"configmap {namespace}/{name}:{key}"
    try:
        text = cluster.read_configmap(namespace, name, key)
    except NotFoundError as err:
        fail = CheckResult("schedule", subject, Status.FAIL, str(err), code=ExitCode.BAD_INPUT)
        return fail, None
    except ApiError as err:
        return CheckResult("schedule", subject, Status.FAIL, f"cannot read it: {err}"), None
    return _schedule_result(subject, lambda: load_schedule_text(text, source=subject))


def _permissions(cluster: Preflight, wanted: list[Permission]) -> list[CheckResult]:
    """One row per resource and place: its verbs, and the ones not allowed."""
    results = []
    for (need, namespace), group in groupby(wanted, key=lambda p: (p.need, p.namespace)):
        permissions = list(group)
        missing = tuple(str(p) for p in permissions if not cluster.allowed(p)[0])
        subject = need.qualified + (f" in {namespace}" if namespace else " (all namespaces)")
        verbs = ", ".join(p.verb for p in permissions)
        if missing:
            detail = f"missing: {', '.join(missing)} (needed for {need.why})"
            results.append(CheckResult("permission", subject, Status.FAIL, detail, missing))
        else:
            results.append(CheckResult("permission", subject, Status.PASS, f"{verbs}: allowed"))
    return results


def _pushgateway(metrics: MetricsOptions) -> CheckResult:
    url = str(metrics.url)
    try:
        password = read_password(metrics.password_file, os.environ)
    except (OSError, ValueError) as err:
        return CheckResult("pushgateway", url, Status.FAIL, f"cannot read the password: {err}")
    problem = ready(
        url, timeout=metrics.timeout, username=metrics.username, password=password,
        ca_file=metrics.ca_file, insecure=metrics.insecure,
    )  # fmt: skip
    if problem:
        return CheckResult("pushgateway", url, Status.FAIL, f"not ready: {problem}")
    return CheckResult("pushgateway", url, Status.PASS, "ready")
