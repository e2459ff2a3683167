"""Metrics against a real Pushgateway (`make tools`): what a scrape sees after each run.

Proves the stale-series handling of ``nsshutdown.observe.metrics``: a successful run replaces the
group, a failed one keeps the previous success time, and nothing a run no longer reports
survives it.
"""

from __future__ import annotations

import base64
import io
import logging
import socket
import ssl
import time
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from devtools import LocalPushgateway, _proc
from devtools.certs import write_pki
from devtools.pushgateway import find_pushgateway
from nsshutdown.model import Kind
from nsshutdown.observe import logs
from nsshutdown.observe.logs import LogFormat, LogLevel
from nsshutdown.observe.metrics import METRIC_NAMES, build_registry, exit_code, push_report
from nsshutdown.observe.push_options import MetricsOptions
from nsshutdown.observe.savings import Prices
from nsshutdown.run.report import RunReport
from tests.reports import FINISHED, dev_a, dev_c_failed, namespace, report, scenario

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]
GROUP = {"job": "nsshutdown", "cluster": "it", "instance": ""}
PER_NAMESPACE = (
    "nsshutdown_namespace_down",
    "nsshutdown_namespace_desired_down",
    "nsshutdown_replicas_held",
    "nsshutdown_cpu_cores_saved",
    "nsshutdown_memory_bytes_saved",
    "nsshutdown_estimated_hourly_savings",
)
LAST_SUCCESS = "nsshutdown_last_success_timestamp_seconds"
PASSWORD = "pushgateway-Pa55-word"


def parse(text: str) -> Series:
    """Our series only (the gateway exposes its own too), keyed by name and labels."""
    series: Series = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in METRIC_NAMES:
                series[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return series


def expected(run: RunReport) -> Series:
    """What the gateway must expose for ``run``: our registry plus the group's labels."""
    local = parse(generate_latest(build_registry(run, prices=Prices(), version="1.2.3")).decode())
    return {(name, labels | frozenset(GROUP.items())): v for (name, labels), v in local.items()}


def namespaces_in(series: Series, name: str) -> set[str]:
    return {dict(labels)["namespace"] for n, labels in series if n == name}


def value(series: Series, name: str, **labels: str) -> float:
    return series[(name, frozenset((GROUP | labels).items()))]


@pytest.fixture
def gateway(pushgateway: LocalPushgateway) -> LocalPushgateway:
    pushgateway.wipe()
    return pushgateway


def push(gateway: LocalPushgateway, run: RunReport, **options: object) -> bool:
    opts = MetricsOptions(url=gateway.url, grouping={"cluster": "it"})
    return push_report(run, options=replace(opts, **options), version="1.2.3")  # type: ignore[arg-type]


def scrape(gateway: LocalPushgateway) -> Series:
    return parse(gateway.metrics_text())


def later(run: RunReport, minutes: int) -> RunReport:
    shift = timedelta(minutes=minutes)
    return replace(run, started=run.started + shift, finished=run.finished + shift)


def test_a_successful_run_is_scraped_with_every_value_and_label(gateway: LocalPushgateway) -> None:
    run = scenario()
    assert push(gateway, run) is True
    seen = scrape(gateway)
    assert seen == expected(run)
    assert value(seen, LAST_SUCCESS) == FINISHED.timestamp()
    assert value(seen, "nsshutdown_last_run_exit_code") == 0
    assert value(seen, "nsshutdown_build_info", version="1.2.3") == 1
    assert value(seen, "nsshutdown_namespaces", state="partial") == 1
    assert value(seen, "nsshutdown_namespace_down", namespace="dev-a", schedule="nights") == 1
    assert value(seen, "nsshutdown_namespace_desired_down", namespace="qa", schedule="nights") == 0
    assert value(seen, "nsshutdown_last_run_actions", action="shutdown", kind="CronJob") == 1
    assert value(seen, "nsshutdown_replicas_held", namespace="dev-a") == 3
    assert value(seen, "nsshutdown_cpu_cores_saved", namespace="dev-a") == 1.5
    assert value(seen, "nsshutdown_memory_bytes_saved", namespace="dev-a") == 3 * 1024**3
    assert value(seen, "nsshutdown_estimated_hourly_savings", namespace="dev-a") == pytest.approx(
        1.5 * 0.031611 + 3 * 0.004237
    )


def test_a_failed_run_keeps_the_previous_success_time(gateway: LocalPushgateway) -> None:
    good = scenario()
    assert push(gateway, good) is True
    failed = later(scenario(failed=True), minutes=5)
    assert push(gateway, failed) is True
    seen = scrape(gateway)
    assert value(seen, LAST_SUCCESS) == good.finished.timestamp()
    assert value(seen, "nsshutdown_last_run_timestamp_seconds") == failed.finished.timestamp()
    assert value(seen, "nsshutdown_last_run_exit_code") == 2
    assert value(seen, "nsshutdown_last_run_errors") == 1
    assert value(seen, "nsshutdown_namespaces", state="failed") == 1
    # everything but the success time is the failed run's
    assert {k: v for k, v in seen.items() if k[0] != LAST_SUCCESS} == expected(failed)
    # and the next success moves it on
    fixed = later(scenario(), minutes=10)
    assert push(gateway, fixed) is True
    assert value(scrape(gateway), LAST_SUCCESS) == fixed.finished.timestamp()


def test_a_namespace_gone_from_a_run_is_gone_from_the_gateway(gateway: LocalPushgateway) -> None:
    assert push(gateway, scenario()) is True
    assert namespaces_in(scrape(gateway), "nsshutdown_replicas_held") == {"dev-a", "dev-b", "qa"}
    assert push(gateway, later(report(dev_a()), minutes=5)) is True
    seen = scrape(gateway)
    for name in PER_NAMESPACE:
        assert namespaces_in(seen, name) == {"dev-a"}, name


def test_a_failed_run_drops_gone_namespaces_and_stale_action_counts(
    gateway: LocalPushgateway,
) -> None:
    assert push(gateway, scenario()) is True
    failed = later(report(dev_c_failed()), minutes=5)
    assert not failed.succeeded
    assert push(gateway, failed) is True
    seen = scrape(gateway)
    for name in PER_NAMESPACE:
        assert namespaces_in(seen, name) == {"dev-c"}, name
    actions = [v for (n, _), v in seen.items() if n == "nsshutdown_last_run_actions"]
    assert len(actions) == 3 * len(Kind)  # shutdown, restore, release x every built-in kind
    assert set(actions) == {0}


def test_when_no_namespace_is_tracked_any_more_no_series_is_left(
    gateway: LocalPushgateway,
) -> None:
    assert push(gateway, scenario()) is True
    untracked = report(namespace("team-x", schedule=None))
    assert push(gateway, later(untracked, minutes=5)) is True
    seen = scrape(gateway)
    assert not [name for name, _ in seen if name in PER_NAMESPACE]
    assert value(seen, "nsshutdown_namespaces", state="up") == 1


def test_gateway_down_returns_false_quickly_without_raising() -> None:
    port = _proc.free_port()  # nothing listens there
    start = time.monotonic()
    run = scenario()
    pushed = push_report(
        run, options=MetricsOptions(url=f"http://127.0.0.1:{port}", timeout=3), version="x"
    )
    assert pushed is False
    assert time.monotonic() - start < 3
    assert exit_code(run, pushed=pushed, strict=False) == 0
    assert exit_code(run, pushed=pushed, strict=True) == 2


# --- basic auth and TLS ------------------------------------------------------------------------


def _bcrypt(password: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
        except ImportError:
            pytest.skip("no crypt module to hash the Pushgateway's basic auth password")
    hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))  # noqa: S324 - bcrypt
    if not hashed or not hashed.startswith("$2"):
        pytest.skip("this libc cannot make bcrypt hashes")
    return hashed


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def secured_gateway(directory: Path) -> Iterator[tuple[str, Path]]:
    """A Pushgateway behind TLS (our throwaway CA) and basic auth (bob / PASSWORD)."""
    pki = write_pki(directory)
    config = directory / "web.yml"
    config.write_text(
        "tls_server_config:\n"
        f"  cert_file: {pki.serving_cert}\n"
        f"  key_file: {pki.serving_key}\n"
        "basic_auth_users:\n"
        f"  bob: '{_bcrypt(PASSWORD)}'\n"
    )
    port = _proc.free_port()
    log = directory / "pushgateway.log"
    argv = [
        str(find_pushgateway()), f"--web.listen-address=127.0.0.1:{port}",
        "--persistence.file=", f"--web.config.file={config}", "--log.level=warn",
    ]  # fmt: skip
    process = _proc.start(argv, log)
    try:
        _proc.wait_until(
            lambda: _listening(port), proc=process, what="pushgateway", log_path=log, timeout=30
        )
        yield f"https://127.0.0.1:{port}", pki.ca_cert
    finally:
        _proc.stop(process)


def _scrape_secured(url: str, ca_file: Path) -> Series:
    context = ssl.create_default_context(cafile=str(ca_file))
    request = urllib.request.Request(f"{url}/metrics")  # noqa: S310 - loopback
    token = base64.b64encode(f"bob:{PASSWORD}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=5, context=context) as resp:  # noqa: S310
        return parse(resp.read().decode())


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    before = list(root.handlers)
    logs.configure(fmt=LogFormat.JSON, level=LogLevel.DEBUG, run_id="integration", stream=stream)
    yield stream
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
    logging.captureWarnings(False)


@pytest.mark.usefixtures("pushgateway")  # skips (or fails in CI) where the binary is missing
def test_basic_auth_and_tls_against_a_secured_gateway(
    tmp_path: Path, json_logs: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    wrong_file = tmp_path / "wrong"
    wrong_file.write_text("not-" + PASSWORD)
    with secured_gateway(tmp_path) as (url, ca_file):
        base = MetricsOptions(url=url, username="bob", password_file=password_file)
        run = scenario()

        def attempt(**changes: object) -> bool:
            options = replace(base, **changes)  # type: ignore[arg-type]
            return push_report(run, options=options, version="1.2.3")

        assert attempt(ca_file=ca_file) is True
        assert value_of(_scrape_secured(url, ca_file), LAST_SUCCESS) == FINISHED.timestamp()
        assert attempt(ca_file=ca_file, password_file=wrong_file) is False  # 401
        assert attempt() is False  # the system CAs do not trust our CA
        assert attempt(insecure=True) is True
        assert attempt(ca_file=ca_file, username=None) is False  # no credentials
    written = json_logs.getvalue()
    assert "HTTP 401" in written
    assert "CERTIFICATE_VERIFY_FAILED" in written
    for secret in (PASSWORD, base64.b64encode(f"bob:{PASSWORD}".encode()).decode()):
        assert secret not in written
        assert secret not in caplog.text


def value_of(series: Series, name: str) -> float:
    (found,) = [v for (n, _), v in series.items() if n == name]
    return found
