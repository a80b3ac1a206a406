"""The gateway's input endpoint against the race between a batch being mined and the poster
recording its id: the seats read the chain, so they may be drawn and ask for an input while the
poster still waits for its post's receipt (the ticket is ``posting``, its batch id unknown to the
book). The gateway then places the ticket from the post transaction's receipt and calldata, so a
seat of that batch is served (before, it was refused and opened a data-availability challenge
against an honest gateway); a ticket whose post is not mined is still placed nowhere."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.settlement import SettlementView
from peerhost.gateway.batcher import BatchSender
from peerhost.gateway.poster import BatchPoster
from peerhost.gateway.ticketbook import POSTING, TicketBook
from peerhost.wire.batch import Leaf, encode_posted

PROFILE = keccak(b"engine-profile")  # the settlement kit's engine profile


class Poster:
    """The gateway's poster and ticket book on the test chain, on an event loop of its own."""

    def __init__(self, config: ChainConfig, key: bytes, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.rpc = RpcClient(config.rpc_url)
        self.sender = BatchSender(self.rpc, key, config.chain_id)
        self.book = TicketBook(tmp / "tickets.sqlite3")
        self.view = SettlementView(config, self.rpc)
        self.poster = BatchPoster(
            self.view,
            self.book,
            self.sender,
            max_tickets=16,
            interval=0.1,
            waiting=lambda rid: False,
            drawn=lambda project, amount: None,
            settled=lambda rid, value, final: None,
        )
        self.loop.call_soon_threadsafe(self.sender.start)

    def run(self, coro: Any, timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def send_unrecorded(self, project_id: bytes, profile: bytes, seqs: list[int]) -> bytes:
        """What :meth:`BatchPoster.post` does up to the receipt: the tickets are ``posting``
        under the transaction's hash and the transaction is sent, its batch id not recorded."""
        tickets = [t for t in self.book if t.ticket.seq in seqs]
        head, leaves = encode_posted([Leaf.of(t.ticket) for t in tickets])
        data = self.view.encode(
            "postBatch", project_id, profile, head.as_tuple(), bytes(32), leaves
        )
        await self.sender.prepare()
        tx_hash, sent = self.sender.sign(self.view.config.settlement, data, gas=2_000_000)
        self.book.mark_posting(seqs, tx_hash, b"\x00" * 32, b"")
        await sent
        return tx_hash

    def close(self) -> None:
        self.run(self.sender.stop())
        self.run(self.rpc.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
        self.book.close()


@pytest.fixture
def gw(
    ready: Any, settlement: Any, deployment: Any, chain: Any, tmp_path: Path
) -> Iterator[Poster]:
    uri = str(chain.provider.uri)
    v2 = settlement.addresses
    config = ChainConfig(
        uri,
        uri,
        chain.chain_id,
        **deployment.addresses,
        stakes=v2["stakes"],
        gateways=v2["gateways"],
        settlement=v2["settlement"],
    )
    running = Poster(
        config, bytes.fromhex(str(ready.gateway.private_key).removeprefix("0x")), tmp_path
    )
    yield running
    running.close()


def test_input_endpoint__seat_asks_before_the_poster_recorded_the_batch__placed_from_the_receipt(
    ready: Any, gw: Poster, chain: Any
) -> None:
    kit = ready
    tickets = kit.tickets(3)
    for t in tickets:
        gw.book.save(t, t.seq.to_bytes(32, "big"), kit.project_id, b"\x01" * 65, b"in")
    tx_hash = gw.run(gw.send_unrecorded(kit.project_id, PROFILE, [t.seq for t in tickets]))
    receipt = gw.run(gw.poster.sender_wait(tx_hash))  # mined; the poster has not recorded it
    assert int(str(receipt["status"]), 16) == 1, "the post was mined"
    block = int(str(receipt["blockNumber"]), 16)
    [log] = list(kit.coordinator.BatchPosted.range(block, block + 1))
    batch_id = int(log.batchId)
    holders = kit.seat(batch_id)  # the seats are drawn: they ask for the inputs now

    stored = gw.book.get(tickets[1].seq.to_bytes(32, "big"))
    assert stored is not None and stored.state == POSTING and stored.batch_id is None
    # what the endpoint checks: the ticket's batch, then that the asker holds a seat in it
    assert gw.run(gw.poster.placed(stored)) == (batch_id, 1)
    seated, _ = gw.run(gw.view.holders_of(batch_id))
    assert holders and set(holders) <= set(seated)


def test_input_endpoint__post_not_mined__ticket_placed_nowhere(ready: Any, gw: Poster) -> None:
    kit = ready
    [ticket] = kit.tickets(1)
    gw.book.save(ticket, ticket.seq.to_bytes(32, "big"), kit.project_id, b"\x01" * 65, b"in")
    gw.book.mark_posting([ticket.seq], b"\x42" * 32, b"\x00" * 32, b"")  # never sent
    stored = gw.book.get(ticket.seq.to_bytes(32, "big"))
    assert stored is not None
    assert gw.run(gw.poster.placed(stored)) is None
    gw.book.unpost([ticket.seq])
    issued = gw.book.get(ticket.seq.to_bytes(32, "big"))
    assert issued is not None and gw.run(gw.poster.placed(issued)) is None
