"""A batch's phase derived from its stored state and the chain's clock, not asked of the chain.

``phaseOf`` is a pure function of a batch's stored record (``getBatch``: state, deadlines, holder
count, committed and revealed bits) and the block's timestamp (``SettlementStorage._phase``).
Asking it every tick of every batch's duty was the largest share of a worker's chain calls under
load; :func:`phase_at` applies the same rules locally, and :class:`BatchBook` keeps each batch's
record until a block arrives that can change it:

- The head (number, hash, timestamp) is read once per tick, shared by every duty: fed by the
  committee's log loop (:meth:`BatchBook.advance`, with the batches the new blocks' events name),
  or, when nobody feeds it for a while (a duty driven on its own), read by the first duty that
  asks.
- A batch's record is read again only when an event of the new blocks names it (its seating, a
  commitment, a reveal, its finalization, a reseed, ...), when this worker sent it a transaction
  (:meth:`BatchBook.touch`), after a reorg (every record), when the book's own head read sees a
  new block (it does not know the events then), and at the latest every ``refresh`` seconds.
- The phase moves by time alone from Commit to Reveal or Settle, and from Reveal to Settle: those
  are derived from the head's timestamp, as the contract judges them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

# ISettlementCoordinator.BatchState and .Phase
POSTED, SEATED, FINALIZED_STATE, CLOSED_STATE, EXPIRED_STATE = 1, 2, 3, 4, 5
NONE, AWAITING, COMMIT, REVEAL, SETTLE, FINALIZED, CLOSED, EXPIRED = range(8)

#: Events of the settlement contract that change a batch's stored record (first topic: batch id).
CHANGES = (
    "BatchPosted",
    "Reseeded",
    "BatchSeated",
    "SeatCommitted",
    "SeatRevealed",
    "BatchFinalized",
    "ResultsOpened",
    "BatchClosed",
    "BatchExpired",
)


def phase_at(batch: dict[str, Any], timestamp: int) -> int:
    """``SettlementStorage._phase`` of a ``getBatch`` record in a block of ``timestamp``."""
    state = int(batch["state"])
    if state == POSTED:
        return AWAITING
    if state != SEATED:
        return {FINALIZED_STATE: FINALIZED, CLOSED_STATE: CLOSED, EXPIRED_STATE: EXPIRED}.get(
            state, NONE
        )
    every = (1 << int(batch["holderCount"])) - 1
    committed = int(batch["committedBits"])
    if committed != every and timestamp < int(batch["commitDeadline"]):
        return COMMIT
    if (
        committed == 0
        or int(batch["revealedBits"]) == committed
        or timestamp >= int(batch["revealDeadline"])
    ):
        return SETTLE
    return REVEAL


@dataclass(frozen=True)
class Head:
    """The latest block as the book last saw it."""

    number: int
    hash: str
    timestamp: int


class _Chain(Protocol):
    async def head_info(self) -> tuple[int, str, int]: ...

    async def get_batch(self, batch_id: int) -> dict[str, Any]: ...

    async def get_batches(self, batch_ids: list[int]) -> list[dict[str, Any]]: ...


class BatchBook:
    """Batches' records and the chain's head, read once per tick for every duty (module docstring).

    Args:
        view: The settlement reads (``head_info``, ``get_batch``, ``get_batches``).
        tick: Seconds a head read serves every duty.
        fed_for: Seconds after the last :meth:`advance` that the feeder is trusted to be alive;
            past them the book reads the head itself.
        refresh: Seconds after which a record is read again whatever the events said.
    """

    def __init__(
        self, view: _Chain, *, tick: float = 0.25, fed_for: float = 2.0, refresh: float = 10.0
    ) -> None:
        self.view = view
        self.tick = tick
        self.fed_for = fed_for
        self.refresh = refresh
        self.head: Head | None = None
        self._head_at = 0.0  # monotonic time of the last head read (fed or own)
        self._fed_at = float("-inf")  # monotonic time of the last advance()
        self._records: dict[int, tuple[dict[str, Any], float]] = {}  # id -> (record, read at)
        self._stale: set[int] = set()
        self._reading: asyncio.Lock | None = None
        self.reads = 0  # getBatch calls made (for tests and metrics)
        self.head_reads = 0  # head reads made by the book itself

    # ---- fed by the log loop ------------------------------------------------------------------

    def advance(self, head: Head, changed: Iterable[int]) -> None:
        """The feeder read the events of every block up to ``head``: ``changed`` are the batches
        they name (their records are read again when next asked)."""
        self._stale.update(changed)
        self.head = head
        self._head_at = self._fed_at = time.monotonic()

    def fed(self, now: float | None = None) -> bool:
        return (time.monotonic() if now is None else now) - self._fed_at < self.fed_for

    def reorg(self) -> None:
        """Every record is read again (a reorg may have changed any)."""
        self._stale.update(self._records)

    def mined(self) -> None:
        """This worker mined a block (a devnet that mines on transactions): the next ask reads
        the head itself, and every record it sees the new block's events of none."""
        self._head_at = self._fed_at = float("-inf")

    def touch(self, batch_id: int) -> None:
        """This worker changed ``batch_id`` (its transaction is mined): read it again."""
        self._stale.add(batch_id)

    def forget(self, batch_id: int) -> None:
        self._records.pop(batch_id, None)
        self._stale.discard(batch_id)

    # ---- read by the duties --------------------------------------------------------------------

    async def current(self) -> Head:
        """The head, at most ``tick`` seconds old (read here when no feeder keeps it fresh)."""
        now = time.monotonic()
        if self.head is not None and (now - self._head_at < self.tick or self.fed(now)):
            return self.head
        if self._reading is None:
            self._reading = asyncio.Lock()
        async with self._reading:  # concurrent duties share one read
            if self.head is not None and time.monotonic() - self._head_at < self.tick:
                return self.head
            number, block_hash, timestamp = await self.view.head_info()
            self.head_reads += 1
            if self.head is None or self.head.hash != block_hash:
                self._stale.update(self._records)  # a new block: no events seen, so any
            self.head = Head(number, block_hash, timestamp)
            self._head_at = time.monotonic()
            return self.head

    async def batch(self, batch_id: int) -> dict[str, Any]:
        """The batch's record as of the head (read again only when it may have changed)."""
        await self.current()
        kept = self._records.get(batch_id)
        if (
            kept is not None
            and batch_id not in self._stale
            and time.monotonic() - kept[1] < self.refresh
        ):
            return kept[0]
        self._stale.discard(batch_id)  # before the read: an event seen meanwhile marks it again
        record = await self.view.get_batch(batch_id)
        self.reads += 1
        self._records[batch_id] = (record, time.monotonic())
        return record

    async def phase(self, batch_id: int) -> int:
        """The batch's phase now: its record's, at the head's timestamp."""
        record = await self.batch(batch_id)
        head = self.head
        assert head is not None  # read by batch()
        return phase_at(record, head.timestamp)

    async def timestamp(self) -> int:
        return (await self.current()).timestamp
