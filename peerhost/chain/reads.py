"""Chain values a hot path reads often and may use for a few seconds: one read shared by all.

A gateway issuing tickets and a worker checking them consult the same few values for every call
(the active set, a project's reserve, a gateway's bond and authorization, the chain's clock). Each
is kept ``ttl`` seconds; when it is stale, the first caller reads it and every caller that comes
while that read is out waits for the same read, instead of sending its own (a burst of calls used
to send one read each, every time a value went stale).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


def _retrieved(read: asyncio.Future[Any]) -> None:
    """Marks a shared read's failure as seen (its waiters, if any, got it already)."""
    if not read.cancelled():
        read.exception()


class SharedReads:
    """Values by key, each read at most once per ``ttl`` seconds, concurrent misses sharing it.

    A read that fails fails every caller waiting for it and is not cached: the next call reads
    again. A caller cancelled while waiting does not cancel the read for the others.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.reads = 0  # reads made (the tests and benchmarks count them)
        self._values: dict[Hashable, tuple[float, Any]] = {}
        self._reading: dict[Hashable, asyncio.Future[Any]] = {}

    async def get(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        """The value of ``key``: cached if read less than ``ttl`` ago, else ``load()``'s."""
        entry = self._values.get(key)
        if entry is not None and time.monotonic() - entry[0] <= self.ttl:
            return entry[1]
        reading = self._reading.get(key)
        if reading is None:
            reading = asyncio.ensure_future(self._read(key, load))
            reading.add_done_callback(_retrieved)
            self._reading[key] = reading
        return await asyncio.shield(reading)

    @property
    def kept(self) -> int:
        """Values kept, stale ones included."""
        return len(self._values)

    def drop_stale(self) -> None:
        """Drops the values read more than ``ttl`` ago (a cache of many keys stays small)."""
        now = time.monotonic()
        for key in [k for k, (at, _) in self._values.items() if now - at > self.ttl]:
            del self._values[key]

    def forget(self, key: Hashable) -> None:
        """Drops the cached value of ``key`` (it is known to have changed)."""
        self._values.pop(key, None)

    async def _read(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        try:
            started = time.monotonic()
            value = await load()
            self.reads += 1
            self._values[key] = (started, value)
            return value
        finally:
            self._reading.pop(key, None)
