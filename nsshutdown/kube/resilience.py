"""How every API request is sent: rate limited, bounded, counted, retried and circuit-broken.

Independent of the Kubernetes client: a call is any function that raises ``nsshutdown.errors``
types, so this is unit-tested with plain functions.

- Transient failures (HTTP 429, 5xx, connection errors and timeouts, ``status == 0``) are retried
  with exponential backoff and full jitter, honouring ``Retry-After``, bounded by attempts and by
  total time.
- Every failed request (transient kind) counts towards the circuit breaker; any answer from the
  server resets it. Once open, it stays open for the run: every later call fails fast with
  ``CircuitOpenError`` and the run stops writing.
- A token bucket limits the request rate (QPS, burst) and a semaphore the requests in flight.
- A *best-effort* call (an Event, ``--events``) is rate limited, bounded and counted like any
  other, and refused once the circuit is open, but it is neutral to the breaker: its failure does
  not count towards opening it, and its success does not reset the count. Otherwise a dead events
  endpoint could stop a run that scales fine, and, the other way round, the Warning Event that
  follows each failed patch would reset the count every time, so patches failing one after the
  other would never open the circuit. It is tried at most twice: an Event is not worth delaying
  the other namespaces for.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from nsshutdown.errors import ApiError, CircuitOpenError
from nsshutdown.kube.limits import Limits

if TYPE_CHECKING:
    from tenacity import RetryCallState

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Attempts of a best-effort call (an Event), the first included.
BEST_EFFORT_ATTEMPTS = 2


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, CircuitOpenError) or not isinstance(exc, ApiError):
        return False
    return exc.status in (0, 429) or exc.status >= 500


class TokenBucket:
    """``qps`` tokens a second, at most ``burst`` saved up. Callers wait for their token."""

    def __init__(
        self,
        qps: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._qps, self._burst = qps, max(1, burst)
        self._tokens = float(self._burst)
        self._clock, self._sleep = clock, sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping as long as needed; return the time waited."""
        if self._qps <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._qps)
            self._last = now
            self._tokens -= 1  # reserve now, wait outside the lock
            wait = -self._tokens / self._qps if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


class CircuitBreaker:
    def __init__(self, threshold: int) -> None:
        self._threshold = max(1, threshold)
        self._failures = 0
        self._open = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self._open

    def check(self) -> None:
        if self._open:
            raise CircuitOpenError(
                f"circuit open after {self._threshold} consecutive failed API requests"
            )

    def success(self) -> None:
        with self._lock:
            self._failures = 0

    def failure(self) -> bool:
        """Record a failed request; True when this one opened the circuit."""
        with self._lock:
            self._failures += 1
            opened = not self._open and self._failures >= self._threshold
            self._open = self._open or opened
            return opened


class Resilience:
    """Wraps every request: ``resilience.call(fn, what="list deployments")``."""

    def __init__(self, limits: Limits, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.limits = limits
        self.breaker = CircuitBreaker(limits.breaker_threshold)
        self._bucket = TokenBucket(limits.qps, limits.burst, sleep=sleep)
        self._in_flight = threading.BoundedSemaphore(max(1, limits.concurrency))
        self._sleep = sleep
        self._requests = 0
        self._count_lock = threading.Lock()

    @property
    def requests(self) -> int:
        return self._requests

    def call(self, fn: Callable[[], T], *, what: str, best_effort: bool = False) -> T:
        started = time.monotonic()
        try:  # nearly every call: one attempt, without the cost of setting up retries (~0.1 ms)
            return self._attempt(fn, what, best_effort)
        except ApiError as exc:
            if not is_transient(exc):
                raise
            failed: ApiError | None = exc
        # Retries: the failed attempt is replayed as the first, so that the backoff, Retry-After,
        # the attempts and the total time are counted exactly as if it had been made in the loop.
        # tenacity is imported here, by the first request that fails: most runs never need it.
        from tenacity import (  # noqa: PLC0415
            Retrying,
            retry_if_exception,
            stop_after_attempt,
            stop_after_delay,
            wait_random_exponential,
        )

        backoff = wait_random_exponential(
            multiplier=self.limits.backoff_seconds, max=self.limits.backoff_max_seconds
        )

        def attempt() -> T:
            nonlocal failed
            if failed is not None:
                replayed, failed = failed, None
                raise replayed
            return self._attempt(fn, what, best_effort)

        attempts = min(BEST_EFFORT_ATTEMPTS, self.limits.attempts) if best_effort else None
        left = max(0.0, self.limits.retry_seconds - (time.monotonic() - started))
        retrying = Retrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(attempts or self.limits.attempts) | stop_after_delay(left),
            wait=lambda state: self._wait(state, float(backoff(state))),
            sleep=self._sleep,
            before_sleep=lambda state: _log_retry(state, what),
            reraise=True,
        )
        return retrying(attempt)

    def _attempt(self, fn: Callable[[], T], what: str, best_effort: bool) -> T:
        self.breaker.check()
        self._bucket.acquire()
        with self._in_flight:
            with self._count_lock:
                self._requests += 1
            if best_effort:
                return fn()  # neutral to the breaker: see the module docstring
            try:
                result = fn()
            except ApiError as exc:
                if not is_transient(exc):
                    self.breaker.success()  # the server answered: it is alive
                    raise
                if self.breaker.failure():
                    logger.error("circuit breaker opened: %s", exc)
                    raise CircuitOpenError(
                        f"circuit breaker opened: {exc}", status=exc.status
                    ) from exc
                raise
        self.breaker.success()
        return result

    def _wait(self, state: RetryCallState, backoff: float) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ApiError) and exc.retry_after is not None:
            return min(max(exc.retry_after, backoff), self.limits.retry_seconds)
        return backoff


def _log_retry(state: RetryCallState, what: str) -> None:
    exc = state.outcome.exception() if state.outcome else None
    delay = state.next_action.sleep if state.next_action else 0.0
    logger.warning(
        "%s failed (attempt %d): %s; retrying in %.2fs", what, state.attempt_number, exc, delay
    )
