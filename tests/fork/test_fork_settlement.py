"""A protocol v2 batch's whole life on a forked chain, against settlement contracts that already
existed upstream: advance the stake epoch, post a batch on the project reserve, mine to the seed
block and prove its header, commit and reveal as the drawn seats (the last reveal settles), open
the attested results with the attester's co-signature of the batch, and withdraw."""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

from peerhost.chain.headers import header_of
from peerhost.chain.settlement import holder_words
from peerhost.wire.batch import (
    AttestedResult,
    BatchHead,
    Leaf,
    batch_root,
    encode_posted,
    open_cosignatures,
    results_commitment,
    results_opening,
    seat_commitment,
    sign_cosignature,
    vector_hash,
)
from peerhost.wire.ticket import MODE_VERIFIED, Ticket

from .conftest import Upstream
from .upstream import GATEWAY, SETTLEMENT_EPOCH, WORKERS

FINAL, CLOSED = 2, 6  # LeafState.Final, Phase.Closed


def test_fork__batch_life_on_preexisting_settlement__pays_seats_and_attester(
    fork: Any, upstream: Upstream, project: Any, accounts: Any, chain: Any
) -> None:
    s = upstream.state.settlement
    assert chain.chain_id == 1 and fork.network.name == "mainnet-fork"
    stakes = project.StakeRegistry.at(s["stakes"])
    coordinator = project.SettlementCoordinator.at(s["settlement"])
    gateway = accounts[GATEWAY]
    workers = {str(accounts[i].address): accounts[i] for i in WORKERS}
    assert coordinator.contracts()[1] == s["stakes"]

    chain.mine(deltatime=SETTLEMENT_EPOCH)
    stakes.advanceEpoch(sender=gateway)
    assert stakes.epochInfo(stakes.currentEpoch()).members == len(WORKERS)

    now = chain.pending_timestamp - 1
    function_id = bytes.fromhex(upstream.state.function_id[2:])
    project_id = bytes.fromhex(upstream.state.project_id[2:])
    reward = coordinator.params().minReward * 3
    tickets = [
        Ticket(
            str(gateway.address),
            seq,
            function_id,
            1,
            keccak(bytes([seq])),
            reward,
            now,
            now + 600,
            MODE_VERIFIED,
        )
        for seq in range(3)
    ]
    output = keccak(b'{"status":200,"body":"ok"}')
    attester = next(iter(workers.values()))
    key = bytes.fromhex(str(attester.private_key).removeprefix("0x"))
    results = [AttestedResult(output, (str(attester.address),)) for _ in tickets]
    salt = keccak(b"fork results")
    tx = coordinator.postBatch(
        project_id,
        keccak(b"profile"),
        BatchHead.of(Leaf.of(tickets[0])).as_tuple(),
        results_commitment(results, salt),
        encode_posted([Leaf.of(t) for t in tickets])[1],
        sender=gateway,
    )
    batch_id = tx.events.filter(coordinator.BatchPosted)[0].batchId
    batch = coordinator.getBatch(batch_id)
    assert bytes(batch.root) == batch_root([Leaf.of(t) for t in tickets])

    chain.mine(batch.seedBlock - chain.blocks.head.number + 1)
    seat = coordinator.seat(
        batch_id, header_of(chain.provider.make_request, batch.seedBlock), sender=gateway
    )
    drawn = [str(s) for s in seat.events.filter(coordinator.BatchSeated)[0].seats]
    distinct = list(dict.fromkeys(drawn))  # the holder list, kept on chain only as its hash
    listed = holder_words(distinct, [drawn.count(h) for h in distinct])
    holders = [workers[h] for h in distinct]
    vector = [output] * 3
    for h in holders:
        c = seat_commitment(
            1,
            str(coordinator.address),
            batch_id,
            str(h.address),
            vector_hash(vector),
            keccak(h.address.encode()),
        )
        coordinator.commit(batch_id, c, listed, sender=h)
    for h in holders:
        coordinator.reveal(
            batch_id, vector_hash(vector), keccak(h.address.encode()), vector, listed, sender=h
        )
    assert [coordinator.leafState(batch_id, i) for i in range(3)] == [FINAL] * 3

    cosignature = sign_cosignature(
        key,
        1,
        str(coordinator.address),
        batch_id,
        str(gateway.address),
        batch_root([Leaf.of(t) for t in tickets]),
        results,
    )
    cosigned = open_cosignatures(results, {str(attester.address): cosignature})
    court = project.DisputeCourt.at(coordinator.court())
    chain.mine(deltatime=court.courtParams().challengeWindow)  # attesters are paid after the window
    coordinator.openResults(
        batch_id, salt, results_opening(results), vector, cosigned, sender=gateway
    )
    assert coordinator.phaseOf(batch_id) == CLOSED
    before = attester.balance
    owed = coordinator.pendingWithdrawal(attester)
    assert owed > 0
    receipt = coordinator.withdraw(sender=attester)
    assert attester.balance == before + owed - receipt.total_fees_paid
