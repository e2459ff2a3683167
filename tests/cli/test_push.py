"""Pushing (against an in-process HTTP server) and the metrics command-line options."""

from __future__ import annotations

import base64
import gzip
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import typer
from prometheus_client import CollectorRegistry, Gauge
from typer.testing import CliRunner

from nsshutdown.cli.metrics_options import with_metrics_options
from nsshutdown.errors import UsageError
from nsshutdown.observe.push_options import MetricsOptions, normalize_url, parse_grouping
from nsshutdown.observe.pushgateway import PASSWORD_ENV, push, read_password
from nsshutdown.observe.savings import Prices

SECRET = "s3cr3t-Pa55word"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    """A tiny HTTP server that records requests and answers with ``status``."""

    status: int = 200
    location: str = ""
    requests: list[Seen] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def server() -> Iterator[Recorder]:
    recorder = Recorder()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            recorder.requests.append(Seen(self.command, self.path, dict(self.headers), body))
            self.send_response(recorder.status)
            if recorder.location:
                self.send_header("Location", recorder.location)
            payload = b"go away" if recorder.status >= 400 else b""
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_PUT = do_POST = do_GET = _any  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        httpd.shutdown()
        httpd.server_close()


def registry() -> CollectorRegistry:
    reg = CollectorRegistry()
    Gauge("nsshutdown_last_run_exit_code", "help", registry=reg).set(0)
    return reg


@pytest.mark.parametrize(("replace", "method"), [(False, "POST"), (True, "PUT")])
def test_push_sends_gzip_to_the_group_with_basic_auth(
    server: Recorder, replace: bool, method: str
) -> None:
    ok = push(
        registry(), url=server.url, grouping={"cluster": "prod-eu"},
        username="bob", password=SECRET, replace=replace,
    )  # fmt: skip
    assert ok is True
    (seen,) = server.requests
    assert (seen.method, seen.path) == (method, "/metrics/job/nsshutdown/cluster/prod-eu")
    assert seen.headers["Content-Encoding"] == "gzip"
    assert b"nsshutdown_last_run_exit_code 0.0" in gzip.decompress(seen.body)
    expected = base64.b64encode(f"bob:{SECRET}".encode()).decode()
    assert seen.headers["Authorization"] == f"Basic {expected}"


def test_any_grouping_label_is_safe_to_log(server: Recorder) -> None:
    server.status = 500
    grouping = {"name": "x", "message": "y", "run_id": "z"}  # names logging itself reserves
    assert push(registry(), url=server.url, grouping=grouping) is False
    server.status = 200
    assert push(registry(), url=server.url, grouping=grouping) is True


def test_push_without_username_sends_no_authorization(server: Recorder) -> None:
    assert push(registry(), url=server.url) is True
    assert "Authorization" not in server.requests[0].headers


def test_refused_push_is_a_warning_without_the_password(
    server: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    server.status = 401
    assert push(registry(), url=server.url, username="bob", password=SECRET) is False
    assert "HTTP 401" in caplog.text
    assert "go away" in caplog.text  # the gateway's own explanation is kept
    assert SECRET not in caplog.text
    assert base64.b64encode(f"bob:{SECRET}".encode()).decode() not in caplog.text
    assert [r.levelname for r in caplog.records] == ["WARNING"]


def test_redirects_are_not_followed(server: Recorder) -> None:
    server.status, server.location = 307, "/elsewhere"
    assert push(registry(), url=server.url, username="bob", password=SECRET) is False
    assert [seen.path for seen in server.requests] == ["/metrics/job/nsshutdown"]


def test_dead_port_returns_false_quickly() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = time.monotonic()
    assert push(registry(), url=f"http://127.0.0.1:{port}", timeout=2) is False
    assert time.monotonic() - start < 2


def test_silent_gateway_is_bounded_by_the_timeout(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:  # accepts connections (backlog) but never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        start = time.monotonic()
        ok = push(registry(), url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=0.5)
        elapsed = time.monotonic() - start
    assert ok is False
    assert elapsed < 3
    assert "timed out" in caplog.text


def test_bad_ca_file_is_a_failed_push_not_an_exception(tmp_path: Path) -> None:
    ok = push(registry(), url="https://127.0.0.1:9", ca_file=tmp_path / "missing.pem")
    assert ok is False


# --- options ------------------------------------------------------------------------------------


def test_parse_grouping() -> None:
    assert parse_grouping(["cluster=prod-eu", "region=eu-west-1"]) == {
        "cluster": "prod-eu",
        "region": "eu-west-1",
    }
    assert parse_grouping(["path=a/b=c"]) == {"path": "a/b=c"}


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("cluster", "LABEL=VALUE"),
        ("cluster=", "LABEL=VALUE"),
        ("9x=1", "not a label name"),
        ("__name__=x", "not a label name"),
        ("job=other", '"job" is always'),
    ],
)
def test_parse_grouping_refuses(pair: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_grouping([pair])


def test_parse_grouping_refuses_duplicates() -> None:
    with pytest.raises(UsageError, match="twice"):
        parse_grouping(["a=1", "a=2"])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("pushgateway:9091", "http://pushgateway:9091"),
        ("https://pg.example/prefix/", "https://pg.example/prefix"),
        (" http://10.0.0.1:9091 ", "http://10.0.0.1:9091"),
    ],
)
def test_normalize_url(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("ftp://pg", "not an http"),
        ("http://bob:pw@pg:9091", "not in the URL"),
        ("http://pg:9091/?x=1", "query"),
    ],
)
def test_normalize_url_refuses(raw: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as err:
        normalize_url(raw)
    assert "pw@" not in str(err.value)


def test_from_cli_validates() -> None:
    with pytest.raises(UsageError, match="timeout"):
        MetricsOptions.from_cli(pushgateway_timeout=0)
    with pytest.raises(UsageError, match="price"):
        MetricsOptions.from_cli(cpu_hour_price=-0.1)
    assert MetricsOptions.from_cli() == MetricsOptions()
    assert MetricsOptions.from_cli().url is None


def test_password_file_wins_over_environment(tmp_path: Path) -> None:
    secret_file = tmp_path / "password"
    secret_file.write_text(SECRET + "\n")
    assert read_password(secret_file, {PASSWORD_ENV: "other"}) == SECRET
    assert read_password(None, {PASSWORD_ENV: "other"}) == "other"
    assert read_password(None, {}) is None
    with pytest.raises(OSError, match="No such file"):
        read_password(tmp_path / "missing", {})


def _app(seen: list[MetricsOptions]) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    @with_metrics_options
    def run(metrics: MetricsOptions, name: str = "x") -> None:
        seen.append(metrics)

    return app


def test_with_metrics_options_adds_every_option(tmp_path: Path) -> None:
    seen: list[MetricsOptions] = []
    result = CliRunner().invoke(
        _app(seen),
        [
            "--name", "y",
            "--pushgateway", "pg:9091",
            "--pushgateway-grouping", "cluster=prod",
            "--pushgateway-grouping", "team=sre",
            "--pushgateway-timeout", "3",
            "--pushgateway-username", "bob",
            "--pushgateway-password-file", str(tmp_path / "pw"),
            "--pushgateway-ca-file", str(tmp_path / "ca.pem"),
            "--pushgateway-insecure",
            "--strict-metrics",
            "--cpu-hour-price", "0.5",
            "--memory-gib-hour-price", "0.25",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert seen == [
        MetricsOptions(
            url="http://pg:9091", grouping={"cluster": "prod", "team": "sre"}, timeout=3.0,
            username="bob", password_file=tmp_path / "pw", ca_file=tmp_path / "ca.pem",
            insecure=True, strict=True, prices=Prices(0.5, 0.25),
        )
    ]  # fmt: skip


def test_with_metrics_options_reads_the_environment() -> None:
    seen: list[MetricsOptions] = []
    env = {
        "NSSHUTDOWN_PUSHGATEWAY": "http://pg:9091",
        "NSSHUTDOWN_PUSHGATEWAY_GROUPING": "cluster=prod team=sre",
        "NSSHUTDOWN_STRICT_METRICS": "true",
        "NSSHUTDOWN_CPU_HOUR_PRICE": "0.01",
    }
    result = CliRunner().invoke(_app(seen), [], env=env)
    assert result.exit_code == 0, result.output
    (options,) = seen
    assert options.url == "http://pg:9091"
    assert options.grouping == {"cluster": "prod", "team": "sre"}
    assert options.strict is True
    assert options.prices == Prices(cpu_hour=0.01)


def test_with_metrics_options_defaults_and_help() -> None:
    seen: list[MetricsOptions] = []
    app = _app(seen)
    assert CliRunner().invoke(app, []).exit_code == 0
    assert seen == [MetricsOptions()]
    help_text = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    for flag in (
        "--pushgateway-grouping",
        "--pushgateway-password-file",
        "--memory-gib-hour-price",
    ):
        assert flag in help_text


def test_with_metrics_options_needs_a_metrics_parameter() -> None:
    def run(name: str) -> None:
        pass

    with pytest.raises(TypeError, match="metrics"):
        with_metrics_options(run)
