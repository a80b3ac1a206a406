"""Seating, commit/reveal of result vectors, per-leaf finalization, disputes, penalties and payments."""

from __future__ import annotations

import dataclasses
import random

import pytest
import rlp
from eth_utils import keccak, to_checksum_address

from peerhost.chain.headers import header_of
from peerhost.deploy import deploy_settlement
from peerhost.wire.batch import (
    ABSTAIN,
    AttestedResult,
    BatchHead,
    Leaf,
    batch_attestation_digest,
    compact_opening,
    encode_posted,
    is_audited,
    results_commitment,
    results_opening,
    vector_hash,
)
from peerhost.wire.feed import sign_digest
from peerhost.wire.ticket import MODE_FAST

from .conftest import (
    GOOD,
    L_DISPUTED,
    L_FINAL,
    L_PENDING,
    L_REFUNDED,
    L_UNAUDITED,
    LIE,
    PH_AWAITING,
    PH_CLOSED,
    PH_COMMIT,
    PH_EXPIRED,
    PH_FINALIZED,
    PH_REVEAL,
    PH_SETTLE,
    RESULT_SALT,
    Kit,
    abstain,
    distinct,
    owed,
    seat_until,
    short_epoch_params,
    vector,
)

BPS = 10_000


@pytest.fixture
def k(kit, workers):
    kit.stake(workers[:5])
    kit.open_project()
    return kit


@pytest.fixture
def by(accounts_by_address):
    return lambda address: accounts_by_address[str(address)]


def _everyone(accounts):
    return [accounts[i] for i in range(10)]


# ------------------------------------------------------------------------------------------ seat


def test_seat__before_seed_block__reverts_seed_not_ready(k, reverts_with, chain):
    posted = k.post(1)
    assert k.coordinator.phaseOf(posted.batch_id) == PH_AWAITING
    head = chain.blocks.head.number
    with reverts_with(k.coordinator.SeedNotReady):
        k.coordinator.seat(posted.batch_id, header_of(k.request, head), sender=k.gateway)


def test_seat__header_of_wrong_block__reverts_header_mismatch(k, reverts_with, chain):
    posted = k.post(1)
    seed_block = k.coordinator.getBatch(posted.batch_id).seedBlock
    chain.mine(k.params.beacon_delay + 1)
    with reverts_with(k.s.beacon.HeaderMismatch):
        k.coordinator.seat(posted.batch_id, header_of(k.request, seed_block - 1), sender=k.gateway)


def test_seat__drawn_from_post_epoch__seats_audit_mask_and_deadlines(k, chain, reverts_with):
    posted = k.post(20, mode=MODE_FAST, attesters=[k.gateway])
    seed_block = k.coordinator.getBatch(posted.batch_id).seedBlock
    chain.mine(k.params.beacon_delay + 1)
    tx = k.coordinator.seat(posted.batch_id, header_of(k.request, seed_block), sender=k.gateway)
    [event] = tx.events.filter(k.coordinator.BatchSeated)
    b = k.coordinator.getBatch(posted.batch_id)
    seed = bytes(event.seed)
    assert event.auditMask == b.auditMask
    expected = sum(1 << i for i in range(20) if is_audited(seed, i, MODE_FAST, k.params.audit_bps))
    assert b.auditMask == expected
    holders, seats = k.holders_of(posted.batch_id)
    assert sum(seats) == k.params.seats
    drawn = [str(a) for a in k.s.stakes.drawSeats(b.epoch, seed, k.params.seats)]
    assert sorted(set(drawn)) == sorted(str(h) for h in holders)
    assert b.revealDeadline - b.commitDeadline == k.params.reveal_window
    assert k.coordinator.phaseOf(posted.batch_id) == PH_COMMIT
    with reverts_with(k.coordinator.WrongPhase):  # seated once
        k.coordinator.seat(posted.batch_id, header_of(k.request, seed_block), sender=k.gateway)


def test_reseed__hash_still_available__reverts_then_after_256_blocks__moves_seed(
    k, chain, reverts_with
):
    posted = k.post(1)
    chain.mine(k.params.beacon_delay + 1)
    with reverts_with(k.coordinator.SeedNotReady):
        k.coordinator.reseed(posted.batch_id, sender=k.gateway)
    chain.mine(257)
    tx = k.coordinator.reseed(posted.batch_id, sender=k.gateway)
    assert (
        k.coordinator.getBatch(posted.batch_id).seedBlock == tx.block_number + k.params.beacon_delay
    )
    k.seat(posted.batch_id)
    assert k.coordinator.phaseOf(posted.batch_id) == PH_COMMIT


# ------------------------------------------------------------------------------------------ commit / reveal


def test_commit__stranger_empty_twice_or_late__reverts(k, by, stranger, chain, reverts_with):
    posted, holders = seat_until(k, distinct(2))
    b = posted.batch_id
    h0 = by(holders[0])
    with reverts_with(k.coordinator.NotSeated):
        k.commit(b, stranger, vector(1))
    with reverts_with(k.coordinator.EmptyCommitment):
        k.coordinator.commit(b, bytes(32), k.hl(b), sender=h0)
    k.commit(b, h0, vector(1))
    with reverts_with(k.coordinator.AlreadyCommitted):
        k.commit(b, h0, vector(1))
    with reverts_with(k.coordinator.WrongPhase):
        k.reveal(b, h0, vector(1))  # the commit phase is still open
    chain.mine(deltatime=k.params.commit_window)
    assert k.coordinator.phaseOf(b) == PH_REVEAL
    with reverts_with(k.coordinator.WrongPhase):
        k.commit(b, by(holders[1]), vector(1))
    with reverts_with(k.coordinator.UnknownBatch):
        k.coordinator.commit(999, b"\x01" * 32, k.hl(999), sender=h0)


def test_reveal__wrong_openings__revert_with_their_errors(k, by, chain, reverts_with):
    posted, holders = seat_until(k, distinct(3), n=2)
    b = posted.batch_id
    h0, h1, h2 = (by(h) for h in holders)
    k.commit(b, h0, vector(2))
    k.commit(b, h1, vector(2))
    chain.mine(deltatime=k.params.commit_window)
    with reverts_with(k.coordinator.NotCommitted):
        k.reveal(b, h2, vector(2))
    with reverts_with(k.coordinator.CommitmentMismatch):
        k.coordinator.reveal(
            b, vector_hash(vector(2)), keccak(b"wrong salt"), vector(2), k.hl(b), sender=h0
        )
    with reverts_with(k.coordinator.CommitmentMismatch):
        k.reveal(b, h0, vector(2, LIE))  # a different vector than committed
    with reverts_with(k.coordinator.VectorMismatch):
        k.reveal(b, h0, vector(2), full=False)  # nobody revealed this vector in full yet
    with reverts_with(k.coordinator.VectorMismatch):
        k.coordinator.reveal(
            b, vector_hash(vector(2)), k.salt(h0), [GOOD], k.hl(b), sender=h0
        )  # wrong length
    k.reveal(b, h0, vector(2))
    with reverts_with(k.coordinator.AlreadyRevealed):
        k.reveal(b, h0, vector(2))
    k.reveal(b, h1, vector(2), full=False)  # equal to a vector revealed in full: may omit it
    assert k.coordinator.phaseOf(b) == PH_SETTLE


def test_reveal__copied_commitment__cannot_be_opened_by_the_copier(k, by, chain, reverts_with):
    posted, holders = seat_until(k, distinct(3))
    b = posted.batch_id
    honest, copier = by(holders[0]), by(holders[1])
    k.commit(b, honest, vector(1))
    copied = k.vote_of(b, honest)
    k.coordinator.commit(b, copied, k.hl(b), sender=copier)
    chain.mine(deltatime=k.params.commit_window)
    k.reveal(b, honest, vector(1))
    # the copier knows the opening now, but the commitment binds the honest worker's address
    with reverts_with(k.coordinator.CommitmentMismatch):
        k.coordinator.reveal(b, vector_hash(vector(1)), k.salt(honest), [], k.hl(b), sender=copier)


def test_vote_of__agreeing_reveal_stored_as_zero__read_as_the_first_full_reveal(k, by, stranger):
    posted, holders = seat_until(k, distinct(3), n=2)
    b = posted.batch_id
    a, agree, liar = (by(h) for h in holders)
    k.commit(b, a, vector(2))
    k.commit(b, agree, vector(2))
    k.commit(b, liar, vector(2, LIE))
    committed = bytes(k.vote_of(b, liar))
    k.reveal(b, a, vector(2))
    k.reveal(b, agree, vector(2), full=False)  # its word is cleared: read as a's
    assert bytes(k.vote_of(b, agree)) == vector_hash(vector(2))
    assert bytes(k.vote_of(b, liar)) == committed  # unrevealed: its commitment
    assert bytes(k.vote_of(b, stranger)) == bytes(32)
    k.reveal(b, liar, vector(2, LIE))
    # a cleared word never reads as agreement for a holder that revealed another vector
    assert k.coordinator.phaseOf(b) == PH_SETTLE
    assert bytes(k.vote_of(b, liar)) == vector_hash(vector(2, LIE))
    # the tally counts the cleared vote for the first full reveal's vector: each leaf Final by 2 seats
    k.coordinator.finalize(b, [vector(2, LIE), vector(2)], k.hl(b), sender=a)
    assert [k.coordinator.leafState(b, i) for i in range(2)] == [L_FINAL, L_FINAL]
    assert [bytes(k.vote_of(b, w)) for w in (a, agree, liar)] == [
        vector_hash(vector(2)),
        vector_hash(vector(2)),
        vector_hash(vector(2, LIE)),
    ]


# ------------------------------------------------------------------------------------------ finalize and pay


def test_finalize__all_agree__exact_split_and_solvent(k, by, accounts, workers):
    attesters = [workers[3], workers[4]]
    posted, holders = seat_until(k, distinct(3), n=4, attesters=attesters)
    b = posted.batch_id
    finalizer = by(holders[-1])
    for h in holders:
        k.commit(b, by(h), vector(4))
    for h in holders[:-1]:
        k.reveal(b, by(h), vector(4), full=h == holders[0])
    k.reveal(b, finalizer, vector(4))  # the last reveal settles
    r = k.params.min_reward
    f = r * k.params.finalizer_bps // BPS
    c = r * k.params.committee_bps // BPS
    assert k.coordinator.phaseOf(b) == PH_FINALIZED
    assert [k.coordinator.leafState(b, i) for i in range(4)] == [L_FINAL] * 4
    # the seats' pay is deferred, claimed by each after the batch's window; the settling holder's claim
    # carries the finalizer's share (and the dust of the K-way split): nobody is credited
    fin = 4 * (f + c - c // 3 * 3)
    for h in holders:
        assert k.coordinator.pendingWithdrawal(h) == 0
        assert k.coordinator.seatPayOf(b, h, k.hl(b)) == 4 * (c // 3) + (
            fin if h == holders[-1] else 0
        )
    assert k.coordinator.getBatch(b).attesterPot == 4 * (r - f - c)
    assert k.coordinator.seatPayHeld(b, k.hl(b)) == 3 * 4 * (c // 3) + fin
    assert k.chain.provider.get_balance(k.coordinator.address) == owed(k, _everyone(accounts))

    tx = k.open(posted, vector(4))
    pot = r - f - c
    speed = r * k.params.speed_bps // BPS
    each = (pot - speed) // 2
    first = speed + each + (pot - speed - 2 * each)
    assert k.coordinator.phaseOf(b) == PH_CLOSED
    # attesters may also be seat holders: compare the attester credits only
    credits = tx.events.filter(k.coordinator.Credited)
    paid: dict[str, int] = {}
    for e in credits:
        if e.reason == 2:
            paid[str(e.account)] = paid.get(str(e.account), 0) + int(e.amount)
    assert paid == {str(attesters[0].address): 4 * first, str(attesters[1].address): 4 * each}
    assert [e for e in credits if e.reason == 0] == []  # no seat is credited: each claims
    assert k.coordinator.seatPayHeld(b, k.hl(b)) == 3 * 4 * (c // 3) + fin
    assert k.chain.provider.get_balance(k.coordinator.address) == owed(k, _everyone(accounts))
    assert k.claim_seats(b, by) == {
        h: 4 * (c // 3) + (fin if h == holders[-1] else 0) for h in holders
    }
    assert k.coordinator.seatPayHeld(b, k.hl(b)) == 0
    assert k.chain.provider.get_balance(k.coordinator.address) == owed(k, _everyone(accounts))


def test_finalize__settle_phase_only_and_every_vector_needed(k, by, chain, reverts_with):
    posted, holders = seat_until(k, distinct(3), n=2)
    b = posted.batch_id
    a, bb, c = (by(h) for h in holders)
    with reverts_with(k.coordinator.WrongPhase):
        k.coordinator.finalize(b, [], k.hl(b), sender=a)
    k.commit(b, a, vector(2))
    k.commit(b, bb, vector(2, LIE))
    k.commit(b, c, [GOOD, ABSTAIN])
    k.reveal(b, a, vector(2))
    k.reveal(b, bb, vector(2, LIE))
    k.reveal(b, c, [GOOD, ABSTAIN])
    assert k.coordinator.phaseOf(b) == PH_SETTLE  # different vectors: nobody settled inline
    with reverts_with(k.coordinator.MissingVector):
        k.coordinator.finalize(b, [vector(2), vector(2, LIE)], k.hl(b), sender=a)
    with reverts_with(k.coordinator.VectorMismatch):
        k.coordinator.finalize(b, [[GOOD]], k.hl(b), sender=a)
    tx = k.coordinator.finalize(b, [vector(2, LIE), [GOOD, ABSTAIN], vector(2)], k.hl(b), sender=a)
    # leaf 0: GOOD by 2 seats -> Final; leaf 1: GOOD 1, LIE 1, abstain 1 -> Disputed (no majority)
    assert k.coordinator.leafState(b, 0) == L_FINAL
    assert k.coordinator.leafState(b, 1) == L_DISPUTED  # frozen: the DisputeCourt escalates it
    batch = k.coordinator.getBatch(b)
    assert (batch.finalMask, batch.refundMask, batch.disputedMask) == (0b01, 0b00, 0b10)
    slashes = tx.events.filter(k.coordinator.SeatSlashed)
    assert list(slashes) == []  # wrong on the Final leaf: slashed by the court after the window
    court = k.s.court
    with reverts_with(court.ChallengeWindowOpen):
        court.punish(b, 0, [vector(2, LIE), [GOOD, ABSTAIN], vector(2)], k.hl(b), sender=a)
    k.chain.mine(deltatime=int(court.courtParams().challengeWindow))
    tx = court.punish(b, 0, [vector(2, LIE), [GOOD, ABSTAIN], vector(2)], k.hl(b), sender=a)
    punished = [(str(e.worker), e.reason) for e in tx.events.filter(court.VoterSlashed)]
    assert punished == [(str(bb.address), 0)]
    with reverts_with(court.WrongCasePhase):  # once
        court.punish(b, 0, [vector(2, LIE), [GOOD, ABSTAIN], vector(2)], k.hl(b), sender=a)


def test_finalizer__called_directly__sees_no_batch_and_changes_nothing(
    k, by, project, reverts_with
):
    """finalize runs in SettlementFinalizer on the coordinator's state (delegatecall); whoever calls the
    finalizer itself runs it on the finalizer's own, empty state: the coordinator's batch in its Settle
    phase is neither settled nor touched."""
    posted, holders = seat_until(k, distinct(3), n=2)
    b = posted.batch_id
    a, bb, c = (by(h) for h in holders)
    for h, v in ((a, vector(2)), (bb, vector(2, LIE)), (c, vector(2))):
        k.commit(b, h, v)
    for h, v in ((a, vector(2)), (bb, vector(2, LIE)), (c, vector(2))):
        k.reveal(b, h, v)
    assert k.coordinator.phaseOf(b) == PH_SETTLE
    # the coordinator's first creation (contract nonces start at 1): its finalizer
    created = keccak(rlp.encode([bytes.fromhex(str(k.coordinator.address)[2:]), 1]))[12:]
    finalizer = project.SettlementFinalizer.at(to_checksum_address(created))
    with reverts_with(k.coordinator.UnknownBatch):
        finalizer.finalize(b, [vector(2), vector(2, LIE)], k.hl(b), sender=a)
    assert k.coordinator.phaseOf(b) == PH_SETTLE
    k.coordinator.finalize(b, [vector(2), vector(2, LIE)], k.hl(b), sender=a)
    assert k.coordinator.leafState(b, 0) == L_FINAL


def test_finalize__no_shows__slashed_like_wrong_reveals_split_never_to_owner(
    k, by, chain, owner, accounts
):
    posted, holders = seat_until(k, distinct(3))
    b = posted.batch_id
    a, silent, absent = (by(h) for h in holders)
    reserve = k.s.gateways.reserveOf(k.project_id).balance
    owner_pending = k.coordinator.pendingWithdrawal(owner)
    k.commit(b, a, vector(1))
    k.commit(b, silent, vector(1))
    chain.mine(deltatime=k.params.commit_window)
    k.reveal(b, a, vector(1))
    chain.mine(deltatime=k.params.reveal_window)
    stake_before = {w: k.s.stakes.getStaker(w).stake for w in (silent, absent)}
    tx = k.coordinator.finalize(b, [vector(1)], k.hl(b), sender=a)
    # one seat agrees: below quorum -> disputed (reward held by the court); both no-shows slashed
    assert k.coordinator.leafState(b, 0) == L_DISPUTED
    assert k.coordinator.getBatch(b).disputedMask == 1
    assert {(str(e.worker), e.reason) for e in tx.events.filter(k.coordinator.SeatSlashed)} == {
        (str(silent.address), 1),
        (str(absent.address), 1),
    }
    slash = k.params.seat_slash
    for w in (silent, absent):
        assert k.s.stakes.getStaker(w).stake == stake_before[w] - slash
    total = 2 * slash
    to_honest = total * k.params.honest_slash_bps // BPS
    to_project = total * k.params.project_slash_bps // BPS
    assert (
        k.coordinator.pendingWithdrawal(a) == to_honest
    )  # the one honest seat (no reward: no quorum)
    assert k.s.gateways.reserveOf(k.project_id).balance == reserve + to_project
    assert k.coordinator.burned() == total - to_honest - to_project
    assert k.coordinator.pendingWithdrawal(owner) == owner_pending
    assert k.chain.provider.get_balance(k.coordinator.address) == owed(k, _everyone(accounts))


def test_finalize__abstaining_seat__never_slashed(k, by, chain):
    posted, holders = seat_until(k, distinct(3), n=2)
    b = posted.batch_id
    a, bb, quiet = (by(h) for h in holders)
    for w, v in ((a, vector(2)), (bb, vector(2)), (quiet, abstain(2))):
        k.commit(b, w, v)
    stake = k.s.stakes.getStaker(quiet).stake
    k.reveal(b, a, vector(2))
    k.reveal(b, bb, vector(2), full=False)
    k.reveal(b, quiet, abstain(2))
    k.coordinator.finalize(b, [abstain(2), vector(2)], k.hl(b), sender=quiet)
    assert [k.coordinator.leafState(b, i) for i in range(2)] == [L_FINAL, L_FINAL]
    assert k.s.stakes.getStaker(quiet).stake == stake
    assert k.coordinator.pendingWithdrawal(quiet) == 2 * (
        k.params.min_reward * k.params.finalizer_bps // BPS
    )


def test_finalize__every_seat_abstains__refunded_nobody_slashed(k, by):
    posted, holders = seat_until(k, lambda h, s: True)
    b = posted.batch_id
    reserve = k.s.gateways.reserveOf(k.project_id).balance
    for h in holders:
        k.commit(b, by(h), abstain(1))
    for h in holders:
        k.reveal(b, by(h), abstain(1))
    assert k.coordinator.leafState(b, 0) == L_REFUNDED
    assert k.coordinator.phaseOf(b) == PH_CLOSED  # nothing left for attesters
    assert k.s.gateways.reserveOf(k.project_id).balance == reserve + k.params.min_reward
    assert k.coordinator.burned() == 0


def test_finalize__majority_without_quorum__disputed_nobody_slashed_until_the_court_closes(
    project, owner, deployment, chain, workers, developer, gateway, accounts
):
    params = dataclasses.replace(short_epoch_params(), seats=5, quorum=4)
    s = deploy_settlement(project, owner, deployment.registry, params)
    kit = Kit(s, params, chain, developer, gateway)
    kit.stake(workers[:5])
    kit.open_project()
    by = {str(a.address): a for a in _everyone(accounts)}
    # any draw with two single-seat holders: one lies, one abstains, the other 3 seats agree
    posted, holders = seat_until(kit, lambda h, s: s.count(1) >= 2)
    b = posted.batch_id
    seats = [int(x) for x in kit.holders_of(b)[1]]
    singles = [h for h, n in zip(holders, seats, strict=True) if n == 1]
    liar, quiet = singles[0], singles[1]
    votes = [LIE if h == liar else ABSTAIN if h == quiet else GOOD for h in holders]
    for h, v in zip(holders, votes, strict=True):
        kit.commit(b, by[h], [v])
    for h, v in zip(holders, votes, strict=True):
        kit.reveal(b, by[h], [v])
    tx = kit.coordinator.finalize(b, [[GOOD], [LIE], [ABSTAIN]], kit.hl(b), sender=by[holders[0]])
    assert kit.coordinator.leafState(b, 0) == L_DISPUTED
    assert kit.coordinator.getBatch(b).disputedMask == 1
    assert (
        list(tx.events.filter(kit.coordinator.SeatSlashed)) == []
    )  # the liar answers to the court


def test_single_request__whole_life__committee_paid_refund_to_requester_on_failure(
    k, by, requester, chain
):
    reward = 10 * k.params.min_reward
    tx = k.coordinator.requestExecution(
        k.function_id,
        1,
        keccak(b"x"),
        2,
        k.now() + 300,
        0,
        b"\x00" * 32,
        value=reward,
        sender=requester,
    )
    b = tx.events.filter(k.coordinator.SingleRequested)[0].batchId
    holders = k.seat(b)
    for h in holders:
        k.commit(b, by(h), abstain(1))
    for h in holders:
        k.reveal(b, by(h), abstain(1))
    assert k.coordinator.leafState(b, 0) == L_REFUNDED
    assert k.coordinator.pendingWithdrawal(requester) == reward


def test_open_results__wrong_opening_or_vector__reverts_then_attester_with_lie_unpaid(
    k, by, reverts_with, workers
):
    tickets = k.tickets(2)
    results = [
        AttestedResult(GOOD, (str(workers[3].address),)),
        AttestedResult(LIE, (str(workers[4].address),)),
    ]
    commitment = results_commitment(results, RESULT_SALT)
    head, leaves = encode_posted([Leaf.of(t) for t in tickets])
    tx = k.coordinator.postBatch(
        k.project_id, b"\x00" * 32, head.as_tuple(), commitment, leaves, sender=k.gateway
    )
    b = tx.events.filter(k.coordinator.BatchPosted)[0].batchId
    att = k.cosignatures(b, tickets, results, [workers[3], workers[4]])
    holders = k.seat(b)
    for h in holders:
        k.commit(b, by(h), vector(2))
    for h in holders:
        k.reveal(b, by(h), vector(2))
    opening = results_opening(results)
    k.wait_challenge_window(b)  # attesters are paid once no challenge can come
    with reverts_with(k.coordinator.ResultsMismatch):
        k.coordinator.openResults(b, keccak(b"bad salt"), opening, vector(2), att, sender=k.gateway)
    with reverts_with(k.coordinator.VectorMismatch):
        k.coordinator.openResults(b, RESULT_SALT, opening, vector(2, LIE), att, sender=k.gateway)
    # the compact opening claims the attested results are the final vector (so the liar would be
    # paid for leaf 1): they are not, so it does not open the commitment
    compact = compact_opening(results)
    with reverts_with(k.coordinator.ResultsMismatch):
        k.coordinator.openResults(b, RESULT_SALT, compact, [], att, sender=k.gateway)
    reserve = k.s.gateways.reserveOf(k.project_id).balance
    tx = k.coordinator.openResults(b, RESULT_SALT, opening, vector(2), att, sender=k.gateway)
    r = k.params.min_reward
    pot = r - r * k.params.finalizer_bps // BPS - r * k.params.committee_bps // BPS
    assert _attester_credits(k, tx) == {str(workers[3].address): pot}  # its result stood, not 4's
    assert k.s.gateways.reserveOf(k.project_id).balance == reserve + pot  # that share went back
    with reverts_with(k.coordinator.WrongPhase):
        k.coordinator.openResults(b, RESULT_SALT, opening, vector(2), att, sender=k.gateway)


ONE_LISTED = b"\x01\x01" + b"\x11" * 20  # the full form, an attester list of one


ONE = b"\x11" * 20  # an attester


@pytest.mark.parametrize(
    "opening, given",
    [
        (ONE_LISTED + b"\x05" + bytes(5) + GOOD, True),  # five attesters on a leaf
        (ONE_LISTED + b"\x02" + bytes(1) + GOOD, True),  # two announced, one present
        (ONE_LISTED + b"\x01" + bytes(1) + b"\x00" + GOOD, True),  # trailing byte, attester part
        (ONE_LISTED + b"\x01" + bytes(1) + GOOD[:20], True),  # truncated results
        (ONE_LISTED + b"\x01" + b"\x01" + GOOD, True),  # index 1 of a one-attester list
        (b"\x01\x02" + ONE + b"\x00" + GOOD, True),  # two listed, one present
        (b"\x00\x01" + ONE + b"\x01\x00", True),  # compact, yet a final vector is given
        # the compact form as the gateway sends it (no final vector): read by the attester pass
        (b"\x00\x01" + ONE + b"\x01", False),  # truncated: the entry's index missing
        (b"\x00\x01" + ONE, False),  # truncated: no entry
        (b"\x00\x01" + ONE[:10], False),  # truncated: half an attester
        (b"\x00\x01" + ONE + b"\x01\x01", False),  # index 1 of a one-attester list
        (b"\x00\x02" + ONE + b"\x01\x00", False),  # two listed, one present
        (b"\x00\x01" + ONE + b"\x01\x00\x00", False),  # trailing byte
        (b"\x02\x01" + ONE + b"\x01\x00", False),  # an unknown form
        (b"\x00", False),  # a form and nothing else
        (b"", False),  # no form
    ],
    ids=[
        "too-many",
        "short",
        "trailing",
        "truncated",
        "index-past-list",
        "short-list",
        "compact-with-vector",
        "compact-truncated-index",
        "compact-truncated-entries",
        "compact-truncated-list",
        "compact-index-past-list",
        "compact-short-list",
        "compact-trailing",
        "unknown-form",
        "form-only",
        "empty",
    ],
)
def test_open_results__malformed_opening__reverts_malformed_opening_and_moves_nothing(
    k, by, reverts_with, opening, given
):
    # the gateway committed to a malformed opening: it can never be opened (the pot returns at close)
    salt = b"\x07" * 32
    [t] = k.tickets(1)
    tx = k.coordinator.postBatch(
        k.project_id,
        b"\x00" * 32,
        BatchHead.of(Leaf.of(t)).as_tuple(),
        keccak(salt + opening),
        encode_posted([Leaf.of(t)])[1],
        sender=k.gateway,
    )
    b = tx.events.filter(k.coordinator.BatchPosted)[0].batchId
    holders = k.seat(b)
    for h in holders:
        k.commit(b, by(h), vector(1))
    for h in holders:
        k.reveal(b, by(h), vector(1))
    att = bytes(65)  # the opening is read before the co-signatures are counted
    k.wait_challenge_window(b)
    reserve = k.s.gateways.reserveOf(k.project_id).balance
    held = k.coordinator.balance
    with reverts_with(k.s.tickets.MalformedOpening):
        k.coordinator.openResults(
            b, salt, opening, vector(1) if given else [], att, sender=k.gateway
        )
    assert k.coordinator.phaseOf(b) == PH_FINALIZED
    assert (k.s.gateways.reserveOf(k.project_id).balance, k.coordinator.balance) == (reserve, held)
    assert int(k.coordinator.pendingWithdrawal(to_checksum_address(ONE))) == 0


def test_close__after_open_window__returns_pot_and_not_before(k, by, reverts_with, chain, workers):
    posted, holders = seat_until(k, lambda h, s: True, n=1, attesters=[workers[3]])
    b = posted.batch_id
    for h in holders:
        k.commit(b, by(h), vector(1))
    for h in holders:
        k.reveal(b, by(h), vector(1))
    with reverts_with(k.coordinator.WrongPhase):
        k.coordinator.close(b, sender=k.gateway)
    chain.mine(deltatime=k.params.open_window)
    pot = k.coordinator.getBatch(b).attesterPot
    reserve = k.s.gateways.reserveOf(k.project_id).balance
    with reverts_with(k.coordinator.WrongPhase):
        k.open(posted, vector(1))  # too late to open
    k.coordinator.close(b, sender=k.gateway)
    assert k.s.gateways.reserveOf(k.project_id).balance == reserve + pot
    assert k.coordinator.phaseOf(b) == PH_CLOSED


def test_unaudited_fast_leaf__paid_on_attested_result(
    project, owner, deployment, chain, workers, developer, gateway, accounts
):
    params = dataclasses.replace(short_epoch_params(), audit_bps=0)
    s = deploy_settlement(project, owner, deployment.registry, params)
    kit = Kit(s, params, chain, developer, gateway)
    kit.stake(workers[:3])
    kit.open_project()
    by = {str(a.address): a for a in _everyone(accounts)}
    posted = kit.post(2, mode=MODE_FAST, attesters=[workers[4]])
    b = posted.batch_id
    holders = kit.seat(b)
    assert kit.coordinator.leafState(b, 0) == L_PENDING
    for h in holders:
        kit.commit(b, by[h], abstain(2))
    for h in holders:
        kit.reveal(b, by[h], abstain(2))
    assert [kit.coordinator.leafState(b, i) for i in range(2)] == [L_UNAUDITED] * 2
    kit.open(posted, abstain(2))
    r = params.min_reward
    assert kit.coordinator.pendingWithdrawal(workers[4]) == 2 * (
        r - r * params.finalizer_bps // BPS
    )


def test_claim_seat_pay__unchallenged_batch__coordinator_keeps_the_window_then_pays_every_seat(
    k, by, chain, reverts_with
):
    """No leaf challenged: the coordinator does not ask the court, yet still refuses a holder's claim
    before the court's challenge window (read once from the court) has passed. The batch, without
    attesters, closed as it settled."""
    posted, holders = seat_until(k, distinct(3))
    b = posted.batch_id
    for h in holders:
        k.commit(b, by(h), vector(1))
    for h in holders:
        k.reveal(b, by(h), vector(1))
    assert k.coordinator.phaseOf(b) == PH_CLOSED
    window = int(k.s.court.courtParams().challengeWindow)
    chain.mine(deltatime=window - 5)
    with reverts_with(k.coordinator.ChallengeWindowOpen):
        k.coordinator.claimSeatPay([b], [k.hl(_b) for _b in [b]], sender=by(holders[0]))
    with reverts_with(k.coordinator.WrongPhase):
        k.coordinator.close(b, sender=k.gateway)  # nothing left to close
    assert set(k.claim_seats(b, by)) == set(holders)


def _agreed(k, by, n: int = 1, want=None):
    """A batch without attesters whose seats all revealed one vector (it settled and closed)."""
    posted, holders = seat_until(k, want or distinct(3), n=n)
    b = posted.batch_id
    for h in holders:
        k.commit(b, by(h), vector(n))
    for h in holders:
        k.reveal(b, by(h), vector(n))
    return b, holders


def test_claim_seat_pay__twice__reverts_nothing_to_claim_and_pays_once(
    k, by, reverts_with, accounts
):
    """A holder claims its pay, then claims again, alone and listing the batch twice in one call: each
    second claim reverts NothingToClaim and the coordinator's balance stays what it owes."""
    b, holders = _agreed(k, by)
    k.wait_challenge_window(b)
    h = by(holders[0])
    owed_to = int(k.coordinator.seatPayOf(b, h, k.hl(b)))
    assert owed_to > 0
    before = int(k.chain.provider.get_balance(k.coordinator.address))
    tx = k.coordinator.claimSeatPay([b], [k.hl(_b) for _b in [b]], sender=h)
    assert [int(e.amount) for e in tx.events.filter(k.coordinator.SeatPayClaimed)] == [owed_to]
    assert int(k.chain.provider.get_balance(k.coordinator.address)) == before - owed_to
    with reverts_with(k.coordinator.NothingToClaim):
        k.coordinator.claimSeatPay([b], [k.hl(_b) for _b in [b]], sender=h)
    second = by(holders[1])
    with reverts_with(k.coordinator.NothingToClaim):
        k.coordinator.claimSeatPay(
            [b, b], [k.hl(_b) for _b in [b, b]], sender=second
        )  # the whole call reverts: nothing sent
    assert int(k.coordinator.seatPayOf(b, second, k.hl(b))) == owed_to  # still claimable once
    assert int(k.chain.provider.get_balance(k.coordinator.address)) == before - owed_to
    assert k.chain.provider.get_balance(k.coordinator.address) == owed(k, _everyone(accounts))
    assert set(k.claim_seats(b, by)) == set(holders[1:])
    assert k.coordinator.seatPayHeld(b, k.hl(b)) == 0
    assert k.chain.provider.get_balance(k.coordinator.address) == owed(k, _everyone(accounts))


def test_claim_seat_pay__stranger_unsettled_or_unknown_batch__reverts_and_sends_nothing(
    k, by, reverts_with, stranger, workers
):
    """Only a holder of a settled batch is paid: a stranger's claim reverts NotSeated, a claim on a batch
    still in its commit phase WrongPhase, on a batch that does not exist UnknownBatch."""
    b, holders = _agreed(k, by)
    k.wait_challenge_window(b)
    held = int(k.coordinator.seatPayHeld(b, k.hl(b)))
    with reverts_with(k.coordinator.NotSeated):
        k.coordinator.claimSeatPay([b], [k.hl(_b) for _b in [b]], sender=stranger)
    outsider = next(w for w in workers[:5] if str(w.address) not in holders)
    with reverts_with(k.coordinator.NotSeated):
        k.coordinator.claimSeatPay(
            [b], [k.hl(_b) for _b in [b]], sender=outsider
        )  # staked, but no seat of this batch
    posted, seated = seat_until(k, distinct(3))
    with reverts_with(k.coordinator.WrongPhase):
        k.coordinator.claimSeatPay(
            [posted.batch_id], [k.hl(_b) for _b in [posted.batch_id]], sender=by(seated[0])
        )
    with reverts_with(k.coordinator.UnknownBatch):
        k.coordinator.claimSeatPay([b + 100], [k.hl(_b) for _b in [b + 100]], sender=by(holders[0]))
    assert int(k.coordinator.seatPayHeld(b, k.hl(b))) == held


def test_claim_seat_pay__several_batches__one_transfer_of_their_sum(k, by):
    """A worker holding seats of two settled batches claims both in one call: one transfer, their sum."""
    first, holders = _agreed(k, by)
    common = holders[0]
    second, _ = _agreed(k, by, want=lambda hs, s: len(hs) == 3 and common in hs)
    k.wait_challenge_window(second)
    owed_to = int(k.coordinator.seatPayOf(first, common, k.hl(first))) + int(
        k.coordinator.seatPayOf(second, common, k.hl(second))
    )
    before = int(k.chain.provider.get_balance(common))
    tx = k.coordinator.claimSeatPay(
        [first, second], [k.hl(_b) for _b in [first, second]], sender=by(common)
    )
    fee = int(tx.gas_used) * int(tx.gas_price)
    assert int(k.chain.provider.get_balance(common)) - before + fee == owed_to
    assert [int(e.batchId) for e in tx.events.filter(k.coordinator.SeatPayClaimed)] == [
        first,
        second,
    ]


def test_claim_seat_pay__outvoted_seat__has_nothing_to_claim(k, by, reverts_with):
    """A seat whose vote no Final leaf took earns no committee pay: its claim reverts NothingToClaim."""
    posted, holders = seat_until(k, distinct(3))
    b = posted.batch_id
    votes = {h: vector(1, LIE if h == holders[2] else GOOD) for h in holders}
    for h in holders:
        k.commit(b, by(h), votes[h])
    for h in holders:
        k.reveal(b, by(h), votes[h], full=True)
    k.coordinator.finalize(b, [vector(1), vector(1, LIE)], k.hl(b), sender=k.gateway)
    assert k.coordinator.leafState(b, 0) == L_FINAL
    k.wait_challenge_window(b)
    with reverts_with(k.coordinator.NothingToClaim):
        k.coordinator.claimSeatPay([b], [k.hl(_b) for _b in [b]], sender=by(holders[2]))
    assert set(k.claim_seats(b, by)) == set(holders[:2])


def test_expire__unseated_after_window__refunds_and_not_before(k, chain, reverts_with):
    posted = k.post(3)
    b = posted.batch_id
    with reverts_with(k.coordinator.NotExpired):
        k.coordinator.expire(b, sender=k.gateway)
    reserve = k.s.gateways.reserveOf(k.project_id).balance
    chain.mine(deltatime=k.params.seat_window + 1)
    k.coordinator.expire(b, sender=k.gateway)
    assert k.coordinator.phaseOf(b) == PH_EXPIRED
    assert k.coordinator.leafState(b, 2) == L_REFUNDED
    assert k.s.gateways.reserveOf(k.project_id).balance == reserve + 3 * k.params.min_reward
    with reverts_with(k.coordinator.WrongPhase):
        k.coordinator.seat(b, b"", sender=k.gateway)


def test_expire__epoch_array_gone__expires_early(k, chain):
    posted = k.post(1)
    k.advance_epoch()
    k.advance_epoch()
    k.coordinator.expire(posted.batch_id, sender=k.gateway)
    assert k.coordinator.phaseOf(posted.batch_id) == PH_EXPIRED


def _finalized_by(k, by, finalizer):
    """A one-leaf batch of three holders, one of them lying, settled by ``finalizer`` (finalize credits it
    the finalizer's share; the seats are paid after the window)."""
    posted, holders = seat_until(k, distinct(3))
    votes = [vector(1), vector(1), vector(1, LIE)]
    for h, v in zip(holders, votes, strict=True):
        k.commit(posted.batch_id, by(h), v)
    for h, v in zip(holders, votes, strict=True):
        k.reveal(posted.batch_id, by(h), v)
    k.coordinator.finalize(
        posted.batch_id, [vector(1), vector(1, LIE)], k.hl(posted.batch_id), sender=finalizer
    )


def test_withdraw__pays_credits_once(k, by, reverts_with, stranger):
    with reverts_with(k.coordinator.NothingToWithdraw):
        k.coordinator.withdraw(sender=stranger)
    w = stranger
    _finalized_by(k, by, w)
    amount = k.coordinator.pendingWithdrawal(w)
    assert amount > 0
    before = w.balance
    tx = k.coordinator.withdraw(sender=w)
    assert w.balance == before + amount - tx.total_fees_paid
    with reverts_with(k.coordinator.NothingToWithdraw):
        k.coordinator.withdraw(sender=w)


def test_withdraw__paid_before__next_credit_exact_and_paid_once(k, by, reverts_with, stranger):
    """A withdrawal leaves the credit word nonzero (a cheaper next credit): the next credit is still
    exactly what was earned, paid once, and the coordinator's balance falls by exactly that."""
    amounts = []
    w = stranger  # finalizes twice
    for _ in range(2):
        _finalized_by(k, by, w)
        amount = k.coordinator.pendingWithdrawal(w)
        amounts.append(amount)
        held = k.coordinator.balance
        k.coordinator.withdraw(sender=w)
        assert k.coordinator.balance == held - amount
        assert k.coordinator.pendingWithdrawal(w) == 0
        with reverts_with(k.coordinator.NothingToWithdraw):
            k.coordinator.withdraw(sender=w)
    assert amounts[0] == amounts[1] > 0


def test_receive__plain_payment__reverts_unexpected_payment(k, stranger, reverts_with):
    with reverts_with(k.coordinator.UnexpectedPayment):
        stranger.transfer(k.coordinator.address, 1)


def test_withdraw__recipient_rejects_ether__reverts_transfer_failed_and_keeps_credit(
    k, by, project, owner, reverts_with
):
    rejecter = project.EtherRejecter.deploy(sender=owner)
    reward = k.params.min_reward
    call = k.coordinator.requestExecution.as_transaction(
        k.function_id,
        1,
        keccak(b"x"),
        2,
        k.now() + 300,
        0,
        b"\x00" * 32,
        value=reward,
        sender=owner,
    )
    tx = rejecter.forward(k.coordinator.address, call.data, value=reward, sender=owner)
    b = tx.events.filter(k.coordinator.SingleRequested)[0].batchId
    holders = k.seat(b)
    for h in holders:
        k.commit(b, by(h), abstain(1))
    for h in holders:
        k.reveal(b, by(h), abstain(1))
    assert k.coordinator.pendingWithdrawal(rejecter) == reward  # refunded to the contract's credits
    withdraw = k.coordinator.withdraw.as_transaction(sender=owner)
    with reverts_with(k.coordinator.TransferFailed):
        rejecter.forward(k.coordinator.address, withdraw.data, sender=owner)
    assert k.coordinator.pendingWithdrawal(rejecter) == reward


# ------------------------------------------------------------------------------------------ gas paths


def test_reveal__zero_vector_hash_without_full_reveal__reverts_vector_mismatch(
    k, by, chain, reverts_with
):
    """A holder that committed to the hash 0 cannot reveal it empty-handed (no vector hashes to 0), so it
    cannot leave a revealed vote that no vector matches and block settlement."""
    posted, holders = seat_until(k, distinct(3))
    b = posted.batch_id
    griefer = by(holders[0])
    c = k.coordinator.commitmentFor(b, griefer, bytes(32), k.salt(griefer))
    k.coordinator.commit(b, c, k.hl(b), sender=griefer)
    for h in holders[1:]:
        k.commit(b, by(h), vector(1))
    with reverts_with(k.coordinator.VectorMismatch):
        k.coordinator.reveal(b, bytes(32), k.salt(griefer), [], k.hl(b), sender=griefer)
    for h in holders[1:]:
        k.reveal(b, by(h), vector(1))
    chain.mine(deltatime=k.params.commit_window + k.params.reveal_window)
    k.coordinator.finalize(b, [vector(1)], k.hl(b), sender=k.gateway)  # the griefer is a no-show
    assert k.coordinator.leafState(b, 0) == L_FINAL


def test_reveal__equal_vectors_last_one_empty__settles_from_the_first_full_reveal(
    k, by, accounts, workers
):
    posted, holders = seat_until(k, distinct(3), n=3, attesters=[workers[3]])
    b = posted.batch_id
    v = [GOOD, ABSTAIN, GOOD]
    for h in holders:
        k.commit(b, by(h), v)
    assert k.coordinator.getBatch(b).finalMask == 0
    k.reveal(b, by(holders[0]), v)
    k.reveal(b, by(holders[1]), v, full=False)
    assert k.coordinator.getBatch(b).finalMask == 0  # the first reveal's summary is not final yet
    assert k.coordinator.getBatch(b).finalVectorHash == bytes(32)
    k.reveal(b, by(holders[2]), v, full=False)  # settles without any vector in calldata
    batch = k.coordinator.getBatch(b)
    assert k.coordinator.phaseOf(b) == PH_FINALIZED
    assert [k.coordinator.leafState(b, i) for i in range(3)] == [L_FINAL, L_REFUNDED, L_FINAL]
    assert (batch.finalMask, batch.refundMask) == (0b101, 0b010)
    assert bytes(batch.finalVectorHash) == vector_hash(v)
    r = k.params.min_reward
    f = r * k.params.finalizer_bps // BPS
    c = r * k.params.committee_bps // BPS
    assert batch.attesterPot == 2 * (r - f - c)
    fin = 2 * (
        f + c - 3 * (c // 3)
    )  # the finalizer's share: the settling holder claims it with its pay
    for h in holders:  # the seats' K-th of each Final leaf waits for the window
        assert k.coordinator.pendingWithdrawal(h) == 0
        assert k.coordinator.seatPayOf(b, h, k.hl(b)) == 2 * (c // 3) + (
            fin if h == holders[-1] else 0
        )
    assert k.coordinator.seatPayHeld(b, k.hl(b)) == 3 * 2 * (c // 3) + fin
    assert k.chain.provider.get_balance(k.coordinator.address) == owed(k, _everyone(accounts))


def test_open_results__every_leaf_final_no_summary_stored__forged_final_vector_refused(
    k, by, reverts_with, workers
):
    """A batch whose seats all reveal one vector with every audited leaf Final stores no summary (its
    final vector is the first full reveal's, read from that holder's vote): an opening that claims
    another final vector is still refused, and the true one pays."""
    posted, holders = seat_until(k, distinct(3), n=2, attesters=[workers[3]])
    b = posted.batch_id
    for h in holders:
        k.commit(b, by(h), vector(2))
    for i, h in enumerate(holders):
        k.reveal(b, by(h), vector(2), full=i == 0)
    batch = k.coordinator.getBatch(b)
    assert (batch.finalMask, batch.refundMask) == (0b11, 0)
    assert bytes(batch.finalVectorHash) == vector_hash(vector(2))
    for forged in ([GOOD, LIE], [GOOD, ABSTAIN]):
        with reverts_with(k.coordinator.VectorMismatch):
            k.open(posted, forged)
    tx = k.open(posted, vector(2))
    assert _attester_credits(k, tx) == {str(workers[3].address): int(batch.attesterPot)}


def test_open_results__final_vector_omitted__taken_from_the_opening_unless_an_attester_differs(
    k, by, reverts_with, workers
):
    tickets = k.tickets(2)
    posted = k.post(tickets=tickets, attesters=[workers[3]])
    holders = k.seat(posted.batch_id)
    for h in holders:
        k.commit(posted.batch_id, by(h), vector(2))
    for h in holders:
        k.reveal(posted.batch_id, by(h), vector(2))
    tx = k.open(posted, [])  # every final leaf's result is its attested one
    r = k.params.min_reward
    pot = r - r * k.params.finalizer_bps // BPS - r * k.params.committee_bps // BPS
    assert _attester_credits(k, tx) == {str(workers[3].address): 2 * pot}

    tickets = k.tickets(2)
    results = [AttestedResult(GOOD, (str(workers[3].address),)), AttestedResult(LIE, ())]
    tx = k.coordinator.postBatch(
        k.project_id,
        b"\x00" * 32,
        BatchHead.of(Leaf.of(tickets[0])).as_tuple(),
        results_commitment(results, RESULT_SALT),
        encode_posted([Leaf.of(t) for t in tickets])[1],
        sender=k.gateway,
    )
    b = tx.events.filter(k.coordinator.BatchPosted)[0].batchId
    att = k.cosignatures(b, tickets, results, [workers[3]])
    for h in k.seat(b):
        k.commit(b, by(h), vector(2))
    for h in k.holders_of(b)[0]:
        k.reveal(b, by(h), vector(2))
    opening = results_opening(results)
    k.wait_challenge_window(b)  # attesters are paid once no challenge can come
    with reverts_with(k.coordinator.VectorMismatch):  # the opening implies LIE on leaf 1
        k.coordinator.openResults(b, RESULT_SALT, opening, [], att, sender=k.gateway)
    k.coordinator.openResults(b, RESULT_SALT, opening, vector(2), att, sender=k.gateway)
    assert k.coordinator.phaseOf(b) == PH_CLOSED


# ------------------------------------------------------------------------------------------ attester co-signatures


def _open_batch(k, by, tickets, results):
    """Posts ``tickets`` with ``results`` committed, seats, and settles every leaf on GOOD."""
    tx = k.coordinator.postBatch(
        k.project_id,
        b"\x00" * 32,
        BatchHead.of(Leaf.of(tickets[0])).as_tuple(),
        results_commitment(results, RESULT_SALT),
        encode_posted([Leaf.of(t) for t in tickets])[1],
        sender=k.gateway,
    )
    b = tx.events.filter(k.coordinator.BatchPosted)[0].batchId
    holders = k.seat(b)
    for h in holders:
        k.commit(b, by(h), vector(len(tickets)))
    for h in holders:
        k.reveal(b, by(h), vector(len(tickets)))
    k.wait_challenge_window(b)  # attesters are paid once no challenge can come
    return b


def _attester_credits(k, tx):
    """The attester credits of an opening (Credited reason 2; its seat credits are reason 0)."""
    out: dict[str, int] = {}
    for e in tx.events.filter(k.coordinator.Credited):
        if int(e.reason) == 2:
            out[str(e.account)] = out.get(str(e.account), 0) + int(e.amount)
    return out


def _pot(k):
    r = k.params.min_reward
    return r - r * k.params.finalizer_bps // BPS - r * k.params.committee_bps // BPS


def test_open_results__listed_attester_never_cosigned__unpaid_and_its_share_returned(
    k, by, workers
):
    """An attester without a co-signature (65 zero bytes in its place) is not paid for the batch; its
    share goes back to the payer; the attester that co-signed is paid."""
    tickets = k.tickets(3)
    real, silent = workers[3], workers[4]
    results = [
        AttestedResult(GOOD, (str(real.address),)),
        AttestedResult(GOOD, (str(silent.address),)),
        AttestedResult(GOOD, (str(silent.address), str(real.address))),
    ]
    b = _open_batch(k, by, tickets, results)
    reserve = k.s.gateways.reserveOf(k.project_id).balance
    cosigned = k.cosignatures(b, tickets, results, [real])
    tx = k.coordinator.openResults(
        b, RESULT_SALT, results_opening(results), [], cosigned, sender=k.gateway
    )
    pot, speed = _pot(k), k.params.min_reward * k.params.speed_bps // BPS
    each = (pot - speed) // 2
    # leaf 0 and its part of leaf 2; the silent one nothing
    assert _attester_credits(k, tx) == {str(real.address): pot + each}
    returned = 2 * pot - each
    assert k.s.gateways.reserveOf(k.project_id).balance == reserve + returned
    [opened] = tx.events.filter(k.coordinator.ResultsOpened)
    assert (opened.paid, opened.returned) == (pot + each, returned)


def test_open_results__forged_cosignature__unpaid(k, by, workers, stranger):
    """The gateway lists workers[4] and signs in its place with another key: nobody is paid."""
    tickets = k.tickets(2)
    results = k.attested(tickets, [workers[4]])
    b = _open_batch(k, by, tickets, results)
    forged = k.cosignature(stranger, b, tickets, results)
    tx = k.coordinator.openResults(
        b, RESULT_SALT, results_opening(results), [], forged, sender=k.gateway
    )
    assert _attester_credits(k, tx) == {}
    assert k.coordinator.phaseOf(b) == PH_CLOSED


def test_open_results__cosignature_of_another_batch_or_other_terms__unpaid(k, by, workers):
    """A co-signature replayed from another batch, or over other leaves or other results than the
    opening lists the attester on, does not pay."""
    first_tickets = k.tickets(2)
    first_results = k.attested(first_tickets, [workers[3]])
    first = _open_batch(k, by, first_tickets, first_results)
    replayed = k.cosignature(workers[3], first, first_tickets, first_results)
    k.coordinator.openResults(
        first, RESULT_SALT, results_opening(first_results), [], replayed, sender=k.gateway
    )

    tickets = k.tickets(2)
    results = k.attested(tickets, [workers[3]])
    b = _open_batch(k, by, tickets, results)
    other_terms = [AttestedResult(GOOD, (str(workers[3].address),)), AttestedResult(LIE, ())]
    good = k.cosignature(workers[3], b, tickets, results)
    assert k.s.tickets.attesterPay(_terms(k, b), results_opening(results), [], good)[2] > 0
    for wrong in (
        k.cosignature(workers[3], first, tickets, results),  # names the other batch
        k.cosignature(workers[3], b, first_tickets, results),  # another root
        k.cosignature(workers[3], b, tickets, other_terms),  # one leaf only
        replayed,  # the other batch's own co-signature
    ):
        assert k.s.tickets.attesterPay(_terms(k, b), results_opening(results), [], wrong)[2] == 0
    tx = k.coordinator.openResults(
        b, RESULT_SALT, results_opening(results), [], replayed, sender=k.gateway
    )
    assert _attester_credits(k, tx) == {}


def _terms(k, b):
    """The OpenTerms the coordinator passes for batch ``b`` (every leaf Final)."""
    batch = k.coordinator.getBatch(b)
    r = k.params.min_reward
    return (
        str(k.coordinator.address),
        b,
        str(k.gateway.address),
        batch.root,
        batch.leafCount,
        batch.finalMask,
        batch.auditMask,
        _pot(k),
        r - r * k.params.finalizer_bps // BPS,
        r * k.params.speed_bps // BPS,
        RESULT_SALT,
        batch.resultsCommitment,
        batch.finalVectorHash,
    )


def test_open_results__compact_opening__pays_as_the_full_one_without_the_results(k, by, workers):
    """Results equal to the final vector open in the compact form (2 bytes a leaf with one attester,
    no results, no final vector): checked against the batch's final vector hash, the same pay."""
    tickets = k.tickets(3)
    results = k.attested(tickets, [workers[3]])
    b = _open_batch(k, by, tickets, results)
    sigs = k.cosignatures(b, tickets, results)
    compact, full = compact_opening(results), results_opening(results)
    assert len(compact) == 2 + 20 + 2 * 3 and len(full) == len(compact) + 32 * 3
    as_full = k.s.tickets.attesterPay(_terms(k, b), full, [], sigs)
    assert k.s.tickets.attesterPay(_terms(k, b), compact, [], sigs) == as_full
    reserve = k.s.gateways.reserveOf(k.project_id).balance
    tx = k.coordinator.openResults(b, RESULT_SALT, compact, [], sigs, sender=k.gateway)
    assert _attester_credits(k, tx) == {str(workers[3].address): 3 * _pot(k)}
    assert k.s.gateways.reserveOf(k.project_id).balance == reserve
    assert k.coordinator.phaseOf(b) == PH_CLOSED


@pytest.mark.parametrize("n", [1, 15, 16, 17, 100, 256])
def test_attester_pay__one_attester_on_every_leaf__word_pass_agrees_with_the_leaf_pass(
    k, workers, n
):
    """A compact opening with one attester on every leaf is read 16 entries a word; listing a second
    attester on no leaf sends it through the leaf-by-leaf pass: both owe the one attester the same,
    every Final leaf's pot and every unaudited leaf's (challenged leaves: out of the final mask)."""
    rng = random.Random(n)
    attester = workers[3]
    key = bytes.fromhex(str(attester.private_key).removeprefix("0x"))
    all_leaves = (1 << n) - 1
    audit = rng.getrandbits(n) | 1
    final = audit & rng.getrandbits(n)
    fvh, root = keccak(b"final vector"), keccak(b"root")
    one = [AttestedResult(GOOD, (str(attester.address),))] * n
    salt = RESULT_SALT
    pot, unaudited = 1_000, 1_700
    for listed in (1, 2):
        part = compact_opening(one)[1:]
        if listed == 2:  # a second attester in the list, on no leaf
            part = bytes([2]) + part[1:21] + b"\x22" * 20 + part[21:]
        terms = (
            str(k.coordinator.address), 9, str(k.gateway.address), root, n, final, audit,
            pot, unaudited, 300, salt, keccak(salt + fvh + part), fvh,
        )  # fmt: skip
        digest = batch_attestation_digest(
            k.chain.chain_id, str(k.coordinator.address), 9, str(k.gateway.address), root,
            all_leaves, fvh,
        )  # fmt: skip
        sigs = sign_digest(key, digest) + bytes(65) * (listed - 1)
        accounts, amounts, paid = k.s.tickets.attesterPay(terms, b"\x00" + part, [], sigs)
        expected = bin(final).count("1") * pot + bin(all_leaves & ~audit).count("1") * unaudited
        assert str(accounts[0]) == str(attester.address)
        assert int(amounts[0]) == int(paid) == expected


def test_attester_pay__compact_entries_as_long_as_the_word_pattern_but_not_it__read_leaf_by_leaf(
    k, workers
):
    """n = 2, one attester listed, entries 00 ‖ 02 00 00 (2n bytes, as long as one attester on every
    leaf, 01 00 01 00): leaf 0 has no attester, leaf 1 lists the attester twice. The word pass must
    not take it: the attester's mask is 0b10 and it is owed leaf 1's pot only (both listings)."""
    attester = workers[3]
    key = bytes.fromhex(str(attester.private_key).removeprefix("0x"))
    fvh, root, salt = keccak(b"final vector"), keccak(b"root"), RESULT_SALT
    pot, speed = 1_000, 300
    part = b"\x01" + bytes.fromhex(str(attester.address)[2:]) + b"\x00" + b"\x02\x00\x00"
    terms = (
        str(k.coordinator.address), 9, str(k.gateway.address), root, 2, 0b11, 0b11,
        pot, 1_700, speed, salt, keccak(salt + fvh + part), fvh,
    )  # fmt: skip
    for mask, due in ((0b10, pot), (0b11, 0)):  # co-signed over its leaves only, or over both
        digest = batch_attestation_digest(
            k.chain.chain_id, str(k.coordinator.address), 9, str(k.gateway.address), root, mask,
            fvh,
        )  # fmt: skip
        accounts, amounts, paid = k.s.tickets.attesterPay(
            terms, b"\x00" + part, [], sign_digest(key, digest)
        )
        assert str(accounts[0]) == str(attester.address)
        assert int(paid) == due  # the word pass would have it co-sign 0b11 and owe it both pots
        if due:
            assert int(amounts[0]) == due


def test_open_results__gateway_commits_a_result_an_attester_never_signed__that_attester_unpaid(
    k, by, workers
):
    """workers[4] attested LIE on leaf 1 and co-signed the batch's true results; the gateway commits
    GOOD in its place, so that the compact opening opens (the results equal the final vector) and
    workers[4] would be paid for a result it did not sign. Its co-signature names the true results'
    hash, not the committed one: it is not paid, its share goes back to the payer; workers[3], which
    co-signed the committed results (its own leaf's is what it attested), is paid."""
    tickets = k.tickets(2)
    honest, liar = workers[3], workers[4]
    true = [AttestedResult(GOOD, (str(honest.address),)), AttestedResult(LIE, (str(liar.address),))]
    committed = [true[0], AttestedResult(GOOD, (str(liar.address),))]
    k.attested(tickets, [honest, liar])
    b = _open_batch(k, by, tickets, committed)
    sigs = k.cosignature(honest, b, tickets, committed) + k.cosignature(liar, b, tickets, true)
    reserve = k.s.gateways.reserveOf(k.project_id).balance
    tx = k.coordinator.openResults(
        b, RESULT_SALT, compact_opening(committed), [], sigs, sender=k.gateway
    )
    assert _attester_credits(k, tx) == {str(honest.address): _pot(k)}
    assert k.s.gateways.reserveOf(k.project_id).balance == reserve + _pot(k)
    [opened] = tx.events.filter(k.coordinator.ResultsOpened)
    assert (opened.paid, opened.returned) == (_pot(k), _pot(k))


def test_open_results__malformed_opening_or_cosignature_count__reverts(
    k, by, workers, reverts_with
):
    tickets = k.tickets(2)
    results = k.attested(tickets, [workers[3], workers[4]])
    b = _open_batch(k, by, tickets, results)
    opening = results_opening(results)
    sigs = k.cosignatures(b, tickets, results)
    for wrong in (sigs[:65], sigs + bytes(65), b""):
        with reverts_with(k.s.tickets.CosignaturesMismatch):
            k.coordinator.openResults(b, RESULT_SALT, opening, [], wrong, sender=k.gateway)
    with reverts_with(k.s.tickets.MalformedOpening):  # a final vector of the wrong length
        k.s.tickets.attesterPay(_terms(k, b), opening, [GOOD], sigs)
    with reverts_with(k.s.tickets.MalformedOpening):  # trailing bytes
        k.s.tickets.attesterPay(_terms(k, b), opening + b"\x00", [], sigs)
    tx = k.coordinator.openResults(b, RESULT_SALT, opening, [], sigs, sender=k.gateway)
    assert k.coordinator.phaseOf(b) == PH_CLOSED
    pot, speed = _pot(k), k.params.min_reward * k.params.speed_bps // BPS
    each = (pot - speed) // 2
    assert _attester_credits(k, tx) == {
        str(workers[3].address): 2 * (pot - each),
        str(workers[4].address): 2 * each,
    }


def test_attester_pay__attester_listed_twice_on_a_leaf__paid_twice_on_one_cosignature(
    k, by, workers
):
    """The gateway may list an identity twice (drawn twice by stake): it is paid per listing."""
    tickets = k.tickets(1)
    results = [AttestedResult(GOOD, (str(workers[3].address),) * 2)]
    b = _open_batch(k, by, tickets, results)
    sig = k.cosignature(workers[3], b, tickets, results)
    accounts, amounts, paid = k.s.tickets.attesterPay(
        _terms(k, b), results_opening(results), [], sig
    )
    assert list(accounts) == [str(workers[3].address)]
    assert int(amounts[0]) == int(paid) == _pot(k)  # both listings: the whole pot


def test_attester_pay__more_than_64_distinct_attesters__reverts(k, by, workers, reverts_with):
    tickets = k.tickets(17)
    many = [
        AttestedResult(
            GOOD, tuple("0x" + (i * 4 + j + 1).to_bytes(20, "big").hex() for j in range(4))
        )
        for i in range(17)
    ]
    b = _open_batch(k, by, tickets, k.attested(tickets, [workers[3]]))
    with reverts_with(k.s.tickets.TooManyCosigners):
        k.s.tickets.attesterPay(_terms(k, b), results_opening(many), [], bytes(65 * 68))


def test_batch_attestation_digest__contract_and_wire__agree(k, workers):
    args = (7, str(k.gateway.address), keccak(b"root"), 0b101, keccak(b"results"))
    on_chain = k.s.tickets.batchAttestationDigest(str(k.coordinator.address), *args)
    assert bytes(on_chain) == batch_attestation_digest(
        k.chain.chain_id, str(k.coordinator.address), *args
    )
