from __future__ import annotations

import pytest

from peerhost.gateway.errors import RateLimited
from peerhost.gateway.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_take__burst_spent__raises_with_retry_after() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    for _ in range(3):
        limiter.take("1.2.3.4")
    with pytest.raises(RateLimited) as info:
        limiter.take("1.2.3.4")
    assert info.value.retry_after == pytest.approx(0.5)


def test_take__tokens_refill_over_time() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=1, clock=clock)
    limiter.take("a")
    clock.now += 0.5
    limiter.take("a")
    with pytest.raises(RateLimited):
        limiter.take("a")


def test_take__clients_have_separate_buckets() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=Clock())
    limiter.take("a")
    limiter.take("b")
    with pytest.raises(RateLimited):
        limiter.take("a")


def test_take__rate_zero__never_limits() -> None:
    limiter = RateLimiter(rate=0, burst=1, clock=Clock())
    for _ in range(1000):
        limiter.take("a")


def test_take__many_clients__oldest_evicted() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, max_clients=2, clock=Clock())
    limiter.take("a")
    limiter.take("b")
    limiter.take("c")  # evicts a
    limiter.take("a")  # a fresh bucket again
