"""A data-availability challenge on a leaf of the gateway's own batch that its book does not place
yet (its post mined, its receipt not read: the tickets still ``posting``, as after a node drop)
is looked at again at the next tick, and answered once the book knows the batch. Before, such a
batch was taken for another gateway's and the challenge marked done: never answered, the ticket
voided after the data window at the gateway's bond's cost. Real anvil, the real evidence court,
the real gateway app's input publisher."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from peerhost.chain.config import ChainConfig
from peerhost.gateway import create_app
from peerhost.wire.batch import Leaf, merkle_proof
from peerhost.wire.ticket import request_id

from .gateway_harness import gateway_settings

DATA_PUBLISHED = 2  # IEvidenceCourt.DataState


def test_gateway__challenge_on_its_batch_not_booked_yet__answered_once_booked(
    ready: Any,
    v2_config: ChainConfig,
    chain: Any,
    tmp_path: Path,
    accounts_by_address: dict[str, Any],
) -> None:
    kit = ready
    settings = gateway_settings(kit, v2_config, tmp_path, withhold_batches=True)
    with TestClient(create_app(settings)) as client:
        gateway = client.app.state.gateway  # type: ignore[attr-defined]
        address = str(kit.gateway.address)
        tickets = kit.tickets(2)
        rids = [request_id(chain.chain_id, v2_config.settlement, address, t.seq) for t in tickets]
        inputs = [t.seq.to_bytes(8, "big") for t in tickets]  # the kit's inputHash = keccak(seq)

        def issued() -> None:
            for t, rid, data in zip(tickets, rids, inputs, strict=True):
                gateway.book.save(t, rid, kit.project_id, b"\x01" * 65, data)

        client.portal.call(issued)  # type: ignore[union-attr]
        # the gateway's post, mined; its book has not read the receipt (the tickets unplaced)
        batch_id = kit.post(tickets=tickets).batch_id
        holders = kit.seat(batch_id)
        seat = accounts_by_address[holders[0]]
        evidence = kit.s.evidence
        bond = int(kit.s.court.courtParams().dataBond)
        proof = merkle_proof([Leaf.of(t).hash() for t in tickets], 0)
        evidence.openDataChallenge(
            batch_id,
            0,
            Leaf.of(tickets[0]).encode(),
            proof,
            kit.hl(batch_id),
            value=bond,
            sender=seat,
        )
        inputs_of = gateway.poster.inputs
        gateway.poster.sender.signer.forget_nonce()  # the kit sent from the gateway's account
        client.portal.call(inputs_of.tick)  # type: ignore[union-attr]
        assert inputs_of.published == 0  # not placed yet: nothing to publish from

        def booked() -> None:  # the receipt read at last
            gateway.book.mark_posted([t.seq for t in tickets], batch_id)

        client.portal.call(booked)  # type: ignore[union-attr]
        client.portal.call(inputs_of.tick)  # type: ignore[union-attr]
        # before: marked done at the first tick as another gateway's batch, never answered
        assert int(evidence.dataChallengeOf(batch_id, 0).state) == DATA_PUBLISHED
        assert inputs_of.published == 1
        client.portal.call(inputs_of.tick)  # type: ignore[union-attr]
        assert inputs_of.published == 1  # published once: the chain shows it so
