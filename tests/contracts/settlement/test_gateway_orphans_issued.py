"""Tickets an attester posted as orphans while the gateway's book still had them ``issued`` (its
poster behind under load: the backlog older than the attesters' orphan grace) or ``posting`` (its
own post in flight, refused later: posted already). The real gateway app serves their inputs to the
orphan batch's seats (it used to serve only ``rejected`` tickets, so the seats challenged an honest
gateway's data availability and it lost bond for inputs it held), and its poster learns from the
chain that they are posted: it never posts or pays for them again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from peerhost.chain.config import ChainConfig
from peerhost.gateway import create_app
from peerhost.gateway.ticketbook import ISSUED, POSTED
from peerhost.wire.ticket import request_id, sign_ticket

from .gateway_harness import ask_input, gateway_settings
from .test_gateway_reorg import Gateway
from .worker_harness import key_of


def test_gateway__issued_tickets_posted_as_orphans__inputs_served_never_posted_again(
    ready: Any,
    v2_config: ChainConfig,
    chain: Any,
    tmp_path: Path,
    accounts_by_address: dict[str, Any],
    stranger: Any,
) -> None:
    kit = ready
    # the poster holds its batches back until the attester posted them (as if far behind)
    settings = gateway_settings(kit, v2_config, tmp_path, withhold_batches=True)
    with TestClient(create_app(settings)) as client:
        gateway = client.app.state.gateway  # type: ignore[attr-defined]
        address = str(kit.gateway.address)
        tickets = kit.tickets(3)
        rids = [request_id(chain.chain_id, v2_config.settlement, address, t.seq) for t in tickets]
        inputs = [b"input %d" % t.seq for t in tickets]

        def issued() -> None:  # issued, not posted yet: the poster is behind
            for t, rid, data in zip(tickets, rids, inputs, strict=True):
                gateway.book.save(t, rid, kit.project_id, b"\x01" * 65, data)
            gateway.book.mark_posting([tickets[2].seq], b"\x42" * 32, bytes(32), b"")

        client.portal.call(issued)  # type: ignore[union-attr]
        chain.mine(deltatime=kit.params.orphan_delay)
        coordinator = str(kit.coordinator.address)
        signatures = [
            sign_ticket(kit.gateway.private_key, chain.chain_id, coordinator, t) for t in tickets
        ]
        tx = kit.coordinator.postOrphans(
            [t.as_tuple() for t in tickets], signatures, bytes(32), sender=stranger
        )
        batch_id = int(tx.events.filter(kit.coordinator.OrphansPosted)[0].batchId)
        holders = kit.seat(batch_id)
        seat = accounts_by_address[holders[0]]
        before = gateway.book.get(rids[0])
        assert before is not None and before.state == ISSUED and before.batch_id is None

        for rid, data in zip(rids, inputs, strict=True):  # issued and posting alike
            answer = ask_input(client, address, rid, seat)
            assert answer.status_code == 200, answer.text
            assert answer.content == data
        assert ask_input(client, address, rids[0], stranger).status_code == 403

        nonce = chain.provider.web3.eth.get_transaction_count(address)
        bond = int(kit.s.gateways.bondOf(address).amount)
        gateway.poster.withhold = False  # caught up: it posts what it holds as issued
        client.portal.call(gateway.poster.tick)  # type: ignore[union-attr]
        for index, rid in enumerate(rids):
            stored = gateway.book.get(rid)
            assert stored is not None
            assert (stored.state, stored.batch_id, stored.leaf_index) == (POSTED, batch_id, index)
        # nothing posted (or paid for) twice: the gateway sent nothing, its bond did not move
        assert chain.provider.web3.eth.get_transaction_count(address) == nonce
        assert int(kit.s.gateways.bondOf(address).amount) == bond
        assert gateway.poster.batches_posted == 0


def test_poster__ticket_placed_in_an_orphan_batch_after_the_tick_read_it__left_out_of_the_post(
    ready: Any, v2_config: ChainConfig, chain: Any, tmp_path: Path, stranger: Any
) -> None:
    """The input endpoint's scan (anyone's request can start it) records a ticket in an attester's
    orphan batch between the tick's read of the ``issued`` tickets and its post: the post leaves
    it out (it carried it, reverted SeqAlreadyPosted, and the ticket stayed ``posting`` in the
    orphan batch for good)."""
    kit = ready
    gw = Gateway(v2_config, key_of(kit.gateway), tmp_path)
    try:
        tickets = kit.tickets(3)
        gw.issue(tickets, kit.project_id)
        gw.run(gw.poster.inputs.start(int(chain.blocks.head.number) + 1))
        read = gw.book.in_state(ISSUED)  # what the tick read
        chain.mine(deltatime=kit.params.orphan_delay)
        coordinator = str(kit.coordinator.address)
        signature = sign_ticket(kit.gateway.private_key, chain.chain_id, coordinator, tickets[0])
        tx = kit.coordinator.postOrphans(
            [tickets[0].as_tuple()], [signature], bytes(32), sender=stranger
        )
        orphans = int(tx.events.filter(kit.coordinator.OrphansPosted)[0].batchId)
        gw.run(gw.poster.inputs.scan())  # the input endpoint's scan, meanwhile
        batch_id = gw.run(gw.poster.post(kit.project_id, tickets[0].engine_profile, read))
        assert batch_id is not None, "the post carried the orphan batch's ticket and reverted"
        placed = [gw.book.get(t.seq.to_bytes(32, "big")) for t in tickets]
        assert [(s.state, s.batch_id, s.leaf_index) for s in placed if s is not None] == [
            (POSTED, orphans, 0),
            (POSTED, batch_id, 0),
            (POSTED, batch_id, 1),
        ]
    finally:
        gw.close()
