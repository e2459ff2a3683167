"""A real Prometheus Pushgateway on a loopback port: the one `make tools` builds (see tools.py)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from devtools import _proc
from devtools._proc import Service
from devtools.tools import ToolNotFoundError, find_tool


class PushgatewayNotFoundError(ToolNotFoundError):
    """The Pushgateway binary is not built (``make tools``) and ``$PUSHGATEWAY_BIN`` is unset."""


def find_pushgateway() -> Path:
    """``$PUSHGATEWAY_BIN``, else the Pushgateway that ``make tools`` builds."""
    try:
        return find_tool("pushgateway")
    except ToolNotFoundError as err:
        raise PushgatewayNotFoundError(str(err)) from None


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as resp:  # noqa: S310 - loopback
            return int(resp.status) == 200
    except (urllib.error.URLError, OSError):
        return False


class LocalPushgateway(Service):
    """Start a Pushgateway with in-memory storage only; always stop it again."""

    def __init__(self, *, binary: Path | None = None, startup_timeout: float = 30.0) -> None:
        self._binary = binary
        self._startup_timeout = startup_timeout
        self._workdir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.url = ""

    def start(self) -> None:
        binary = self._binary or find_pushgateway()
        self._workdir = Path(tempfile.mkdtemp(prefix="nsshutdown-pgw-"))
        self.port = _proc.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = self._workdir / "pushgateway.log"
        try:
            self.process = _proc.start(
                [
                    str(binary),
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--persistence.file=",  # in memory only: nothing outlives the test
                    "--web.enable-admin-api",  # lets tests wipe all groups
                    "--log.level=warn",
                ],
                log,
            )
            _proc.wait_until(
                lambda: _ready(self.url),
                proc=self.process,
                what="pushgateway",
                log_path=log,
                timeout=self._startup_timeout,
            )
        except BaseException:
            self.stop()
            raise

    def wipe(self, *, timeout: float = 5.0) -> None:
        """Delete every metric group (admin API) and wait until the deletion is visible.

        The Pushgateway answers the wipe with 202 Accepted and applies it asynchronously, so a
        scrape right after the call can still show the old groups.
        """
        request = urllib.request.Request(f"{self.url}/api/v1/admin/wipe", method="PUT")  # noqa: S310
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - loopback
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "push_time_seconds{" not in self.metrics_text():
                return
            time.sleep(0.02)
        raise TimeoutError(f"the Pushgateway still holds groups {timeout} s after a wipe")

    def metrics_text(self) -> str:
        """The Pushgateway's own /metrics exposition, including every pushed group."""
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=5) as resp:  # noqa: S310 - loopback
            return bytes(resp.read()).decode()

    def stop(self) -> None:
        try:
            _proc.stop(self.process)
        finally:
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None
