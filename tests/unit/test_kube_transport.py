"""What ``Transport.send`` hands an :class:`~nsshutdown.kube.connection.Endpoint`, and how it
reads the answer: an in-memory endpoint stands for the connection (the real API server's side is
tested in tests/integration)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus

import pytest
import urllib3

from nsshutdown.errors import ConflictError
from nsshutdown.kube.limits import Limits
from nsshutdown.kube.transport import MERGE_PATCH, METADATA_ONLY, HttpStatusError, Transport


@dataclass
class Sent:
    method: str
    target: str
    body: bytes | None
    headers: dict[str, str]


@dataclass
class MemoryEndpoint:
    """An endpoint that answers every request with ``status`` and ``answer``."""

    status: int = 200
    answer: bytes = b"{}"
    host: str = "https://api.example:6443"
    sent: list[Sent] = field(default_factory=list)

    def request(
        self,
        method: str,
        target: str,
        *,
        body: bytes | None,
        headers: dict[str, str],
        timeout: urllib3.Timeout,
    ) -> urllib3.BaseHTTPResponse:
        self.sent.append(Sent(method, target, body, headers))
        reason = HTTPStatus(self.status).phrase
        return urllib3.HTTPResponse(
            body=self.answer, status=self.status, reason=reason, preload_content=False
        )

    def headers(self) -> dict[str, str]:
        return {"Authorization": "Bearer t"}

    def close(self) -> None:
        pass


def test_a_request_is_the_path_and_its_query_never_the_host() -> None:
    endpoint = MemoryEndpoint()
    transport = Transport(endpoint, Limits())
    transport.send("GET", "/api/v1/namespaces", query={"limit": 500, "continue": None})
    (sent,) = endpoint.sent
    assert sent.method == "GET"
    assert sent.target == "/api/v1/namespaces?limit=500"  # a value of None is left out
    assert sent.body is None
    assert sent.headers == {"Authorization": "Bearer t", "Accept": "application/json"}


def test_a_patch_sends_compact_json_and_asks_for_what_the_caller_reads() -> None:
    endpoint = MemoryEndpoint(answer=b'{"metadata": {"resourceVersion": "7"}}')
    transport = Transport(endpoint, Limits())
    path = "/apis/apps/v1/namespaces/dev/deployments/api"
    query = {"fieldManager": "nsshutdown", "dryRun": None}
    answer = transport.request(
        "patch",
        lambda: transport.send(
            "PATCH", path, query=query, body={"spec": {"replicas": 0}},
            content_type=MERGE_PATCH, accept=METADATA_ONLY,
        ),
    )  # fmt: skip
    assert answer == {"metadata": {"resourceVersion": "7"}}
    (sent,) = endpoint.sent
    assert sent.target == f"{path}?fieldManager=nsshutdown"
    assert sent.body == b'{"spec":{"replicas":0}}'
    assert sent.headers["Content-Type"] == MERGE_PATCH
    assert sent.headers["Accept"] == METADATA_ONLY


def test_an_answer_outside_2xx_is_read_whole_and_translated() -> None:
    status = {"kind": "Status", "message": "the object has been modified"}
    endpoint = MemoryEndpoint(status=409, answer=json.dumps(status).encode())
    transport = Transport(endpoint, Limits())
    with pytest.raises(HttpStatusError) as raw:
        transport.send("PATCH", "/api/v1/namespaces/dev")
    assert (raw.value.status, json.loads(raw.value.body)) == (409, status)
    with pytest.raises(ConflictError) as translated:
        transport.request("patch namespace dev", lambda: transport.send("PATCH", "/x"))
    assert translated.value.status == 409
    assert str(translated.value) == "patch namespace dev: 409 the object has been modified"
    assert len(endpoint.sent) == 2  # a conflict is not retried
