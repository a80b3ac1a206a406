"""Data availability: the gateway publishes a challenged input before the challenge's deadline.

A committee or panel seat that could not get a ticket's input from ``GET /_inputs`` opens a
data-availability challenge on the EvidenceCourt. The gateway follows ``DataChallenged`` for its
own batches and answers each with ``publishInput`` (the input from its ticket book; it earns the
challenger's bond). A challenge left unanswered voids the ticket: the gateway's bond refunds the
project the ticket's reward and loses ``dataSlash`` besides.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from peerhost.chain.courts import DATA_OPEN, CourtsView
from peerhost.chain.settlement import SettlementView
from peerhost.gateway.ticketbook import TicketBook

log = logging.getLogger(__name__)

#: Sends a transaction (to, calldata, gas) and returns its receipt.
Transact = Callable[[str, bytes, int], Awaitable[dict[str, Any]]]


class InputPublisher:
    """Answers data-availability challenges on this gateway's batches (module docstring).

    Args:
        view: Settlement contracts (the courts are found from them).
        book: This gateway's ticket book (the inputs).
        transact: Signs and sends one transaction as this gateway.
    """

    def __init__(self, view: SettlementView, book: TicketBook, transact: Transact) -> None:
        self.view = view
        self.book = book
        self.transact = transact
        self._courts: CourtsView | None = None
        self._from_block = 0
        self._done: set[tuple[int, int]] = set()
        self.published = 0

    async def start(self, from_block: int) -> None:
        self._from_block = from_block
        try:
            self._courts = await CourtsView.load(self.view)
        except ValueError:
            self._courts = None  # a deployment without the accountability courts

    async def tick(self) -> None:
        """Publishes the inputs of every open challenge on a ticket of this gateway."""
        courts = self._courts
        if courts is None:
            return
        for _, args in await courts.logs("evidence", "DataChallenged", self._from_block):
            key = (int(args["batchId"]), int(args["index"]))
            if key in self._done:
                continue
            stored = next((t for t in self.book.in_batch(key[0]) if t.leaf_index == key[1]), None)
            if stored is None:
                self._done.add(key)  # another gateway's batch
                continue
            challenge = await courts.data_challenge_of(*key)
            if int(challenge["state"]) != DATA_OPEN:
                self._done.add(key)
                continue
            data = courts.evidence.encode_call("publishInput", key[0], key[1], stored.input)
            receipt = await self.transact(courts.courts.evidence, data, 300_000 + 40 * len(data))
            self._done.add(key)
            if int(str(receipt["status"]), 16) == 1:
                self.published += 1
                log.info("published the input of batch %d leaf %d (challenged)", *key)
            else:
                log.warning("publishInput of batch %d leaf %d reverted", *key)
