"""The chain's clock as seen from here: deadlines are block timestamps, not local time.

On an automining devnet block timestamps follow the wall clock until someone warps time (or a
snapshot is restored, which winds it back); the offset is refreshed from the *pending* block,
whose timestamp is what a transaction sent now would see, so sleeps toward a deadline are sized
right. The phase itself is always read from the chain (``pending``) before acting.
"""

from __future__ import annotations

import time


class ChainClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def observe(self, pending_timestamp: int) -> None:
        """Learns the chain's time from the pending block's timestamp."""
        self.offset = pending_timestamp - time.time()

    def now(self) -> float:
        return time.time() + self.offset

    def until(self, timestamp: int) -> float:
        """Seconds until the chain reaches ``timestamp`` (negative once past)."""
        return timestamp - self.now()
