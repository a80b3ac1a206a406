"""The chain's clock as seen from here: deadlines are block timestamps, not local time.

On an automining devnet block timestamps follow the wall clock until someone warps time; the
offset is refreshed from the latest block so that sleeps toward a deadline are sized right. The
phase itself is always read from the chain (``pending``) before acting.
"""

from __future__ import annotations

import time


class ChainClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def observe(self, block_timestamp: int) -> None:
        """Learns from a block timestamp (only ever moves the estimate forward)."""
        ahead = block_timestamp - time.time()
        if ahead > self.offset:
            self.offset = ahead

    def now(self) -> float:
        return time.time() + self.offset

    def until(self, timestamp: int) -> float:
        """Seconds until the chain reaches ``timestamp`` (negative once past)."""
        return timestamp - self.now()
