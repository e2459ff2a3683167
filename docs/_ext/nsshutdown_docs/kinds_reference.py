"""The kinds table, generated from the kind registry (``nsshutdown.kinds.registry.MECHANISMS``).

Each row is one registry entry: the kind, where it lives in the API (and so the RBAC rule it
needs), what "down" means for it, the annotation that saves what it had, and its note.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from nsshutdown_docs import markup

REGISTRY_MODULE = "nsshutdown.kinds.registry"


@dataclass(frozen=True)
class KindDoc:
    kind: str
    api: str  # group/version
    resource: str  # plural.group, as RBAC and kubectl spell it
    down_means: str
    saved_key: str
    note: str


def collect() -> list[KindDoc]:
    registry = importlib.import_module(REGISTRY_MODULE)
    return [
        KindDoc(
            kind=str(kind),
            api=m.api.api_version,
            resource=m.api.qualified,
            down_means=m.down_means,
            saved_key=m.saved_key,
            note=m.note,
        )
        for kind, m in registry.MECHANISMS.items()
    ]


def render(kinds: list[KindDoc]) -> list[str]:
    rows = [
        (
            doc.kind,
            f"{markup.code(doc.api)} ({markup.code(doc.resource)})",
            doc.down_means,
            markup.code(doc.saved_key.removeprefix("nsshutdown.io/")),
            doc.note,
        )
        for doc in kinds
    ]
    return markup.table(("kind", "API", "down means", "saved in", "notes"), rows)
