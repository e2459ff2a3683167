"""The client-side politeness and resilience settings of a run, and their defaults.

A module of its own, importing nothing: the command line declares its options with these
defaults without loading the request path (``kube.resilience`` and ``tenacity``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Client-side politeness and resilience settings (each is a command-line flag)."""

    qps: float = 0.0  # 0 = unlimited: bounded concurrency and the server's APF are the limit
    burst: int = 100
    concurrency: int = 8
    attempts: int = 5  # per call, the first try included
    retry_seconds: float = 30.0  # give up retrying a call after this long
    backoff_seconds: float = 0.2  # first backoff; doubles up to backoff_max_seconds
    backoff_max_seconds: float = 5.0
    breaker_threshold: int = 10  # consecutive failed requests that open the circuit
    timeout_seconds: float = 30.0  # per request (read); connect is a fraction of it
