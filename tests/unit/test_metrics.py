"""build_registry: every metric's value and labels for a hand-built run, parsed back from text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from nsshutdown.errors import ExitCode
from nsshutdown.model import Kind
from nsshutdown.observe import metrics
from nsshutdown.observe.metrics import METRIC_NAMES, METRICS, build_registry, exit_code, push_report
from nsshutdown.observe.push_options import MetricsOptions
from nsshutdown.observe.savings import Prices
from nsshutdown.run.report import Outcome
from tests.reports import FINISHED, GIB, dev_a, report, scenario

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]
PER_NAMESPACE = (
    "nsshutdown_namespace_down",
    "nsshutdown_namespace_desired_down",
    "nsshutdown_replicas_held",
    "nsshutdown_cpu_cores_saved",
    "nsshutdown_memory_bytes_saved",
    "nsshutdown_estimated_hourly_savings",
)

#: The names and labels alert rules, dashboards and docs rely on (DESIGN.md, Metrics).
CONTRACT = {
    "nsshutdown_last_run_timestamp_seconds": (),
    "nsshutdown_last_success_timestamp_seconds": (),
    "nsshutdown_run_duration_seconds": (),
    "nsshutdown_namespaces": ("state",),
    "nsshutdown_namespace_down": ("namespace", "schedule"),
    "nsshutdown_namespace_desired_down": ("namespace", "schedule"),
    "nsshutdown_namespace_next_transition_timestamp_seconds": (
        "namespace",
        "schedule",
        "direction",
        "team",
    ),
    "nsshutdown_last_run_actions": ("action", "kind"),
    "nsshutdown_last_run_errors": (),
    "nsshutdown_replicas_held": ("namespace",),
    "nsshutdown_cpu_cores_saved": ("namespace",),
    "nsshutdown_memory_bytes_saved": ("namespace",),
    "nsshutdown_estimated_hourly_savings": ("namespace",),
    "nsshutdown_build_info": ("version",),
    "nsshutdown_circuit_breaker_open": (),
    "nsshutdown_last_run_api_requests": (),
    "nsshutdown_last_run_exit_code": (),
    "nsshutdown_last_run_dry_run": (),
}


def parse(registry: CollectorRegistry) -> Series:
    series: Series = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        assert family.type == "gauge", family.name
        for sample in family.samples:
            series[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return series


def value(series: Series, name: str, **labels: str) -> float:
    return series[(name, frozenset(labels.items()))]


def labelsets(series: Series, name: str) -> list[dict[str, str]]:
    return sorted(
        (dict(labels) for n, labels in series if n == name), key=lambda d: sorted(d.items())
    )


@pytest.fixture
def ok() -> Series:
    return parse(build_registry(scenario(), prices=Prices(), version="1.2.3"))


def test_the_spec_is_well_formed() -> None:
    assert len(METRIC_NAMES) == len(METRICS)
    assert {spec.name: spec.labels for spec in METRICS} == CONTRACT
    for spec in METRICS:
        assert re.fullmatch(r"nsshutdown_[a-z_]+", spec.name), spec.name
        assert not spec.name.endswith("_total"), "gauges only"
        assert spec.help
        if spec.unit in ("seconds", "bytes"):
            assert spec.name.endswith(f"_{spec.unit}") or f"_{spec.unit}_" in spec.name
    success_only = [s.name for s in METRICS if s.success_only]
    assert success_only == ["nsshutdown_last_success_timestamp_seconds"]


def test_every_spec_is_pushed_with_exactly_its_labels(ok: Series) -> None:
    by_name = {spec.name: set(spec.labels) for spec in METRICS}
    assert {name for name, _ in ok} == METRIC_NAMES
    for name, labels in ok:
        assert {key for key, _ in labels} == by_name[name], name


def test_run_level_metrics(ok: Series) -> None:
    assert value(ok, "nsshutdown_last_run_timestamp_seconds") == FINISHED.timestamp()
    assert value(ok, "nsshutdown_last_success_timestamp_seconds") == FINISHED.timestamp()
    assert value(ok, "nsshutdown_run_duration_seconds") == 2.5
    assert value(ok, "nsshutdown_last_run_errors") == 0
    assert value(ok, "nsshutdown_build_info", version="1.2.3") == 1
    assert value(ok, "nsshutdown_circuit_breaker_open") == 0
    assert value(ok, "nsshutdown_last_run_api_requests") == 42
    assert value(ok, "nsshutdown_last_run_exit_code") == 0
    assert value(ok, "nsshutdown_last_run_dry_run") == 0


def test_namespaces_by_state_has_every_state(ok: Series) -> None:
    states = {
        d["state"]: value(ok, "nsshutdown_namespaces", **d)
        for d in labelsets(ok, "nsshutdown_namespaces")
    }
    assert states == {"up": 2, "down": 1, "partial": 1, "excluded": 1, "failed": 0}


def test_namespace_down_and_desired_down_for_tracked_namespaces_only(ok: Series) -> None:
    down = {
        d["namespace"]: (d["schedule"], value(ok, "nsshutdown_namespace_down", **d))
        for d in labelsets(ok, "nsshutdown_namespace_down")
    }
    desired = {
        d["namespace"]: value(ok, "nsshutdown_namespace_desired_down", **d)
        for d in labelsets(ok, "nsshutdown_namespace_desired_down")
    }
    assert down == {"dev-a": ("nights", 1), "dev-b": ("nights", 1), "qa": ("nights", 0)}
    assert desired == {"dev-a": 1, "dev-b": 1, "qa": 0}


def test_actions_by_type_and_kind_with_zeros(ok: Series) -> None:
    actions = {
        (d["action"], d["kind"]): value(ok, "nsshutdown_last_run_actions", **d)
        for d in labelsets(ok, "nsshutdown_last_run_actions")
    }
    assert len(actions) == 3 * len(Kind)  # shutdown, restore, release x every kind
    nonzero = {key: n for key, n in actions.items() if n}
    assert nonzero == {
        ("shutdown", "Deployment"): 2,
        ("shutdown", "CronJob"): 1,
        ("restore", "Deployment"): 1,
    }


def test_savings_per_namespace(ok: Series) -> None:
    def per_ns(name: str) -> dict[str, float]:
        return {d["namespace"]: value(ok, name, **d) for d in labelsets(ok, name)}

    assert per_ns("nsshutdown_replicas_held") == {"dev-a": 3, "dev-b": 2, "qa": 0}
    assert per_ns("nsshutdown_cpu_cores_saved") == {"dev-a": 1.5, "dev-b": 0.5, "qa": 0}
    assert per_ns("nsshutdown_memory_bytes_saved") == {"dev-a": 3 * GIB, "dev-b": GIB, "qa": 0}
    hourly = per_ns("nsshutdown_estimated_hourly_savings")
    assert hourly["dev-a"] == pytest.approx(1.5 * 0.031611 + 3 * 0.004237)
    assert hourly["dev-b"] == pytest.approx(0.5 * 0.031611 + 1 * 0.004237)
    assert hourly["qa"] == 0


def test_prices_are_configurable() -> None:
    series = parse(build_registry(scenario(), prices=Prices(1.0, 0.5), version="x"))
    assert value(series, "nsshutdown_estimated_hourly_savings", namespace="dev-a") == 1.5 + 1.5


def test_a_failed_run_has_no_last_success_and_says_why() -> None:
    series = parse(build_registry(scenario(failed=True), prices=Prices(), version="1.2.3"))
    assert not [n for n, _ in series if n == "nsshutdown_last_success_timestamp_seconds"]
    assert value(series, "nsshutdown_last_run_timestamp_seconds") == FINISHED.timestamp()
    assert value(series, "nsshutdown_last_run_errors") == 1
    assert value(series, "nsshutdown_last_run_exit_code") == int(ExitCode.PARTIAL)
    assert value(series, "nsshutdown_namespaces", state="failed") == 1
    assert value(series, "nsshutdown_namespace_down", namespace="dev-c", schedule="nights") == 0
    assert (
        value(series, "nsshutdown_namespace_desired_down", namespace="dev-c", schedule="nights")
        == 1
    )
    assert value(series, "nsshutdown_replicas_held", namespace="dev-c") == 0


def test_circuit_breaker_and_dry_run_flags() -> None:
    series = parse(
        build_registry(
            report(dev_a(Outcome.DRY_RUN), dry_run="client", circuit_open=True),
            prices=Prices(),
            version="x",
        )
    )
    assert value(series, "nsshutdown_circuit_breaker_open") == 1
    assert value(series, "nsshutdown_last_run_dry_run") == 1
    assert value(series, "nsshutdown_last_run_exit_code") == 2
    # a dry run reports what it would have done and left
    assert value(series, "nsshutdown_last_run_actions", action="shutdown", kind="Deployment") == 1
    assert value(series, "nsshutdown_replicas_held", namespace="dev-a") == 3


@pytest.mark.parametrize("outcome", [Outcome.FAILED, Outcome.ROLLED_BACK, Outcome.NOT_ATTEMPTED])
def test_undone_actions_are_not_counted(outcome: Outcome) -> None:
    series = parse(build_registry(report(dev_a(outcome)), prices=Prices(), version="x"))
    assert value(series, "nsshutdown_last_run_actions", action="shutdown", kind="Deployment") == 0


def test_no_metric_name_is_ever_empty_when_a_namespace_is_tracked() -> None:
    """POST only replaces names it carries: an empty family would leave old series behind."""
    for run in (scenario(), scenario(failed=True), report(dev_a())):
        registry = build_registry(run, prices=Prices(), version="x")
        pushed = {name for name, _ in parse(registry)}
        expected = (
            METRIC_NAMES
            if run.succeeded
            else METRIC_NAMES - {"nsshutdown_last_success_timestamp_seconds"}
        )
        assert pushed == expected


def test_an_empty_run_has_no_per_namespace_series() -> None:
    series = parse(build_registry(report(), prices=Prices(), version="x"))
    assert not [n for n, _ in series if n in PER_NAMESPACE]
    assert value(series, "nsshutdown_namespaces", state="up") == 0


def test_build_registry_is_fresh_and_pure() -> None:
    run = scenario()
    first = generate_latest(build_registry(run, prices=Prices(), version="x"))
    second = generate_latest(build_registry(run, prices=Prices(), version="x"))
    assert first == second


@pytest.mark.parametrize(
    ("succeeded", "pushed", "strict", "expected"),
    [
        (True, True, True, ExitCode.OK),
        (True, False, False, ExitCode.OK),
        (True, False, True, ExitCode.PARTIAL),
        (False, True, False, ExitCode.PARTIAL),
        (False, False, True, ExitCode.PARTIAL),
    ],
)
def test_exit_code_with_strict_metrics(
    succeeded: bool, pushed: bool, strict: bool, expected: ExitCode
) -> None:
    run = scenario(failed=not succeeded)
    assert exit_code(run, pushed=pushed, strict=strict) is expected


def test_push_report_without_a_pushgateway_is_a_no_op(mocker: pytest.MockerFixture) -> None:
    push = mocker.patch.object(metrics, "push")
    assert push_report(scenario(), options=MetricsOptions(), version="x") is True
    push.assert_not_called()


@pytest.mark.parametrize(("failed", "replace"), [(False, True), (True, False)])
def test_push_report_replaces_the_group_only_after_success(
    mocker: pytest.MockerFixture, failed: bool, replace: bool
) -> None:
    push = mocker.patch.object(metrics, "push", return_value=True)
    options = MetricsOptions(url="http://pg:9091", grouping={"cluster": "prod"}, username="bob")
    env: Mapping[str, str] = {"NSSHUTDOWN_PUSHGATEWAY_PASSWORD": "from-env"}
    assert push_report(scenario(failed=failed), options=options, version="x", environ=env)
    kwargs = push.call_args.kwargs
    assert kwargs["replace"] is replace
    assert (kwargs["url"], kwargs["grouping"], kwargs["password"]) == (
        "http://pg:9091",
        {"cluster": "prod"},
        "from-env",
    )


def test_push_report_never_raises_on_a_bad_password_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    options = MetricsOptions(url="http://127.0.0.1:9", password_file=tmp_path / "missing")
    assert push_report(scenario(), options=options, version="x") is False
    assert "password file" in caplog.text


def test_push_report_never_raises_on_a_binary_password_file(tmp_path: Path) -> None:
    binary = tmp_path / "password"
    binary.write_bytes(b"\xff\xfe\x00")
    options = MetricsOptions(url="http://127.0.0.1:9", password_file=binary)
    assert push_report(scenario(), options=options, version="x") is False


def test_push_report_never_raises_when_building_fails(mocker: pytest.MockerFixture) -> None:
    mocker.patch.object(metrics, "build_registry", side_effect=RuntimeError("bug"))
    push = mocker.patch.object(metrics, "push")
    assert push_report(scenario(), options=MetricsOptions(url="http://pg"), version="x") is False
    push.assert_not_called()
