"""The connection and politeness options of every command that may talk to a cluster.

``--kubeconfig``, ``--context``, ``--qps``, ``--burst``, ``--concurrency``, ``--retries``,
``--request-timeout``, ``--breaker-threshold`` and ``--scope-namespaces`` are declared once and
given to a command as one parameter, ``cluster``:

- :func:`with_cluster_options`: a :class:`~nsshutdown.session.session.ClusterOptions`, for the
  commands that always connect;
- :func:`with_cluster_args`: the checked :class:`ClusterArgs`, turned into ``ClusterOptions`` only
  when the command connects. ``validate FILE`` and ``plan --namespace`` take the options but never
  connect: they do not import the session (and with it the executor and ``tenacity``).

Nothing here imports the session or the API client when the options are declared: the defaults
are those of :class:`~nsshutdown.kube.limits.Limits`, a module that imports nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from nsshutdown.cli.options import Context, Kubeconfig, bundle_options
from nsshutdown.errors import UsageError
from nsshutdown.kube.limits import Limits

if TYPE_CHECKING:
    from nsshutdown.session.session import ClusterOptions

_LIMITS: Final = Limits()
DEFAULT_QPS: Final = _LIMITS.qps
DEFAULT_BURST: Final = _LIMITS.burst
DEFAULT_CONCURRENCY: Final = _LIMITS.concurrency
DEFAULT_RETRIES: Final = _LIMITS.attempts - 1  # --retries: the attempts after the first
DEFAULT_REQUEST_TIMEOUT: Final = _LIMITS.timeout_seconds
DEFAULT_BREAKER_THRESHOLD: Final = _LIMITS.breaker_threshold

Qps = Annotated[
    float,
    typer.Option("--qps", envvar="NSSHUTDOWN_QPS", help="API requests per second (0: no limit)."),
]
Burst = Annotated[
    int, typer.Option("--burst", envvar="NSSHUTDOWN_BURST", help="Requests allowed above --qps.")
]
Concurrency = Annotated[
    int,
    typer.Option(
        "--concurrency", envvar="NSSHUTDOWN_CONCURRENCY", min=1, help="Requests in flight."
    ),
]
Retries = Annotated[
    int,
    typer.Option(
        "--retries",
        envvar="NSSHUTDOWN_RETRIES",
        min=0,
        help="Retries of a request failing with 429, 5xx, a reset or a timeout.",
    ),
]
RequestTimeout = Annotated[
    float,
    typer.Option(
        "--request-timeout", envvar="NSSHUTDOWN_REQUEST_TIMEOUT", help="Seconds per API request."
    ),
]
BreakerThreshold = Annotated[
    int,
    typer.Option(
        "--breaker-threshold",
        envvar="NSSHUTDOWN_BREAKER_THRESHOLD",
        min=1,
        help="Consecutive failed API requests after which the run stops writing (exit 2).",
    ),
]
ScopeNamespaces = Annotated[
    str | None,
    typer.Option(
        "--scope-namespaces",
        envvar="NSSHUTDOWN_SCOPE_NAMESPACES",
        metavar="NS[,NS...]",
        help="Only these namespaces: each is read with get and listed on its own, nothing "
        "cluster-wide (for RBAC granted per namespace). Default: the whole cluster.",
    ),
]
_NAMESPACE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def parse_scope(text: str | None) -> tuple[str, ...]:
    """``"team-a,team-b"`` -> ``("team-a", "team-b")``; every name must be a namespace name."""
    names = tuple(dict.fromkeys(n.strip() for n in (text or "").split(",") if n.strip()))
    bad = [n for n in names if not _NAMESPACE_NAME.fullmatch(n)]
    if bad or (text is not None and not names):
        raise UsageError(f"--scope-namespaces: not namespace names: {', '.join(bad) or repr(text)}")
    return names


@dataclass(frozen=True)
class ClusterArgs:
    """The cluster options as given, checked (a bad value is refused before anything runs)."""

    kubeconfig: Path | None = None
    context: str | None = None
    qps: float = DEFAULT_QPS
    burst: int = DEFAULT_BURST
    concurrency: int = DEFAULT_CONCURRENCY
    retries: int = DEFAULT_RETRIES
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    breaker_threshold: int = DEFAULT_BREAKER_THRESHOLD
    scope: tuple[str, ...] = ()

    def options(self) -> ClusterOptions:
        """The session's options: imports the session, so only a command that connects asks."""
        from nsshutdown.session.session import ClusterOptions  # noqa: PLC0415 - see the module's doc

        limits = Limits(
            qps=self.qps,
            burst=self.burst,
            concurrency=self.concurrency,
            attempts=self.retries + 1,
            timeout_seconds=self.request_timeout,
            breaker_threshold=self.breaker_threshold,
        )
        return ClusterOptions(
            kubeconfig=self.kubeconfig, context=self.context, limits=limits, scope=self.scope
        )


#: (parameter, annotation, default) of every option the bundles add.
_PARAMETERS: Final[tuple[tuple[str, object, object], ...]] = (
    ("kubeconfig", Kubeconfig, None),
    ("context", Context, None),
    ("qps", Qps, DEFAULT_QPS),
    ("burst", Burst, DEFAULT_BURST),
    ("concurrency", Concurrency, DEFAULT_CONCURRENCY),
    ("retries", Retries, DEFAULT_RETRIES),
    ("request_timeout", RequestTimeout, DEFAULT_REQUEST_TIMEOUT),
    ("breaker_threshold", BreakerThreshold, DEFAULT_BREAKER_THRESHOLD),
    ("scope_namespaces", ScopeNamespaces, None),
)


def cluster_args(*, scope_namespaces: str | None, **raw: Any) -> ClusterArgs:
    if raw["qps"] < 0 or raw["burst"] < 1 or raw["request_timeout"] <= 0:
        raise UsageError("--qps must be >= 0, --burst >= 1 and --request-timeout > 0")
    return ClusterArgs(**raw, scope=parse_scope(scope_namespaces))


def cluster_options(**raw: Any) -> ClusterOptions:
    return cluster_args(**raw).options()


#: Replace the command's ``cluster: ClusterOptions`` parameter by the options above.
with_cluster_options = bundle_options("cluster", _PARAMETERS, cluster_options)
#: Replace the command's ``cluster: ClusterArgs`` parameter by the options above.
with_cluster_args = bundle_options("cluster", _PARAMETERS, cluster_args)
