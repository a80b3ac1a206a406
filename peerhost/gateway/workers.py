"""Which addresses are active (registered, staked) workers, cached briefly.

WorkerRegistry events about a worker (registration, stake changes, slashing) drop its entry, so
the cache is mostly fresh; ``ttl`` bounds staleness otherwise, and a "not active" answer is kept
for at most ``negative_ttl`` so that a worker that just registered is not refused for long.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from peerhost.gateway.chainview import GatewayProtocol


class ActiveWorkers:
    def __init__(
        self,
        protocol: GatewayProtocol,
        ttl: float,
        negative_ttl: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.protocol = protocol
        self.ttl = ttl
        self.negative_ttl = min(ttl, negative_ttl)
        self._clock = clock
        self._entries: dict[str, tuple[float, bool]] = {}

    async def is_active(self, worker: str) -> bool:
        key = worker.lower()
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None:
            at, active = entry
            if now - at < (self.ttl if active else self.negative_ttl):
                return active
        active = await self.protocol.is_active(worker)
        self._entries[key] = (self._clock(), active)
        return active

    def invalidate(self, worker: str) -> None:
        self._entries.pop(worker.lower(), None)
