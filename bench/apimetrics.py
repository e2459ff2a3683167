"""Count requests where they land: the API server's own ``apiserver_request_total`` counter.

A client counts what it meant to send; the server counts what it served, including retries and
anything a library sends behind the client's back (discovery, token refresh). The admin
certificate may read ``/metrics``. Long-running verbs (WATCH, CONNECT) are left out: they are
counted when they end, not when they start; so is the server's own lease heartbeat. Nothing else
runs against a local server, so between two scrapes that only a run separates, what is left is
the run's requests.
"""

from __future__ import annotations

import re
import urllib.request
from collections import Counter
from dataclasses import dataclass

from bench.rawapi import RawApi

_CPU = re.compile(r"^process_cpu_seconds_total\s+(?P<value>\S+)", re.MULTILINE)
_LINE = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
_LONG_RUNNING = frozenset({"WATCH", "CONNECT"})
#: What an nsshutdown run may touch. Requests for other resources between two scrapes come from
#: the API server's own loops (its identity lease every 10 s, the service IP repair list every few
#: minutes): they are reported apart, never counted against a run. Non-resource URLs (discovery:
#: ``/api``, ``/apis``) are counted: a client that sends them pays for them.
RUN_RESOURCES = frozenset(
    {"namespaces", "deployments", "statefulsets", "cronjobs", "jobs", "scaledobjects", "rollouts",
     "configmaps", "pods", ""}
)  # fmt: skip

Key = tuple[str, str, str]  # (verb, resource, code)


@dataclass(frozen=True)
class RequestCounts:
    by_key: Counter[Key]  # the run's requests
    background: Counter[Key]  # the API server's own, in the same interval

    @property
    def total(self) -> int:
        return sum(self.by_key.values())

    def verb(self, verb: str) -> int:
        return sum(n for (v, _, _), n in self.by_key.items() if v == verb)

    def summary(self) -> dict[str, int]:
        """``"PATCH deployments 200": 5000`` style, largest first."""
        return _named(self.by_key)

    def background_summary(self) -> dict[str, int]:
        return _named(self.background)


def _named(counts: Counter[Key]) -> dict[str, int]:
    return {f"{v} {r or '-'} {c}": n for (v, r, c), n in counts.most_common() if n}


def scrape(api: RawApi) -> Counter[Key]:
    text = api.request("GET", "/metrics").decode()
    counts: Counter[Key] = Counter()
    for line in text.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        labels = dict(_LABEL.findall(match["labels"]))
        verb = labels.get("verb", "")
        if verb in _LONG_RUNNING:
            continue
        resource = labels.get("resource", "")
        if labels.get("subresource"):
            resource += "/" + labels["subresource"]
        counts[(verb, resource, labels.get("code", ""))] += int(float(match["value"]))
    return counts


def difference(before: Counter[Key], after: Counter[Key]) -> RequestCounts:
    diff = {key: after[key] - before.get(key, 0) for key in after}
    mine = Counter({k: n for k, n in diff.items() if n > 0 and _resource(k) in RUN_RESOURCES})
    other = Counter({k: n for k, n in diff.items() if n > 0 and _resource(k) not in RUN_RESOURCES})
    return RequestCounts(mine, other)


def _resource(key: Key) -> str:
    return key[1].split("/", 1)[0]


@dataclass(frozen=True)
class ServerCpu:
    """CPU seconds the servers have used so far (``process_cpu_seconds_total`` of each)."""

    apiserver: float
    etcd: float

    def __sub__(self, other: ServerCpu) -> ServerCpu:
        return ServerCpu(self.apiserver - other.apiserver, self.etcd - other.etcd)


def server_cpu(api: RawApi, etcd_url: str) -> ServerCpu:
    """The API server's CPU from its ``/metrics``, etcd's from its own (plain HTTP, loopback)."""
    with urllib.request.urlopen(etcd_url + "/metrics", timeout=10) as response:  # noqa: S310
        etcd = response.read().decode()
    return ServerCpu(_cpu(api.request("GET", "/metrics").decode()), _cpu(etcd))


def _cpu(text: str) -> float:
    match = _CPU.search(text)
    if match is None:
        raise ValueError("no process_cpu_seconds_total in /metrics")
    return float(match["value"])
