"""A posted batch's committee, as the input endpoint checks who asks: read from the chain once
and kept a few seconds for the seats' next asks.

Each of a batch's seats asks for the input of every leaf it re-runs, all within a few blocks of
the batch's seed block. Each ask read the committee from the chain again: the batch and the log
of its seating, or before anyone seated it, the batch, its seed block and the draw (two to four
JSON-RPC calls, 2.8 ms of the gateway's CPU per call in ``bench/e2e_bench.py``'s loaded fast
phase, more than the call's own path). One read per batch now serves every ask for ``ttl``
seconds, the asks that come while it is out waiting for it.

Only a yes is taken from a kept committee: a worker it does not name is checked against the chain
again before it is refused (a seat drawn since it was read, by a reorg or a reseeded batch, is
never refused on a stale read: refusing a seat costs an honest gateway a data-availability
challenge). A kept committee is at most ``ttl`` seconds old: a worker a reorg unseated may read
the batch's inputs for that long.
"""

from __future__ import annotations

from peerhost.chain.reads import SharedReads
from peerhost.chain.settlement import SettlementView

#: Seconds a batch's committee is kept (the module docstring).
SEATS_TTL = 10.0
#: Batches kept at once; past it, those read more than ``ttl`` ago are dropped.
_KEPT = 256


class BatchSeats:
    """The seats of each batch (see the module docstring).

    Args:
        view: Settlement reads (the batch, its seating's log, its seed block's draw).
        ttl: Seconds a committee read from the chain is kept.
    """

    def __init__(self, view: SettlementView, ttl: float = SEATS_TTL) -> None:
        self.view = view
        self._reads = SharedReads(ttl)

    @property
    def reads(self) -> int:
        """Committees read from the chain so far."""
        return self._reads.reads

    async def holds(self, batch_id: int, worker: str) -> bool:
        """Whether ``worker`` holds a seat of batch ``batch_id``'s committee: seated already, or
        drawn by its seed block while nobody seated it (a holder seats its batch with its
        commitment, so it runs the leaves first)."""
        lowered = worker.lower()
        if lowered in await self._seats(batch_id):
            return True
        self._reads.forget(batch_id)  # only a yes is taken from a kept committee
        return lowered in await self._seats(batch_id)

    async def _seats(self, batch_id: int) -> frozenset[str]:
        if self._reads.kept > _KEPT:
            self._reads.drop_stale()
        seats: frozenset[str] = await self._reads.get(batch_id, lambda: self._read(batch_id))
        return seats

    async def _read(self, batch_id: int) -> frozenset[str]:
        holders, _ = await self.view.holders_of(batch_id)
        if holders:
            return frozenset(h.lower() for h in holders)
        draw = await self.view.seat_draw(batch_id)  # not seated yet: the seats it will have
        return frozenset(s.lower() for s in draw.seats) if draw is not None else frozenset()
