"""Tickets of an honest gateway that an attester posted as orphans (``postOrphans``: the gateway
could not post them in time, its chain node down) are in a batch the gateway's book does not know:
its own post of them was refused (posted already) and the book has them ``rejected``. The real
gateway app still serves their inputs to the batch's seats and answers a data-availability
challenge on them with ``publishInput``; it used to refuse the seats, leave the challenges
unanswered and pay for every voided ticket from its bond (``node-restarted`` seed 2 drained it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from peerhost.chain.config import ChainConfig
from peerhost.gateway import create_app
from peerhost.gateway.ticketbook import REJECTED
from peerhost.wire.batch import Leaf, merkle_proof
from peerhost.wire.ticket import request_id, sign_ticket

from .gateway_harness import ask_input, gateway_settings

DATA_PUBLISHED = 2  # IEvidenceCourt.DataState


def test_gateway__tickets_posted_as_orphans_by_an_attester__inputs_served_and_challenge_answered(
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
        tickets = kit.tickets(2)
        rids = [request_id(chain.chain_id, v2_config.settlement, address, t.seq) for t in tickets]
        inputs = [t.seq.to_bytes(8, "big") for t in tickets]  # the kit's inputHash = keccak(seq)

        def issued_then_refused() -> None:
            # issued by this gateway; its own post refused later (posted already): rejected
            for t, rid, data in zip(tickets, rids, inputs, strict=True):
                gateway.book.save(t, rid, kit.project_id, b"\x01" * 65, data)
            gateway.book.reject([t.seq for t in tickets])

        client.portal.call(issued_then_refused)  # type: ignore[union-attr]
        chain.mine(deltatime=kit.params.orphan_delay)  # the gateway did not post them in time
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
        stored = gateway.book.get(rids[1])
        assert stored is not None and stored.state == REJECTED and stored.batch_id is None

        answer = ask_input(client, address, rids[1], seat)
        assert answer.status_code == 200, answer.text
        assert answer.content == inputs[1]
        assert ask_input(client, address, rids[1], stranger).status_code == 403

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
        client.portal.call(gateway.poster.inputs.tick)  # type: ignore[union-attr]
        assert int(evidence.dataChallengeOf(batch_id, 0).state) == DATA_PUBLISHED
        assert gateway.poster.inputs.published == 1
