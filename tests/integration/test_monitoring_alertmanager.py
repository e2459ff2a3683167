"""The Alertmanager configuration in a real Alertmanager 0.25 on a loopback port.

amtool shows which receivers a route picks, not what is muted or inhibited. Here the real routing
tree and inhibit rules run; only the receivers become webhooks to a local HTTP server (same names),
and the maintenance windows become "always" (or "never", to show the mute is what silences).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools import _proc
from tests.integration.tool_support import require_tool

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "manifests" / "monitoring" / "alertmanager" / "alertmanager.yaml"
ALWAYS = [{"times": [{"start_time": "00:00", "end_time": "24:00"}]}]
NEVER = [{"months": ["february"], "days_of_month": ["30"]}]


@dataclass
class Webhooks:
    """Notifications received, as (receiver, alertname, namespace)."""

    url: str
    received: set[tuple[str, str, str]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, expected: set[tuple[str, str, str]], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if expected <= self.received:
                    return
            time.sleep(0.2)
        with self.lock:
            missing = expected - self.received
        raise AssertionError(f"not notified within {timeout}s: {sorted(missing)}")


@pytest.fixture
def webhooks() -> Iterator[Webhooks]:
    hooks = Webhooks(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            receiver = self.path.strip("/")
            with hooks.lock:
                for alert in body["alerts"]:
                    labels = alert["labels"]
                    hooks.received.add((receiver, labels["alertname"], labels.get("namespace", "")))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hooks.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hooks
    finally:
        server.shutdown()
        server.server_close()


def _binary() -> str:
    return require_tool("alertmanager")


def _test_config(webhook_url: str, windows: list[dict[str, Any]]) -> dict[str, Any]:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    for receiver in config["receivers"]:
        if receiver["name"] == "null":
            continue
        name = receiver["name"]
        receiver.clear()
        receiver.update(
            name=name,
            webhook_configs=[{"url": f"{webhook_url}/{name}", "send_resolved": False}],
        )
    for interval in config["time_intervals"]:
        interval["time_intervals"] = windows
    config["route"].update(group_wait="1s", group_interval="1s")
    return config


@dataclass
class LiveAlertmanager:
    url: str

    def post(self, *alerts: dict[str, str]) -> None:
        body = json.dumps([{"labels": labels} for labels in alerts]).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{self.url}/api/v2/alerts", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - loopback
            pass

    def alerts(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts", timeout=5) as resp:  # noqa: S310
            return list(json.loads(resp.read()))


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as resp:  # noqa: S310 - loopback
            return int(resp.status) == 200
    except OSError:
        return False


@contextmanager
def _running(config: dict[str, Any]) -> Iterator[LiveAlertmanager]:
    binary = _binary()
    workdir = Path(tempfile.mkdtemp(prefix="nsshutdown-am-"))
    (workdir / "alertmanager.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = _proc.free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / "alertmanager.log"
    proc = None
    try:
        proc = _proc.start(
            [
                binary,
                f"--config.file={workdir / 'alertmanager.yaml'}",
                f"--storage.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",  # no gossip: a single local instance
                "--log.level=warn",
            ],
            log,
        )
        _proc.wait_until(
            lambda: _ready(url), proc=proc, what="alertmanager", log_path=log, timeout=30
        )
        yield LiveAlertmanager(url)
    finally:
        _proc.stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


RESTORE_LATE = {"alertname": "NsShutdownRestoreLate", "severity": "critical", "job": "nsshutdown"}
POD_NOT_READY = {"alertname": "KubePodNotReady", "severity": "warning"}


def test_windows_mute_scaled_namespaces_but_never_nsshutdown_alerts(webhooks: Webhooks) -> None:
    with _running(_test_config(webhooks.url, ALWAYS)) as am:
        am.post(
            {**RESTORE_LATE, "namespace": "dev-a"},
            {**POD_NOT_READY, "namespace": "dev-b"},  # scaled namespace: muted
            {**POD_NOT_READY, "namespace": "dev-shared"},  # excluded from the schedule: not muted
            {**POD_NOT_READY, "namespace": "payments"},
            {"alertname": "NsShutdownDryRun", "severity": "info", "job": "nsshutdown"},
        )
        webhooks.wait_for(
            {
                ("pager", "NsShutdownRestoreLate", "dev-a"),
                ("chat", "NsShutdownRestoreLate", "dev-a"),
                ("email", "NsShutdownRestoreLate", "dev-a"),
                ("chat", "KubePodNotReady", "payments"),
                ("email", "KubePodNotReady", "payments"),
                ("chat", "KubePodNotReady", "dev-shared"),
                ("email", "KubePodNotReady", "dev-shared"),
            }
        )
        time.sleep(3)  # several group intervals more: nothing else may arrive
        assert not {n for n in webhooks.received if n[2] == "dev-b"}
        assert not {n for n in webhooks.received if n[1] == "NsShutdownDryRun"}
        assert not {n for n in webhooks.received if n[0] == "pager" and n[1] == "KubePodNotReady"}


def test_outside_the_windows_scaled_namespaces_alert_normally(webhooks: Webhooks) -> None:
    with _running(_test_config(webhooks.url, NEVER)) as am:
        am.post({**POD_NOT_READY, "namespace": "dev-b"})
        webhooks.wait_for(
            {("chat", "KubePodNotReady", "dev-b"), ("email", "KubePodNotReady", "dev-b")}
        )


def test_a_namespace_critical_inhibits_that_namespace_warnings_only(webhooks: Webhooks) -> None:
    with _running(_test_config(webhooks.url, NEVER)) as am:
        am.post(
            {**RESTORE_LATE, "namespace": "team-a"},
            {**POD_NOT_READY, "namespace": "team-a"},  # inhibited
            {**POD_NOT_READY, "namespace": "team-b"},  # other namespace: notified
            {"alertname": "NsShutdownRunErrors", "severity": "warning", "job": "nsshutdown"},
        )
        webhooks.wait_for(
            {
                ("pager", "NsShutdownRestoreLate", "team-a"),
                ("chat", "KubePodNotReady", "team-b"),
                ("chat", "NsShutdownRunErrors", ""),  # no namespace: never inhibited by it
            }
        )
        time.sleep(3)
        assert ("chat", "KubePodNotReady", "team-a") not in webhooks.received
        inhibited = {
            a["labels"].get("namespace", ""): a["status"]["inhibitedBy"]
            for a in am.alerts()
            if a["labels"]["alertname"] != "NsShutdownRestoreLate"
        }
        assert inhibited["team-a"]
        assert not inhibited["team-b"]
        assert not inhibited[""]


def test_the_critical_twin_inhibits_the_warning_of_the_same_nsshutdown_alert(
    webhooks: Webhooks,
) -> None:
    twin = {"alertname": "NsShutdownJobNotSucceeding", "job": "nsshutdown"}
    with _running(_test_config(webhooks.url, NEVER)) as am:
        am.post({**twin, "severity": "critical"}, {**twin, "severity": "warning"})
        webhooks.wait_for({("pager", "NsShutdownJobNotSucceeding", "")})
        time.sleep(3)
        severities = {
            a["labels"]["severity"]: a["status"]["inhibitedBy"]
            for a in am.alerts()
            if a["labels"]["alertname"] == "NsShutdownJobNotSucceeding"
        }
        assert severities["warning"]
        assert not severities["critical"]


def test_the_notice_reaches_its_team_only(webhooks: Webhooks) -> None:
    notice = {
        "alertname": "NsShutdownNamespaceGoingDownSoon",
        "severity": "info",
        "job": "nsshutdown",
        "schedule": "nights",
        "direction": "down",
    }
    with _running(_test_config(webhooks.url, ALWAYS)) as am:  # windows muting: not for this one
        am.post(
            {**notice, "namespace": "dev-a", "team": "payments"},
            {**notice, "namespace": "dev-b", "team": "payments"},
            {**notice, "namespace": "search-qa", "team": "search"},
            {**notice, "namespace": "dev-c", "team": "unknown"},
            {**notice, "namespace": "dev-d"},
        )
        webhooks.wait_for(
            {
                ("team-payments", "NsShutdownNamespaceGoingDownSoon", "dev-a"),
                ("team-payments", "NsShutdownNamespaceGoingDownSoon", "dev-b"),
                ("team-search", "NsShutdownNamespaceGoingDownSoon", "search-qa"),
            }
        )
        time.sleep(3)  # several group intervals more: nothing else may arrive
        assert {n[0] for n in webhooks.received} == {"team-payments", "team-search"}
        assert len(webhooks.received) == 3
