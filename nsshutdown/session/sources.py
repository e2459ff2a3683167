"""Where a command's schedule comes from: a file, or a key of a ConfigMap in the cluster."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nsshutdown.errors import UsageError

DEFAULT_CONFIGMAP_KEY = "schedule.yaml"


@dataclass(frozen=True)
class ScheduleSource:
    file: Path | None = None
    configmap: str | None = None  # NAMESPACE/NAME[:KEY]


def parse_configmap_ref(text: str) -> tuple[str, str, str]:
    """``NAMESPACE/NAME[:KEY]`` -> (namespace, name, key)."""
    ref, _, key = text.partition(":")
    namespace, _, name = ref.partition("/")
    if not namespace or not name or "/" in name:
        raise UsageError(f'--configmap "{text}": expected NAMESPACE/NAME[:KEY]')
    return namespace, name, key or DEFAULT_CONFIGMAP_KEY
