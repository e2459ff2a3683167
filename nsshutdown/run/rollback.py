"""Undo a write made earlier in this run (a namespace's all-or-nothing shutdown failed).

The undo is the inverse of what was sent (``model.inverse_patch``), guarded by the
``resourceVersion`` our own write returned. If that is stale (409), the object is read again:
when the fields we wrote still hold our values, the undo is retried on the fresh version;
otherwise someone else has changed them since, and their change is kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nsshutdown.errors import ApiError, ConflictError
from nsshutdown.model import Action, Patch, Workload, inverse_patch
from nsshutdown.run.cluster import Cluster

logger = logging.getLogger(__name__)


@dataclass
class Applied:
    """A write that went through: the action, the object it was computed from, the result."""

    action: Action
    before: Workload
    after: Workload
    index: int = 0  # position of its result in the namespace's results


def undo(cluster: Cluster, done: Applied, *, max_conflicts: int) -> str:
    """Put ``done.before`` back; return ``""`` on success, else why it was not undone."""
    sent = done.action.patch
    if sent is None:
        return ""
    inverse = inverse_patch(done.before, sent)
    target = done.after
    for _ in range(max_conflicts + 1):
        try:
            cluster.patch_workload(target, inverse, dry_run=False)
        except ConflictError:
            try:
                target = cluster.get_workload(done.action.ref)
            except ApiError as err:
                return f"rollback failed: {err}"
            if not _still_ours(target, done.after, sent):
                return "not rolled back: changed by someone else since; their change is kept"
            continue
        except ApiError as err:
            logger.error("%s: rollback failed: %s", done.action.ref, err)
            return f"rollback failed: {err}"
        logger.info("%s: rolled back", done.action.ref)
        return ""
    return "rollback failed: the object kept changing (409)"


def _still_ours(now: Workload, written: Workload, sent: Patch) -> bool:
    """Every field our patch set still holds the value our write left there."""
    if sent.replicas is not None and now.replicas != written.replicas:
        return False
    if sent.suspend is not None and now.suspend != written.suspend:
        return False
    return all(now.annotations.get(k) == written.annotations.get(k) for k in sent.annotations)
