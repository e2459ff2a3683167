"""Creating Events about workloads (``--events``): events.k8s.io/v1, core/v1 where it is not served.

``regarding`` names the workload with its ``uid`` and ``resourceVersion``, so ``kubectl describe``
(which selects events by kind, name, namespace and uid) lists them with the workload. Each Event
is named ``<workload>.<event time in hex nanoseconds>``, as client-go names them (a name made by
``generateName`` could not end in a dot); a run creates at most one per workload, so there is no
series to aggregate, and a retried create that finds its Event already there (409) succeeded.

Events go through the same :class:`~nsshutdown.kube.transport.Transport` as every other request:
rate limited and counted in ``api_requests``. They are sent *best effort* (see
``nsshutdown.kube.resilience``): neutral to the circuit breaker and tried at most twice. The
caller (``nsshutdown.run.recorder``) turns any failure into a log line.
"""

from __future__ import annotations

import logging
import socket
import threading
from datetime import UTC
from typing import Any, Final
from urllib.parse import quote

from nsshutdown import constants as c
from nsshutdown.errors import ConflictError, NotFoundError
from nsshutdown.kinds.registry import mechanism
from nsshutdown.kube.transport import Transport
from nsshutdown.model import Workload, WorkloadEvent

logger = logging.getLogger(__name__)

#: Limits the API server enforces on an Event (bytes of ``note``; characters of the others).
NOTE_LIMIT: Final = 1024
INSTANCE_LIMIT: Final = 128
NAME_LIMIT: Final = 253


def reporting_instance() -> str:
    """This process's host name: in a pod, the pod's name (which Job run reported it)."""
    return (socket.gethostname() or c.EVENT_COMPONENT)[:INSTANCE_LIMIT]


def regarding(workload: Workload) -> dict[str, str]:
    """The object reference of ``workload``, as ``regarding`` / ``involvedObject``."""
    ref = {
        "apiVersion": mechanism(workload.kind).api.api_version,
        "kind": workload.kind.value,
        "namespace": workload.namespace,
        "name": workload.name,
        "uid": workload.uid,
        "resourceVersion": workload.resource_version,
    }
    return {key: value for key, value in ref.items() if value}


def event_name(event: WorkloadEvent) -> str:
    """``api.18b2e0c5f1a2b3c4``: the workload and the event time, unique per workload."""
    nanos = int(event.at.timestamp()) * 10**9 + event.at.microsecond * 1000
    suffix = f".{nanos:x}"
    return event.workload.name[: NAME_LIMIT - len(suffix)].rstrip(".-") + suffix


def _note(text: str) -> str:
    data = text.encode()
    if len(data) <= NOTE_LIMIT:
        return text
    return data[: NOTE_LIMIT - 3].decode(errors="ignore") + "..."


def event_body(event: WorkloadEvent, *, instance: str) -> dict[str, Any]:
    """An events.k8s.io/v1 Event (``eventTime`` in microseconds, as the API requires)."""
    workload = event.workload
    return {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": event_name(event), "namespace": workload.namespace},
        "eventTime": event.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "reportingController": c.EVENT_REPORTING_CONTROLLER,
        "reportingInstance": instance,
        "action": event.action,
        "reason": event.reason,
        "regarding": regarding(workload),
        "note": _note(event.note),
        "type": "Warning" if event.warning else "Normal",
    }


def core_event_body(event: WorkloadEvent, *, instance: str) -> dict[str, Any]:
    """The same Event as core/v1 (clusters that do not serve events.k8s.io/v1)."""
    when = event.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    workload = event.workload
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": event_name(event), "namespace": workload.namespace},
        "involvedObject": regarding(workload),
        "reason": event.reason,
        "message": _note(event.note),
        "type": "Warning" if event.warning else "Normal",
        "source": {"component": c.EVENT_COMPONENT},
        "reportingComponent": c.EVENT_REPORTING_CONTROLLER,
        "reportingInstance": instance,
        "action": event.action,
        "firstTimestamp": when,
        "lastTimestamp": when,
        "count": 1,
    }


class EventSender:
    """Creates Events through ``transport``; raises ``ApiError`` when one cannot be created."""

    def __init__(self, transport: Transport, *, instance: str | None = None) -> None:
        self._transport = transport
        self._instance = instance or reporting_instance()
        self._core_only = False  # events.k8s.io/v1 answered 404 and core/v1 worked
        self._lock = threading.Lock()

    def emit(self, event: WorkloadEvent) -> None:
        if not self._core_only:
            try:
                self._send(event, group=True)
                return
            except NotFoundError:
                logger.debug("events.k8s.io/v1 not served here? trying core/v1 Events")
        self._send(event, group=False)
        with self._lock:
            self._core_only = True

    def _send(self, event: WorkloadEvent, *, group: bool) -> None:
        namespace = quote(event.workload.namespace, safe="")
        if group:
            path = f"/apis/events.k8s.io/v1/namespaces/{namespace}/events"
            body = event_body(event, instance=self._instance)
        else:
            path = f"/api/v1/namespaces/{namespace}/events"
            body = core_event_body(event, instance=self._instance)
        try:
            self._transport.request(
                f"create event {event.reason} for {event.workload.ref}",
                lambda: self._transport.send("POST", path, body=body),
                best_effort=True,
            )
        except ConflictError:
            logger.debug("event %s already exists (a retried create)", body["metadata"]["name"])
