"""What every scaling mechanism provides (:class:`Mechanism`), and the pieces they share.

A *mechanism* is how one kind goes down and comes back: a replica count set to 0, a ``suspend``
flag, KEDA's pause annotation. Each lives in its own module of this package and owns everything
about its kind: where it is in the API, which fields it reads, the one patch that takes it down
(saving what it had) and the one that brings it back, whether it runs, and what it holds for the
savings estimate. Nothing outside this package asks which kind a workload is.

Every mechanism keeps the rules of ``decide`` (DESIGN.md): one patch per change, touching only the
scaled field and the tool's own annotation keys; a saved value is never overwritten; restore puts
the saved value back only where the workload is still down; a corrupt saved value is an ERROR for
that workload alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from nsshutdown import constants as c
from nsshutdown.kinds.api import KindApi
from nsshutdown.model import (
    Action,
    ActionType,
    Context,
    FieldValue,
    Patch,
    SkipReason,
    Workload,
    WorkloadKind,
)

#: The largest saved count accepted: ``spec.replicas`` is an int32 in every API the tool scales.
MAX_SAVED_COUNT: Final = 2**31 - 1

CLEAR_OWN: Final[Mapping[str, str | None]] = dict.fromkeys(c.OWN_WORKLOAD_KEYS)


class CorruptAnnotationError(ValueError):
    """A saved-state annotation holds a value the tool could not have written."""


@dataclass(frozen=True)
class Observed:
    """The fields of an object's ``spec`` and ``status`` that its mechanism decides on."""

    replicas: int | None = None
    suspend: bool | None = None
    scale_target: tuple[str, str] | None = None
    finished: bool = False
    ready: int | None = None


class Mechanism(Protocol):
    """How one kind is scaled down and brought back. One instance per kind, in the registry."""

    @property
    def kind(self) -> WorkloadKind: ...

    @property
    def api(self) -> KindApi: ...

    @property
    def field(self) -> str:
        """What ``from``/``to`` of its actions show: ``spec.replicas``, ``spec.suspend``, a key."""
        ...

    @property
    def saved_key(self) -> str:
        """The annotation that holds what it had before a shutdown."""
        ...

    @property
    def down_means(self) -> str:
        """What "down" is for this kind, in a few words of Markdown (the docs' kinds table)."""
        ...

    @property
    def note(self) -> str:
        """What else a reader should know about its down and up (the docs' kinds table)."""
        ...

    @property
    def foreign_keys(self) -> frozenset[str]:
        """Annotations owned by another project that it reads (kept when objects are decoded)."""
        ...

    def observe(self, item: Mapping[str, Any]) -> Observed:
        """The fields it decides on, from one object as the API returns it."""
        ...

    def pod_spec(self, spec: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The pod template's spec (for requests); ``None`` when it runs no pods of its own."""
        ...

    def down(self, workload: Workload, ctx: Context) -> Action:
        """The action that takes ``workload`` down, saving what it had (or a SKIP with a reason)."""
        ...

    def up(self, workload: Workload) -> Action:
        """The action that brings a workload carrying our annotations back (RESTORE or RELEASE)."""
        ...

    def is_running(self, workload: Workload) -> bool:
        """Whether it is active now: replicas above 0, not suspended, not paused at 0."""
        ...

    def is_ready(self, workload: Workload) -> bool:
        """Whether it is up and serving: what a later wake-up tier waits for."""
        ...

    def change(self, before: FieldValue, after: FieldValue) -> str:
        """A change of its field in a person's words: ``replicas 3 → 0``, ``suspended``."""
        ...

    def held_replicas(self, workload: Workload) -> int:
        """Replicas the tool keeps from running (savings); 0 when not known or not held."""
        ...


# --- pieces the mechanisms share ----------------------------------------------------------------


def parse_count(workload: Workload, key: str, *, allow_empty: bool = False) -> int | None:
    """The count saved under ``key``: ASCII digits only, no sign or space, at most an int32.

    ``None`` when the key is absent (or empty, with ``allow_empty``). Anything else the tool could
    not have written raises :class:`CorruptAnnotationError` naming the key and the value.
    """
    raw = workload.annotations.get(key)
    if raw is None or (allow_empty and raw == ""):
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > MAX_SAVED_COUNT:
        raise CorruptAnnotationError(
            f'{key}="{raw}" is not a count from 0 to {MAX_SAVED_COUNT} in ASCII digits'
        )
    return int(raw)


def stamp(ctx: Context) -> dict[str, str | None]:
    """``shutdown-at`` and ``shutdown-by``: written with the saved value, in the same patch."""
    return {c.SHUTDOWN_AT: ctx.now.isoformat(), c.SHUTDOWN_BY: ctx.shutdown_by}


def down_target(workload: Workload, ctx: Context) -> int:
    """How many replicas stay up while it is down: its own ``nsshutdown.io/down-replicas``, else
    the schedule's ``downReplicas`` (0 unless set). A value that is not a count is an ERROR for
    this workload: it is not scaled to a guess."""
    own = parse_count(workload, c.DOWN_REPLICAS)
    return ctx.down_replicas if own is None else own


def scaled_to(workload: Workload) -> int:
    """The count a shutdown left running (``nsshutdown.io/scaled-to``, 0 when absent)."""
    return parse_count(workload, c.SCALED_TO) or 0


def record_target(workload: Workload, target: int) -> dict[str, str | None]:
    """The ``scaled-to`` annotation for a shutdown to ``target``: written only when not 0."""
    if target:
        return {c.SCALED_TO: str(target)}
    return {c.SCALED_TO: None} if c.SCALED_TO in workload.annotations else {}


def too_young(workload: Workload, ctx: Context) -> bool:
    return ctx.now - workload.created < ctx.grace_period


def release(workload: Workload, field: str, current: int | bool | None) -> Action:
    """Someone already brought it back (or nothing was saved): keep their value, drop our keys."""
    present = {key: None for key in c.OWN_WORKLOAD_KEYS if key in workload.annotations}
    return Action(ActionType.RELEASE, workload, field, current, current, Patch(annotations=present))


def skip(workload: Workload, reason: SkipReason) -> Action:
    return Action(ActionType.SKIP, workload, reason=reason)


def noop(workload: Workload) -> Action:
    """Already converged: a SKIP with no reason, which renderers leave out."""
    return Action(ActionType.SKIP, workload)


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one: nothing in an object can crash a run."""
    return value if isinstance(value, Mapping) else {}


def pod_template_spec(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """``spec.template.spec``: where Deployments, StatefulSets, Jobs and most CRDs keep pods."""
    return as_mapping(as_mapping(spec.get("template")).get("spec"))
