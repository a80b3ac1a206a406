"""The chain's clock as seen from here: deadlines are block timestamps, not local time.

On an automining devnet block timestamps follow the wall clock until someone warps time (or a
snapshot is restored, which winds it back); the offset is refreshed from the *pending* block,
whose timestamp is what a transaction sent now would see, so sleeps toward a deadline are sized
right; on a chain that mines blocks, from each new block's timestamp as its head is pushed (a
block's timestamp is the chain's time when it was mined, which is when the push arrives, within
the block time's rounding). The phase itself is always read from the chain (``pending``) before
acting.
"""

from __future__ import annotations

import time


class ChainClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def observe(self, pending_timestamp: int) -> None:
        """Learns the chain's time from the pending block's timestamp."""
        self.offset = pending_timestamp - time.time()

    def observe_block(self, timestamp: int, learnt_at: float) -> None:
        """Learns the chain's time from a new block's ``timestamp``, learnt at wall time
        ``learnt_at`` (its head pushed by the node as it was mined)."""
        self.offset = timestamp - learnt_at

    def now(self) -> float:
        return time.time() + self.offset

    def until(self, timestamp: int) -> float:
        """Seconds until the chain reaches ``timestamp`` (negative once past)."""
        return timestamp - self.now()
