"""Data availability: the gateway publishes a challenged input before the challenge's deadline.

A committee or panel seat that could not get a ticket's input from ``GET /_inputs`` opens a
data-availability challenge on the EvidenceCourt. The gateway follows ``DataChallenged`` for its
own batches and answers each with ``publishInput`` (the input from its ticket book; it earns the
challenger's bond). A challenge left unanswered voids the ticket: the gateway's bond refunds the
project the ticket's reward and loses ``dataSlash`` besides.

Tickets of this gateway that an attester posted as orphans (``postOrphans``: the gateway could not
post them before the attesters' orphan grace, e.g. while its chain node was down or under a load
its poster could not keep up with) are in batches the gateway did not post. The book may have them
in any state: ``issued`` (not posted yet), ``posting`` (our own post of them in flight, refused
later: posted already), ``rejected``. They are found from the chain (:meth:`InputPublisher.scan`:
the ``OrphansPosted`` batches whose ``BatchPosted`` names this gateway, their leaves from the
calldata), recorded in the book under that batch (``posted``; the poster never posts them again),
and their inputs are served and their challenges answered like the gateway's own: an honest
gateway used to refuse the seats (only ``rejected`` tickets were looked for) and let them be
voided, its bond paying for each.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from peerhost.chain.courts import DATA_OPEN, DATA_PUBLISHED, DATA_VOIDED, CourtsView
from peerhost.chain.settlement import SettlementView
from peerhost.gateway.ticketbook import StoredTicket, TicketBook
from peerhost.wire.ticket import request_id

log = logging.getLogger(__name__)

#: Sends a transaction (to, calldata, gas) and returns its receipt.
Transact = Callable[[str, bytes, int], Awaitable[dict[str, Any]]]


class InputPublisher:
    """Answers data-availability challenges on this gateway's batches (module docstring).

    Args:
        view: Settlement contracts (the courts are found from them).
        book: This gateway's ticket book (the inputs).
        transact: Signs and sends one transaction as this gateway.
        gateway: This gateway's address (whose orphan batches are looked for).
        drawn: Told, per project, the rewards of tickets found in an orphan batch that were in
            flight until then (the chain drew them from the reserve).
    """

    def __init__(
        self,
        view: SettlementView,
        book: TicketBook,
        transact: Transact,
        gateway: str,
        drawn: Callable[[bytes, int], None] | None = None,
    ) -> None:
        self.view = view
        self.book = book
        self.transact = transact
        self.gateway = gateway.lower()
        self._drawn = drawn or (lambda project_id, amount: None)
        self._courts: CourtsView | None = None
        self._from_block = 0
        self._done: set[tuple[int, int]] = set()
        self.published = 0
        self._orphans_read = 0  # the next block whose OrphansPosted logs are read
        self._elsewhere: dict[int, tuple[int, int]] = {}  # seq -> (batch id, leaf index)

    async def start(self, from_block: int) -> None:
        self._from_block = self._orphans_read = from_block
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
                stored = await self._orphan_at(*key)
            if stored is None:
                (batch,) = await self.view.get_batches([key[0]], missing=True)
                if not batch or str(batch["gateway"]).lower() != self.gateway:
                    self._done.add(key)  # another gateway's batch
                # else this gateway's own batch, not in its book yet (a post whose receipt was
                # not read: its tickets still ``posting``): looked at again at the next tick.
                # Before, taken for another gateway's, its challenge was never answered and the
                # ticket voided at the bond's cost
                continue
            challenge = await courts.data_challenge_of(*key)
            state = int(challenge["state"])
            if state in (DATA_PUBLISHED, DATA_VOIDED):
                self._done.add(key)
                continue
            if state != DATA_OPEN:  # none yet (a read of an older state): the next tick
                continue
            data = courts.evidence.encode_call("publishInput", key[0], key[1], stored.input)
            receipt = await self.transact(courts.courts.evidence, data, 300_000 + 40 * len(data))
            if int(str(receipt["status"]), 16) == 1:
                # done once the chain shows it published (a reorg that drops this block opens
                # the challenge again: published again)
                self.published += 1
                log.info("published the input of batch %d leaf %d (challenged)", *key)
            else:
                self._done.add(key)
                log.warning("publishInput of batch %d leaf %d reverted", *key)

    async def placed_elsewhere(self, stored: StoredTicket) -> tuple[int, int] | None:
        """(batch id, leaf index) of a ticket of this gateway that an attester posted as an orphan
        (module docstring), whatever its state in the book; None when no such batch carries it."""
        seq = stored.ticket.seq
        if seq not in self._elsewhere:
            await self.scan()
        return self._elsewhere.get(seq)

    async def scan(self) -> dict[int, tuple[int, int]]:
        """Reads the orphan batches of this gateway mined since the last scan (one ``eth_getLogs``,
        and the calldata of each such batch); returns their tickets, seq -> (batch id, leaf
        index), and records them in the book as ``posted`` in that batch."""
        head = await self.view.block_number()
        if head < self._orphans_read:
            return {}
        events = await self.view.events(
            "settlement",
            ("BatchPosted", "OrphansPosted"),
            first=self._orphans_read,
            last=head,
        )
        mine = {
            int(args["batchId"])
            for name, _, args in events
            if name == "BatchPosted" and str(args["gateway"]).lower() == self.gateway
        }
        found: dict[int, tuple[int, int]] = {}
        for name, raw, args in events:
            batch_id = int(args["batchId"])
            if name != "OrphansPosted" or batch_id not in mine:
                continue
            leaves = await self.view.posted_leaves(raw["transactionHash"])
            for index, leaf in enumerate(leaves):
                found[leaf.seq] = (batch_id, index)
        self._orphans_read = head + 1
        if found:
            self._elsewhere.update(found)
            for project_id, amount in self.book.mark_placed(found).items():
                self._drawn(project_id, amount)
            log.warning(
                "%d ticket(s) of this gateway were posted as orphans by attesters: recorded in "
                "their batches, never posted again",
                len(found),
            )
        return found

    async def _orphan_at(self, batch_id: int, index: int) -> StoredTicket | None:
        """This gateway's ticket at leaf ``index`` of an orphan batch ``batch_id``, if it is one."""
        posted = await self.view.logs("OrphansPosted", self._from_block, batch_id=batch_id)
        if not posted:
            return None
        batch = await self.view.get_batch(batch_id)
        if str(batch["gateway"]).lower() != self.gateway:
            return None
        leaves = await self.view.posted_leaves(posted[-1][0]["transactionHash"])
        if index >= len(leaves):
            return None
        return self.book.get(self._request_id(str(batch["gateway"]), leaves[index].seq))

    def _request_id(self, gateway: str, seq: int) -> bytes:
        config = self.view.config
        return request_id(config.chain_id, config.settlement, gateway, seq)
