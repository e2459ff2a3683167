"""Retries, circuit breaker and rate limit, with plain functions standing in for requests."""

from __future__ import annotations

import pytest

from nsshutdown.errors import ApiError, CircuitOpenError, ForbiddenError
from nsshutdown.kube.limits import Limits
from nsshutdown.kube.resilience import Resilience, TokenBucket, is_transient


class Flaky:
    """Fails with each error in ``errors`` in turn, then returns "ok"."""

    def __init__(self, *errors: ApiError) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def resilience(sleeps: list[float], **limits: float) -> Resilience:
    return Resilience(Limits(qps=0, **limits), sleep=sleeps.append)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [0, 429, 500, 502, 503, 504])
def test_transient_failures_are_retried_with_backoff(status: int) -> None:
    sleeps: list[float] = []
    call = Flaky(ApiError("x", status=status), ApiError("x", status=status))
    assert resilience(sleeps).call(call, what="list") == "ok"
    assert call.calls == 3
    assert len(sleeps) == 2
    assert all(0 <= s <= 5 for s in sleeps)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_answers_are_not_retried(status: int) -> None:
    call = Flaky(ApiError("x", status=status))
    with pytest.raises(ApiError):
        resilience([]).call(call, what="patch")
    assert call.calls == 1


def test_retry_after_is_honoured() -> None:
    sleeps: list[float] = []
    call = Flaky(ApiError("slow down", status=429, retry_after=7))
    resilience(sleeps).call(call, what="list")
    assert sleeps == [7]


def test_attempts_are_bounded() -> None:
    call = Flaky(*[ApiError("down", status=503)] * 10)
    with pytest.raises(ApiError, match="down"):
        resilience([], attempts=3, breaker_threshold=100).call(call, what="list")
    assert call.calls == 3


def test_every_attempt_is_counted_as_a_request() -> None:
    r = resilience([])
    r.call(Flaky(ApiError("x", status=500)), what="a")
    r.call(Flaky(), what="b")
    assert r.requests == 3


def test_circuit_opens_after_consecutive_failures_and_then_fails_fast() -> None:
    r = resilience([], attempts=2, breaker_threshold=3)
    with pytest.raises(ApiError):
        r.call(Flaky(*[ApiError("down", status=503)] * 2), what="one")
    with pytest.raises(CircuitOpenError, match="circuit breaker opened") as opened:
        r.call(Flaky(*[ApiError("down", status=503)] * 2), what="two")
    assert opened.value.__cause__ is not None
    untouched = Flaky()
    with pytest.raises(CircuitOpenError) as refused:
        r.call(untouched, what="three")
    assert untouched.calls == 0
    assert refused.value.__cause__ is None
    assert r.breaker.is_open


def test_any_answer_resets_the_breaker() -> None:
    r = resilience([], attempts=1, breaker_threshold=2)
    with pytest.raises(ApiError):
        r.call(Flaky(ApiError("down", status=503)), what="a")
    with pytest.raises(ForbiddenError):
        r.call(Flaky(ForbiddenError("no", status=403)), what="b")  # the server answered
    with pytest.raises(ApiError):
        r.call(Flaky(ApiError("down", status=503)), what="c")
    assert not r.breaker.is_open


def test_token_bucket_allows_a_burst_then_paces_at_qps() -> None:
    now = [0.0]
    sleeps: list[float] = []
    bucket = TokenBucket(10, 3, clock=lambda: now[0], sleep=sleeps.append)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == pytest.approx([0.1, 0.2])
    now[0] = 10.0  # long idle: refilled, but never above the burst
    assert [bucket.acquire() for _ in range(3)] == [0, 0, 0]
    assert bucket.acquire() == pytest.approx(0.1)


def test_is_transient() -> None:
    assert is_transient(ApiError("reset", status=0))
    assert not is_transient(CircuitOpenError("open", status=503))
    assert not is_transient(ValueError("not ours"))
