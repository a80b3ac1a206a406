"""A token bucket per client: ``rate`` requests per second sustained, ``burst`` at once."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from peerhost.gateway.errors import RateLimited


class RateLimiter:
    """Per-key token buckets, the least recently seen dropped beyond ``max_clients``.

    Args:
        rate: Tokens added per second (0 disables the limiter).
        burst: Bucket capacity.
        max_clients: Buckets kept; an evicted client starts again with a full bucket.
        clock: Monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, client: str) -> None:
        """Spends one token of ``client``; raises RateLimited when the bucket is empty."""
        if not self.enabled:
            return
        now = self._clock()
        tokens, last = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            raise RateLimited(client, (1.0 - tokens) / self.rate)
        self._buckets[client] = (tokens - 1.0, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
