"""The gateway's input endpoint against the race between a batch being mined and the poster
recording its id: the seats read the chain, so they may be drawn and ask for an input while the
poster still waits for its post's receipt (the ticket is ``posting``, its batch id unknown to the
book). The gateway then places the ticket from the post transaction's receipt and calldata, so a
seat of that batch is served (before, it was refused and opened a data-availability challenge
against an honest gateway); a ticket whose post is not mined is still placed nowhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak
from hexbytes import HexBytes
from starlette.testclient import TestClient

from peerhost.chain.config import ChainConfig
from peerhost.gateway import create_app
from peerhost.gateway.ticketbook import POSTED, POSTING
from peerhost.wire.batch import Leaf, encode_posted
from peerhost.wire.ticket import request_id

from .gateway_harness import PosterOnChain, ask_input, gateway_settings
from .worker_harness import key_of, mined_before_revert

PROFILE = keccak(b"engine-profile")  # the settlement kit's engine profile


class Poster(PosterOnChain):
    """The poster harness, able to send a post without reading its receipt."""

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


@pytest.fixture
def gw(ready: Any, v2_config: ChainConfig, tmp_path: Path) -> Iterator[Poster]:
    running = Poster(v2_config, key_of(ready.gateway), tmp_path)
    yield running
    running.close()
    mined_before_revert(ready.chain)


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


@pytest.mark.parametrize("withhold", [False, True], ids=["honest", "withholding"])
def test_input_endpoint__post_mined_not_recorded__seat_served_unless_the_gateway_withholds(
    ready: Any,
    v2_config: ChainConfig,
    chain: Any,
    tmp_path: Path,
    accounts_by_address: dict[str, Any],
    stranger: Any,
    withhold: bool,
) -> None:
    """The real gateway app on the chain: its batch is mined (the seats are drawn) while its book
    still has the tickets ``posting``. An honest gateway serves the seats; one that withholds
    still refuses them (they challenge it), and a stranger is refused either way."""
    kit = ready
    settings = gateway_settings(kit, v2_config, tmp_path, withhold_inputs=withhold)
    with TestClient(create_app(settings)) as client:
        gateway = client.app.state.gateway  # type: ignore[attr-defined]
        address = str(kit.gateway.address)
        tickets = kit.tickets(2)
        rids = [request_id(chain.chain_id, v2_config.settlement, address, t.seq) for t in tickets]
        posted = kit.post(tickets=tickets)  # mined: the seats read it
        head = int(chain.blocks.head.number)
        [log] = [
            log
            for log in kit.coordinator.BatchPosted.range(head, head + 1)
            if int(log.batchId) == posted.batch_id
        ]
        post_tx = bytes(HexBytes(log.transaction_hash))

        def posting() -> None:  # the book as the poster leaves it while it waits for the receipt
            for t, rid in zip(tickets, rids, strict=True):
                gateway.book.save(t, rid, kit.project_id, b"\x01" * 65, b"input %d" % t.seq)
            gateway.book.mark_posting([t.seq for t in tickets], post_tx, bytes(32), b"")

        client.portal.call(posting)  # type: ignore[union-attr]  # on the poster's own loop
        holders = kit.seat(posted.batch_id)

        stored = gateway.book.get(rids[1])
        assert stored is not None and stored.batch_id is None  # the race: not recorded yet
        seat = accounts_by_address[holders[0]]
        answer = ask_input(client, address, rids[1], seat)
        if withhold:
            assert answer.status_code == 403, answer.text
        else:
            assert answer.status_code == 200, answer.text
            assert answer.content == b"input %d" % tickets[1].seq
        assert ask_input(client, address, rids[1], stranger).status_code == 403


def test_poster__receipt_not_read_in_time__tickets_stay_posting_and_are_recorded_once_mined(
    ready: Any, gw: Poster
) -> None:
    """A post the node did not mine within the poster's wait is not given up: its tickets keep
    its hash (before, they went back to ``issued``: once mined, the endpoint refused their seats
    and the next post was refused with ``SeqAlreadyPosted``)."""
    kit = ready
    tickets = kit.tickets(2)
    for t in tickets:
        gw.book.save(t, t.seq.to_bytes(32, "big"), kit.project_id, b"\x01" * 65, b"in")
    gw.poster.receipt_timeout = 0.5
    gw.poster._last_block = -1  # one batch per block: this tick may post
    kit.request("evm_setAutomine", [False])
    try:
        gw.run(gw.poster.tick())  # sent; not mined while the poster waits
        states = [gw.book.get(t.seq.to_bytes(32, "big")) for t in tickets]
        assert all(s is not None and s.state == POSTING and s.post_tx for s in states)
    finally:
        kit.request("evm_setAutomine", [True])
    kit.request("evm_mine", [])
    stored = gw.book.get(tickets[1].seq.to_bytes(32, "big"))
    assert stored is not None
    placed = gw.run(gw.poster.placed(stored))  # a seat asking now is served
    assert placed is not None and placed[1] == 1
    gw.run(gw.poster.tick())  # reconciled: recorded under its batch
    recorded = gw.book.get(tickets[1].seq.to_bytes(32, "big"))
    assert recorded is not None and recorded.state == POSTED
    assert (recorded.batch_id, recorded.leaf_index) == placed
