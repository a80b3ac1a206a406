"""EvidenceCourt: slashable attestations after the challenge window, gateway equivocation, and
data-availability challenges; the audit's self-dealing presenter."""

from __future__ import annotations

import dataclasses

import pytest

from peerhost.deploy import ETHER
from peerhost.wire.batch import ABSTAIN, Leaf, merkle_proof
from peerhost.wire.ticket import sign_attestation, sign_ticket, ticket_hash

from .conftest import GOOD, KEY, L_FINAL, LIE, Posted, distinct, seat_until
from .courtkit import Court, resolve

BPS = 10_000


@pytest.fixture
def k(kit, workers):
    kit.stake(workers[:3])
    kit.open_project()
    return kit


@pytest.fixture
def court(k, accounts_by_address):
    return Court(k, accounts_by_address)


@pytest.fixture
def ev(k):
    return k.s.evidence


def _proof(posted: Posted, index: int) -> list[bytes]:
    return merkle_proof([Leaf.of(t).hash() for t in posted.tickets], index)


def _final(k, court, attesters, votes_of=lambda h: GOOD, want=None):
    """A one-leaf batch attested GOOD by ``attesters``, settled by the committee with ``votes_of``."""
    want = want or distinct(3)
    for _ in range(60):
        posted = k.post(1, attesters=attesters)
        holders = k.seat(posted.batch_id)
        seats = [int(x) for x in k.holders_of(posted.batch_id)[1]]
        if want(holders, seats):
            break
    b = posted.batch_id
    for h in holders:
        k.commit(b, court.by[h], [votes_of(h)])
    for h in holders:
        k.reveal(b, court.by[h], [votes_of(h)])
    if k.coordinator.phaseOf(b) == 4:
        k.coordinator.finalize(
            b, [[v] for v in {votes_of(h) for h in holders}], k.hl(b), sender=k.gateway
        )
    return posted, holders


def _evidence(k, posted, signer, result, final_vector=None, index=0):
    t = posted.tickets[index]
    signature = sign_attestation(
        signer.private_key, k.chain.chain_id, str(k.coordinator.address), ticket_hash(t), result
    )
    fv = [GOOD] if final_vector is None else final_vector
    return (t.as_tuple(), result, signature, posted.batch_id, index, _proof(posted, index), fv)


def test_slash_attestation__contradicts_final_after_window__slashed_split_and_jailed(
    k, court, ev, workers, stranger, reverts_with
):
    liar = workers[4]
    k.s.stakes.register(KEY, value=2 * ETHER, sender=liar)
    posted, _ = _final(k, court, [workers[0], liar])
    b = posted.batch_id
    assert k.coordinator.leafState(b, 0) == L_FINAL
    evidence = _evidence(k, posted, liar, LIE)
    with reverts_with(ev.NotSettled):  # the challenge window still runs
        ev.slashAttestation(evidence, sender=stranger)
    k.chain.mine(deltatime=int(court.params.challengeWindow))
    reserve = k.s.gateways.reserveOf(k.project_id).balance
    stake = k.s.stakes.getStaker(liar).stake
    tx = ev.slashAttestation(evidence, sender=stranger)
    amount = stake * int(court.params.attestationSlashBps) // BPS
    [slash] = tx.events.filter(ev.AttestationSlashed)
    assert (slash.worker, slash.amount, bytes(slash.ticketHash)) == (
        liar.address,
        amount,
        ticket_hash(posted.tickets[0]),
    )
    to_presenter = amount * int(court.params.presenterBps) // BPS
    reward = posted.tickets[0].reward
    assert ev.pendingWithdrawal(stranger) == to_presenter
    assert k.s.gateways.reserveOf(k.project_id).balance == reserve + reward
    assert ev.burned() == amount - to_presenter - reward
    assert k.s.stakes.getStaker(liar).stake == stake - amount
    assert k.s.stakes.getStaker(liar).jailedUntil == k.s.stakes.currentEpoch() + 1
    assert ev.isSlashedIn(b, liar) and ev.isSlashedFor(ticket_hash(posted.tickets[0]), liar)
    with reverts_with(ev.AlreadySlashed):  # once per batch per worker
        ev.slashAttestation(evidence, sender=stranger)


def test_slash_attestation__honest_abstain_bad_proof_vector_or_signature__reverts(
    k, court, ev, workers, stranger, reverts_with
):
    posted, _ = _final(k, court, [workers[0]])
    k.chain.mine(deltatime=int(court.params.challengeWindow))
    with reverts_with(ev.NotContradicting):
        ev.slashAttestation(_evidence(k, posted, workers[0], GOOD), sender=stranger)
    with reverts_with(ev.NotContradicting):  # an abstention is never slashed
        ev.slashAttestation(_evidence(k, posted, workers[0], ABSTAIN), sender=stranger)
    bad = list(_evidence(k, posted, workers[0], LIE))
    with reverts_with(ev.FinalVectorMismatch):
        ev.slashAttestation(tuple(bad[:6] + [[LIE]]), sender=stranger)
    with reverts_with(ev.NotInBatch):
        ev.slashAttestation(tuple(bad[:5] + [[b"\x01" * 32]] + bad[6:]), sender=stranger)
    with reverts_with(ev.BadSignature):
        ev.slashAttestation(tuple(bad[:2] + [b"\x00" * 65] + bad[3:]), sender=stranger)
    refunded = k.post(1)
    with reverts_with(ev.NotSettled):
        ev.slashAttestation(
            (refunded.tickets[0].as_tuple(), LIE, bad[2], refunded.batch_id, 0, [], []),
            sender=stranger,
        )


def test_self_dealing_presenter__owner_presents_its_own_attesters_lie__loses_money(
    k, court, ev, workers, developer
):
    """Wave 1: nothing stopped an owner from profiting from its own worker's slash. Now the presenter
    gets at most 10 % and the project only its ticket's reward back; the rest burns."""
    own = workers[4]  # the developer's own attester
    k.s.stakes.register(KEY, value=2 * ETHER, sender=own)
    posted, _ = _final(k, court, [own])
    k.chain.mine(deltatime=int(court.params.challengeWindow))
    stake = k.s.stakes.getStaker(own).stake
    reserve = k.s.gateways.reserveOf(k.project_id).balance
    ev.slashAttestation(_evidence(k, posted, own, LIE), sender=developer)
    lost = stake - k.s.stakes.getStaker(own).stake
    gained = ev.pendingWithdrawal(developer) + (
        k.s.gateways.reserveOf(k.project_id).balance - reserve
    )
    assert lost > 0 and gained < lost // 2  # the pair ends far poorer


def test_captured_committee__lie_overturned__honest_attester_not_slashable_liar_is(
    k, court, ev, workers, stranger, reverts_with
):
    bad = {str(w.address) for w in workers[3:5]}
    for w in workers[3:5]:
        k.s.stakes.register(KEY, value=2 * ETHER, sender=w)
    k.advance_epoch()

    def captured(holders, seats):
        return sum(s for h, s in zip(holders, seats, strict=True) if h in bad) >= k.params.quorum

    posted, holders = _final(
        k, court, [workers[0], workers[3]], lambda h: LIE if h in bad else GOOD, captured
    )
    b = posted.batch_id
    vectors = [[v] for v in {LIE if h in bad else GOOD for h in holders}]
    resolve(court, b, 0, truth=GOOD, lie=LIE, adversary=bad, challenger=workers[0], vectors=vectors)
    assert bytes(court.case(b, 0).value) == GOOD
    with reverts_with(ev.NotContradicting):  # the harvest fails: the honest attestation stands
        ev.slashAttestation(_evidence(k, posted, workers[0], GOOD, []), sender=stranger)
    tx = ev.slashAttestation(_evidence(k, posted, workers[3], LIE, []), sender=stranger)
    assert tx.events.filter(ev.AttestationSlashed)[0].worker == workers[3].address


def test_equivocation__two_tickets_one_seq__bond_taken_attesters_spared(
    k, court, ev, workers, stranger, reverts_with
):
    posted, _ = _final(k, court, [workers[0]])
    t = posted.tickets[0]
    twin = dataclasses.replace(t, input_hash=b"\x07" * 32)
    coordinator = str(k.coordinator.address)
    sig = sign_ticket(k.gateway.private_key, k.chain.chain_id, coordinator, t)
    sig_twin = sign_ticket(k.gateway.private_key, k.chain.chain_id, coordinator, twin)
    with reverts_with(ev.NotEquivocation):
        ev.proveEquivocation(t.as_tuple(), sig, t.as_tuple(), sig, sender=stranger)
    other = dataclasses.replace(twin, seq=t.seq + 1000)
    sig_other = sign_ticket(k.gateway.private_key, k.chain.chain_id, coordinator, other)
    with reverts_with(ev.NotEquivocation):
        ev.proveEquivocation(t.as_tuple(), sig, other.as_tuple(), sig_other, sender=stranger)
    forged = sign_ticket(stranger.private_key, k.chain.chain_id, coordinator, twin)
    with reverts_with(ev.NotEquivocation):
        ev.proveEquivocation(t.as_tuple(), sig, twin.as_tuple(), forged, sender=stranger)
    bond = k.s.gateways.bondOf(k.gateway).amount
    tx = ev.proveEquivocation(t.as_tuple(), sig, twin.as_tuple(), sig_twin, sender=stranger)
    [proven] = tx.events.filter(ev.EquivocationProven)
    assert proven.charged == bond > 0 and k.s.gateways.bondOf(k.gateway).amount == 0
    share = bond * int(court.params.presenterBps) // BPS
    assert ev.pendingWithdrawal(stranger) == share and ev.burned() == bond - share
    with reverts_with(ev.AlreadyProven):
        ev.proveEquivocation(t.as_tuple(), sig, twin.as_tuple(), sig_twin, sender=stranger)
    k.chain.mine(deltatime=int(court.params.challengeWindow))
    with reverts_with(ev.TicketEquivocated):
        ev.slashAttestation(_evidence(k, posted, workers[0], LIE), sender=stranger)


def test_data_challenge__gateway_publishes__bond_to_gateway(k, ev, court, stranger, reverts_with):
    posted, holders = seat_until(k, lambda h, s: True)
    b = posted.batch_id
    seat = court.by[holders[0]]
    leaf = Leaf.of(posted.tickets[0]).encode()
    bond = int(court.params.dataBond)
    with reverts_with(ev.WrongBond):
        ev.openDataChallenge(b, 0, leaf, _proof(posted, 0), k.hl(b), value=bond - 1, sender=seat)
    with reverts_with(ev.CannotChallengeData):
        ev.openDataChallenge(b, 0, leaf, _proof(posted, 0), k.hl(b), value=bond, sender=stranger)
    with reverts_with(ev.NotInBatch):
        ev.openDataChallenge(b, 0, leaf[:-1] + b"\x09", [], k.hl(b), value=bond, sender=seat)
    ev.openDataChallenge(b, 0, leaf, _proof(posted, 0), k.hl(b), value=bond, sender=seat)
    with reverts_with(ev.WrongDataState):
        ev.openDataChallenge(b, 0, leaf, _proof(posted, 0), k.hl(b), value=bond, sender=seat)
    with reverts_with(ev.WrongDataState):
        ev.voidTicket(b, 0, sender=stranger)
    with reverts_with(ev.InputMismatch):
        ev.publishInput(b, 0, b"not the input", sender=k.gateway)
    the_input = posted.tickets[0].seq.to_bytes(8, "big")  # the kit's inputHash = keccak(seq)
    tx = ev.publishInput(b, 0, the_input, sender=k.gateway)
    assert bytes(tx.events.filter(ev.InputPublished)[0].input) == the_input
    assert ev.pendingWithdrawal(k.gateway) == bond
    assert ev.dataChallengeOf(b, 0).state == 2


def test_withholding_gateway__input_never_published__ticket_voided_refunded_bond_charged(
    k, ev, court, stranger, reverts_with, workers
):
    posted, holders = seat_until(k, lambda h, s: True, n=2)
    b = posted.batch_id
    seat = court.by[holders[0]]
    bond = int(court.params.dataBond)
    ev.openDataChallenge(
        b,
        1,
        Leaf.of(posted.tickets[1]).encode(),
        _proof(posted, 1),
        k.hl(b),
        value=bond,
        sender=seat,
    )
    # the seats abstain on the leaf they could not get, and settle the rest
    for h in holders:
        k.commit(b, court.by[h], [GOOD, ABSTAIN])
    for h in holders:
        k.reveal(b, court.by[h], [GOOD, ABSTAIN])
    assert k.coordinator.leafState(b, 0) == L_FINAL
    k.chain.mine(deltatime=int(court.params.dataWindow))
    with reverts_with(ev.WrongDataState):  # too late to publish
        ev.publishInput(b, 1, posted.tickets[1].seq.to_bytes(8, "big"), sender=k.gateway)
    reserve = k.s.gateways.reserveOf(k.project_id).balance
    gateway_bond = k.s.gateways.bondOf(k.gateway).amount
    tx = ev.voidTicket(b, 1, sender=stranger)
    reward = posted.tickets[1].reward
    charge = reward + int(court.params.dataSlash)
    [voided] = tx.events.filter(ev.TicketVoidedForData)
    assert (voided.charged, voided.refunded) == (charge, reward)
    assert k.s.gateways.bondOf(k.gateway).amount == gateway_bond - charge
    assert k.s.gateways.reserveOf(k.project_id).balance == reserve + reward
    assert ev.pendingWithdrawal(seat) == bond and ev.burned() == charge - reward
    with reverts_with(ev.WrongDataState):
        ev.voidTicket(b, 1, sender=stranger)
