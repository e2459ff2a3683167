"""A minimal HTTPS client for the local API server: seeding, the ceiling and checks.

It is deliberately the thinnest possible client (one urllib3 pool, raw JSON bytes, no models,
no retries, no rate limit), so that what it measures is the server, not a client library.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlsplit

import urllib3

from devtools.cluster import LocalCluster

MERGE_PATCH = "application/merge-patch+json"


class ApiStatusError(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: bytes) -> None:
        super().__init__(f"{method} {path}: HTTP {status}: {body[:300]!r}")
        self.status = status


class RawApi:
    """Thread-safe: one keep-alive connection per thread, up to ``maxsize``."""

    def __init__(self, cluster: LocalCluster, *, maxsize: int = 8) -> None:
        url = urlsplit(cluster.server_url)
        pki = cluster.pki
        self._pool = urllib3.HTTPSConnectionPool(
            url.hostname,
            url.port,
            maxsize=maxsize,
            block=True,
            ca_certs=str(pki.ca_cert),
            cert_file=str(pki.admin_cert),
            key_file=str(pki.admin_key),
            retries=False,
            timeout=urllib3.Timeout(connect=10, read=60),
        )

    def close(self) -> None:
        self._pool.close()

    def request(
        self, method: str, path: str, body: Any = None, *, content_type: str = "application/json"
    ) -> bytes:
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        response = self._pool.urlopen(method, path, body=data, headers=headers)
        if response.status >= 300:
            raise ApiStatusError(method, path, response.status, response.data)
        return bytes(response.data)

    def get_json(self, path: str) -> Any:
        return json.loads(self.request("GET", path))

    def post(self, path: str, body: Any) -> None:
        self.request("POST", path, body)

    def merge_patch(self, path: str, body: Any) -> None:
        self.request("PATCH", path, body, content_type=MERGE_PATCH)

    def list_all(self, path: str, *, page: int = 500) -> list[dict[str, Any]]:
        """Every item of a (cluster-wide) list, following ``continue`` tokens."""
        items: list[dict[str, Any]] = []
        token = ""
        while True:
            sep = "&" if "?" in path else "?"
            query = f"{sep}limit={page}" + (f"&continue={quote(token)}" if token else "")
            doc = self.get_json(path + query)
            items += doc.get("items") or []
            token = (doc.get("metadata") or {}).get("continue") or ""
            if not token:
                return items
