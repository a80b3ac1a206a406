"""The input endpoint's committee check reads a batch's committee once for all its seats' asks
(:mod:`peerhost.gateway.seats`), and never refuses a seat because a kept committee is stale: a
seat refused an input challenges the gateway, which loses its bond if it cannot publish it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from peerhost.chain.config import ChainConfig
from peerhost.gateway import create_app
from peerhost.wire.ticket import request_id

from .gateway_harness import ask_input, gateway_settings


def test_input_endpoint__every_seat_asks_every_leaf__committee_read_once_stranger_refused(
    ready: Any,
    v2_config: ChainConfig,
    chain: Any,
    tmp_path: Path,
    accounts_by_address: dict[str, Any],
    stranger: Any,
) -> None:
    kit = ready
    settings = gateway_settings(kit, v2_config, tmp_path)
    with TestClient(create_app(settings)) as client:
        gateway = client.app.state.gateway  # type: ignore[attr-defined]
        address = str(kit.gateway.address)
        tickets = kit.tickets(3)
        rids = [request_id(chain.chain_id, v2_config.settlement, address, t.seq) for t in tickets]
        posted = kit.post(tickets=tickets)

        def recorded() -> None:  # the book as the poster leaves it once the post is mined
            for t, rid in zip(tickets, rids, strict=True):
                gateway.book.save(t, rid, kit.project_id, b"\x01" * 65, b"input %d" % t.seq)
            gateway.book.mark_posted([t.seq for t in tickets], posted.batch_id)

        client.portal.call(recorded)  # type: ignore[union-attr]
        holders = kit.seat(posted.batch_id)
        assert holders
        for holder in holders:
            for t, rid in zip(tickets, rids, strict=True):
                answer = ask_input(client, address, rid, accounts_by_address[holder])
                assert answer.status_code == 200, answer.text
                assert answer.content == b"input %d" % t.seq
        assert gateway.seats.reads == 1  # one committee read for every ask
        # a stranger is checked against the chain again (a kept committee says only yes): refused
        assert ask_input(client, address, rids[0], stranger).status_code == 403
        assert gateway.seats.reads == 2


def test_input_endpoint__asked_before_the_seed_block__refused_then_served_once_drawn(
    ready: Any,
    v2_config: ChainConfig,
    chain: Any,
    tmp_path: Path,
    accounts_by_address: dict[str, Any],
    stranger: Any,
) -> None:
    """A seat that asks too early is refused (no seed block, no committee yet) and the empty
    committee is kept; once its seed block draws it, its next ask is served, not refused on the
    kept read (the gateway would then face its data-availability challenge)."""
    kit = ready
    settings = gateway_settings(kit, v2_config, tmp_path)
    with TestClient(create_app(settings)) as client:
        gateway = client.app.state.gateway  # type: ignore[attr-defined]
        address = str(kit.gateway.address)
        [ticket] = kit.tickets(1)
        rid = request_id(chain.chain_id, v2_config.settlement, address, ticket.seq)
        posted = kit.post(tickets=[ticket])

        def recorded() -> None:
            gateway.book.save(ticket, rid, kit.project_id, b"\x01" * 65, b"the input")
            gateway.book.mark_posted([ticket.seq], posted.batch_id)

        client.portal.call(recorded)  # type: ignore[union-attr]
        seed_block = int(kit.coordinator.getBatch(posted.batch_id).seedBlock)
        assert int(chain.blocks.head.number) < seed_block
        early = next(iter(accounts_by_address.values()))
        assert ask_input(client, address, rid, early).status_code == 403
        assert gateway.seats.reads >= 1  # the empty committee is kept now
        holders = kit.seat(posted.batch_id)
        for holder in holders:
            answer = ask_input(client, address, rid, accounts_by_address[holder])
            assert answer.status_code == 200, answer.text
            assert answer.content == b"the input"
        assert ask_input(client, address, rid, stranger).status_code == 403
