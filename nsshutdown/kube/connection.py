"""The connection every request goes through: a host, a TLS connection pool and the headers.

Two kinds implement :class:`Endpoint`: :class:`Connection`, built here from credentials that
:mod:`~nsshutdown.kube.credentials` read without the Kubernetes client (in-cluster, or a plain
kubeconfig: a CA, a client certificate, a token), and the Kubernetes client's own ``ApiClient``
wrapped by :mod:`~nsshutdown.kube.auth` for everything else (exec plugins, auth providers,
proxies...). Importing the client costs half a second and 20 MiB at start-up, most of a run
with nothing to do; the common setups need none of it.

TLS is always verified: against the CA given, else the system's CAs.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import urllib3

from nsshutdown import __version__

logger = logging.getLogger(__name__)

#: How often a token file is read again: bound ServiceAccount tokens are rotated by the kubelet
#: (the Kubernetes clients read them again every minute too).
TOKEN_REREAD_SECONDS = 60.0
USER_AGENT = f"nsshutdown/{__version__}"


class Endpoint(Protocol):
    """What :class:`~nsshutdown.kube.transport.Transport` sends requests through."""

    @property
    def host(self) -> str:
        """``https://host:port``, no trailing slash."""
        ...

    def request(
        self,
        method: str,
        target: str,
        *,
        body: bytes | None,
        headers: dict[str, str],
        timeout: urllib3.Timeout,
    ) -> urllib3.BaseHTTPResponse:
        """Send one request for ``target`` (a path and its query) to :attr:`host`; return the
        response unread (the caller reads it and gives the connection back)."""
        ...

    def headers(self) -> dict[str, str]:
        """The headers of every request, credentials included (asked again for each request)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Credentials:
    """Where to connect and how to authenticate; ``*_data`` is PEM, ``*_file`` a path."""

    host: str
    ca_file: Path | None = None
    ca_data: str | None = None
    cert_file: Path | None = None
    cert_data: bytes | None = None
    key_file: Path | None = None
    key_data: bytes | None = None
    token: str | None = None
    token_file: Path | None = None

    def __repr__(self) -> str:  # never the token or the key in a log line or a traceback
        return f"Credentials(host={self.host!r})"


class TokenFile:
    """A bearer token read from a file, read again at most every ``every`` seconds."""

    def __init__(
        self,
        path: Path,
        *,
        every: float = TOKEN_REREAD_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path, self._every, self._clock = path, every, clock
        self._lock = threading.Lock()
        self._token = read_token(path)
        self._read_at = clock()

    def current(self) -> str:
        with self._lock:
            now = self._clock()
            if now - self._read_at >= self._every:
                self._read_at = now
                try:
                    self._token = read_token(self.path)
                except (OSError, ValueError) as err:
                    logger.warning(
                        "cannot read the token file %s again (%s): using the last token",
                        self.path,
                        getattr(err, "strerror", None) or type(err).__name__,
                    )
            return self._token


def read_token(path: Path) -> str:
    """The token in ``path``; ``ValueError`` if it is empty."""
    token = path.read_text(encoding="utf-8").strip()
    if not token:
        raise ValueError(f"{path} is empty")
    return token


class Connection:
    """An :class:`Endpoint` of our own: one urllib3 connection pool bound to the host, verified
    TLS, no retries of urllib3's (ours are the only ones), ``pool_size`` connections kept for the
    run's concurrency.

    Bound to its one host, the pool sends a path as it is: no URL parsed again and no pool looked
    up for each request (a pool manager does both, ~40 µs of client CPU a request).
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        pool_size: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = credentials.host.rstrip("/")
        self._token = credentials.token
        self._token_file = (
            TokenFile(credentials.token_file, clock=clock) if credentials.token_file else None
        )
        self._private: Path | None = None
        cert_file = self._file(credentials.cert_file, credentials.cert_data, "client.crt")
        key_file = self._file(credentials.key_file, credentials.key_data, "client.key")
        url = urllib3.util.parse_url(self.host)
        if url.scheme != "https" or not url.host:
            raise ValueError(f"not an https:// URL: {self.host}")
        self.pool = urllib3.HTTPSConnectionPool(
            url.host,
            url.port or 443,
            maxsize=pool_size,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=str(credentials.ca_file) if credentials.ca_file else None,
            ca_cert_data=credentials.ca_data,
            cert_file=cert_file,
            key_file=key_file,
        )

    def _file(self, path: Path | None, data: bytes | None, name: str) -> str | None:
        """urllib3 loads a certificate or key from a file only: data goes to a private one."""
        if data is None:
            return str(path) if path else None
        if self._private is None:
            self._private = Path(tempfile.mkdtemp(prefix="nsshutdown-credentials-"))  # mode 0700
            # removed on close, else when the interpreter exits
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._private, True)
        target = self._private / name
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return str(target)

    def request(
        self,
        method: str,
        target: str,
        *,
        body: bytes | None,
        headers: dict[str, str],
        timeout: urllib3.Timeout,
    ) -> urllib3.BaseHTTPResponse:
        return self.pool.urlopen(
            method, target, body=body, headers=headers, timeout=timeout, preload_content=False
        )

    def headers(self) -> dict[str, str]:
        # Large lists compress ~30x (the API server gzips responses over 128 KiB when asked);
        # urllib3 decodes transparently.
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"}
        token = self._token_file.current() if self._token_file else self._token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def close(self) -> None:
        self.pool.close()
        if self._private is not None:
            self._cleanup()
