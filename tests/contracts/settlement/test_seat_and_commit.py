"""``seatAndCommit``: a seat holder draws its batch's committee and commits in one transaction, so a
batch settles with no ``seat`` transaction; nobody else can seat a batch that way."""

from __future__ import annotations

from typing import Any

import pytest
import rlp
from eth_utils import keccak

from peerhost.chain.headers import header_of, prevrandao_of
from peerhost.wire.batch import batch_seed, seat_commitment, vector_hash

from .conftest import PH_AWAITING, PH_CLOSED, PH_COMMIT, PH_FINALIZED, Kit, vector


@pytest.fixture
def k(kit: Kit, workers: list[Any]) -> Kit:
    kit.stake(workers[:5])
    kit.open_project()
    return kit


@pytest.fixture
def by(accounts_by_address: dict[str, Any]) -> Any:
    return lambda address: accounts_by_address[str(address)]


def _mine_to_seed(k: Kit, batch_id: int) -> int:
    seed_block = int(k.coordinator.getBatch(batch_id).seedBlock)
    head = int(k.chain.blocks.head.number)
    if head <= seed_block:
        k.chain.mine(seed_block - head + 1)
    return seed_block


def _drawn(k: Kit, batch_id: int, seed_block: int) -> list[str]:
    """The seats the contract will draw, computed before any seat transaction (as a worker does)."""
    seed = batch_seed(prevrandao_of(k.request, seed_block), batch_id)
    epoch = k.coordinator.getBatch(batch_id).epoch
    return [str(a) for a in k.s.stakes.drawSeats(epoch, seed, k.params.seats)]


def _commitment(k: Kit, batch_id: int, worker: Any, values: list[bytes]) -> bytes:
    return seat_commitment(
        k.chain.chain_id,
        str(k.coordinator.address),
        batch_id,
        str(worker.address),
        vector_hash(values),
        k.salt(worker),
    )


def test_seat_and_commit__seat_holder__seats_commits_and_batch_settles_without_seat_tx(k, by):
    while True:  # a draw of two holders at least (one holder's commitment would end the phase)
        posted = k.post(2)
        b = posted.batch_id
        seed_block = _mine_to_seed(k, b)
        drawn = _drawn(k, b, seed_block)
        if len(set(drawn)) > 1:
            break
    first, *others = dict.fromkeys(drawn)  # distinct holders, in draw order
    header = header_of(k.request, seed_block)
    tx = k.coordinator.seatAndCommit(
        b, header, _commitment(k, b, by(first), vector(2)), k.draw_hl(b), sender=by(first)
    )
    [seated] = tx.events.filter(k.coordinator.BatchSeated)
    assert [str(s) for s in seated.seats] == drawn
    assert len(tx.events.filter(k.coordinator.SeatCommitted)) == 1
    assert k.coordinator.phaseOf(b) == PH_COMMIT
    assert bytes(k.vote_of(b, first)) == _commitment(k, b, by(first), vector(2))
    for h in others:  # seated already: the proof is ignored, this is a commit
        k.coordinator.seatAndCommit(
            b, b"", _commitment(k, b, by(h), vector(2)), k.draw_hl(b), sender=by(h)
        )
    for h in dict.fromkeys(drawn):
        k.reveal(b, by(h), vector(2))
    assert k.coordinator.phaseOf(b) in (PH_FINALIZED, PH_CLOSED)
    assert k.coordinator.getBatch(b).finalMask == 0b11


def test_seat_and_commit__caller_holds_no_seat__reverts_not_seated_and_draws_nothing(
    k, by, workers, stranger, reverts_with
):
    posted = k.post(1)
    b = posted.batch_id
    seed_block = _mine_to_seed(k, b)
    drawn = set(_drawn(k, b, seed_block))
    header = header_of(k.request, seed_block)
    outsiders = [w for w in workers[:5] if str(w.address) not in drawn] + [stranger]
    for outsider in outsiders:  # a staked worker the seed did not pick, and an unstaked one
        with reverts_with(k.coordinator.NotSeated):
            k.coordinator.seatAndCommit(
                b, header, _commitment(k, b, outsider, vector(1)), k.draw_hl(b), sender=outsider
            )
    assert k.coordinator.phaseOf(b) == PH_AWAITING
    assert list(k.holders_of(b)[0]) == []


def test_seat_and_commit__forged_or_wrong_header__reverts_header_mismatch(k, by, reverts_with):
    posted = k.post(1)
    b = posted.batch_id
    seed_block = _mine_to_seed(k, b)
    holder = by(_drawn(k, b, seed_block)[0])
    c = _commitment(k, b, holder, vector(1))
    fields = rlp.decode(header_of(k.request, seed_block))
    fields[13] = keccak(b"a prevrandao that seats the forger")  # mixHash
    forged = rlp.encode(fields)
    for proof in (forged, header_of(k.request, seed_block - 1), b""):
        with reverts_with(k.s.beacon.HeaderMismatch):
            k.coordinator.seatAndCommit(b, proof, c, k.draw_hl(b), sender=holder)
    assert k.coordinator.phaseOf(b) == PH_AWAITING


def test_seat_and_commit__before_seed_block_or_unknown_batch__reverts(
    k, by, workers, chain, reverts_with
):
    posted = k.post(1)
    b = posted.batch_id
    head = chain.blocks.head.number
    with reverts_with(k.coordinator.SeedNotReady):
        k.coordinator.seatAndCommit(
            b, header_of(k.request, head), b"\x01" * 32, [], sender=workers[0]
        )
    with reverts_with(k.coordinator.UnknownBatch):
        k.coordinator.seatAndCommit(999, b"", b"\x01" * 32, [], sender=workers[0])


def test_seat_and_commit__empty_commitment_or_twice__reverts(k, by, reverts_with):
    for _ in range(30):  # two distinct holders: one holder of every seat would end the round
        posted = k.post(1)
        b = posted.batch_id
        seed_block = _mine_to_seed(k, b)
        drawn = _drawn(k, b, seed_block)
        if len(set(drawn)) >= 2:
            break
    holder = by(drawn[0])
    header = header_of(k.request, seed_block)
    with reverts_with(k.coordinator.EmptyCommitment):  # and the draw rolls back with it
        k.coordinator.seatAndCommit(b, header, bytes(32), k.draw_hl(b), sender=holder)
    assert k.coordinator.phaseOf(b) == PH_AWAITING
    c = _commitment(k, b, holder, vector(1))
    k.coordinator.seatAndCommit(b, header, c, k.draw_hl(b), sender=holder)
    with reverts_with(k.coordinator.AlreadyCommitted):
        k.coordinator.seatAndCommit(b, header, c, k.draw_hl(b), sender=holder)
