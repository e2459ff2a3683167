"""Run the ``nsshutdown`` command line with its clock fixed, for the docs' cluster examples.

``python fixed_clock.py TIME ARGS...`` runs ``nsshutdown ARGS...`` as if it were ``TIME`` (RFC 3339,
with an offset). The CLI reads the clock once, with ``datetime.now`` in its command modules
(nothing below the CLI reads it), so every ``nsshutdown`` module's ``datetime`` is swapped for one
whose ``now()`` is ``TIME``; instances and ``isinstance`` are unchanged.

The API server stamps ``creationTimestamp`` with the real time, which would put every workload of
an example's setup in the future of ``TIME``, inside its grace period. So every object the CLI reads
counts as created one day before ``TIME``.
"""

from __future__ import annotations

import datetime as real
import importlib
import pkgutil
import sys
from collections.abc import Callable, Mapping
from typing import Any

#: How long before the fixed clock every object of a setup counts as created.
SETUP_AGE = real.timedelta(days=1)


class _IsDatetime(type):
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, real.datetime)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, real.datetime)


def fixed_datetime(now: real.datetime) -> type[real.datetime]:
    """``datetime`` with ``now()`` returning ``now`` (in the zone asked for)."""

    class FixedDatetime(real.datetime, metaclass=_IsDatetime):
        @classmethod
        def now(cls, tz: real.tzinfo | None = None) -> real.datetime:  # type: ignore[override]
            return now.astimezone(tz) if tz else now.astimezone().replace(tzinfo=None)

    return FixedDatetime


def fix_clock(now: real.datetime) -> None:
    """Import every ``nsshutdown`` module, then fix the clock and the creation times they read."""
    import nsshutdown  # noqa: PLC0415 - imported only once the caller has chosen to fix the clock

    for info in pkgutil.walk_packages(nsshutdown.__path__, "nsshutdown."):
        if not info.name.endswith(".__main__"):  # __main__ runs the CLI when imported
            importlib.import_module(info.name)
    clock = fixed_datetime(now)
    for name, module in list(sys.modules.items()):
        if name.startswith("nsshutdown") and getattr(module, "datetime", None) is real.datetime:
            module.datetime = clock  # type: ignore[attr-defined]
    wire = sys.modules["nsshutdown.kube.wire"]
    read: Callable[[Mapping[str, Any]], real.datetime] | None = getattr(wire, "_created", None)
    if read is None:
        raise SystemExit(
            "fixed_clock: nsshutdown.kube.wire._created (how a creationTimestamp is read) is gone; "
            "update docs/_ext/nsshutdown_docs/fixed_clock.py"
        )
    wire._created = lambda meta: min(read(meta), now - SETUP_AGE)  # type: ignore[attr-defined]


def main() -> None:
    now = real.datetime.fromisoformat(sys.argv.pop(1))
    if now.tzinfo is None:
        raise SystemExit("fixed_clock: the time needs an offset, e.g. 2026-11-27T21:00:00+01:00")
    fix_clock(now)
    from nsshutdown.cli.main import main as nsshutdown  # noqa: PLC0415 - after fix_clock

    sys.argv[0] = "nsshutdown"
    nsshutdown()


if __name__ == "__main__":
    main()
