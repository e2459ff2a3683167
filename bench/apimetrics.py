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
from collections import Counter
from dataclasses import dataclass

from bench.rawapi import RawApi

_LINE = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
_LONG_RUNNING = frozenset({"WATCH", "CONNECT"})
#: The API server's own heartbeat (its identity lease, renewed every 10 s): never a client's.
_BACKGROUND = frozenset({"leases"})

Key = tuple[str, str, str]  # (verb, resource, code)


@dataclass(frozen=True)
class RequestCounts:
    by_key: Counter[Key]

    @property
    def total(self) -> int:
        return sum(self.by_key.values())

    def verb(self, verb: str) -> int:
        return sum(n for (v, _, _), n in self.by_key.items() if v == verb)

    def summary(self) -> dict[str, int]:
        """``"PATCH deployments 200": 5000`` style, largest first."""
        return {f"{v} {r or '-'} {c}": n for (v, r, c), n in self.by_key.most_common() if n}


def scrape(api: RawApi) -> Counter[Key]:
    text = api.request("GET", "/metrics").decode()
    counts: Counter[Key] = Counter()
    for line in text.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        labels = dict(_LABEL.findall(match["labels"]))
        verb = labels.get("verb", "")
        if verb in _LONG_RUNNING or labels.get("resource") in _BACKGROUND:
            continue
        resource = labels.get("resource", "")
        if labels.get("subresource"):
            resource += "/" + labels["subresource"]
        counts[(verb, resource, labels.get("code", ""))] += int(float(match["value"]))
    return counts


def difference(before: Counter[Key], after: Counter[Key]) -> RequestCounts:
    diff = Counter({key: after[key] - before.get(key, 0) for key in after})
    return RequestCounts(Counter({k: n for k, n in diff.items() if n > 0}))
