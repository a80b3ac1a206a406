"""The challenge window: a staked worker challenges a finalized leaf (or a tier-2 decision) with a bond
that pays the next tier; the loser of a tier loses its bond, the seats that voted for the losing value
are slashed, the winners are paid from them. Also the wave-1 audit's remaining scenarios."""

from __future__ import annotations

import pytest

from peerhost.deploy import ETHER
from peerhost.wire.disputes import TIER_ALL, TIER_PANEL

from .conftest import GOOD, KEY, L_FINAL, LIE, LIE2, seat_until, vector
from .courtkit import C_CLOSED, C_SEEDING, Court, resolve


@pytest.fixture
def arena(kit, workers):
    """Three honest workers (2 ether each); workers[3:5] are the adversary's (2 ether each: p = 0.4)."""
    kit.stake(workers[:3], 2 * ETHER)
    kit.open_project()
    return kit


@pytest.fixture
def court(arena, accounts_by_address):
    return Court(arena, accounts_by_address)


def _adversary(kit, identities, stake=2 * ETHER):
    for a in identities:
        kit.s.stakes.register(KEY, value=stake, sender=a)
    kit.advance_epoch()
    return {str(a.address) for a in identities}


def _finalize_with(kit, court, want, votes_of):
    """Seats batches until ``want`` holds, then every holder reveals ``votes_of(holder)``."""
    posted, holders = seat_until(kit, want)
    b = posted.batch_id
    for h in holders:
        kit.commit(b, court.by[h], [votes_of(h)])
    for h in holders:
        kit.reveal(b, court.by[h], [votes_of(h)])
    vectors = [[v] for v in {votes_of(h) for h in holders}]
    if kit.coordinator.phaseOf(b) == 4:  # Settle
        kit.coordinator.finalize(b, vectors, kit.hl(b), sender=kit.gateway)
    return b, holders, vectors


def _stakes(kit, accounts):
    return {a: int(kit.s.stakes.getStaker(a).stake) for a in accounts}


def test_challenge__final_leaf__opens_panel_bond_held(court, workers, reverts_with, stranger):
    kit = court.kit
    b, holders, vectors = _finalize_with(kit, court, lambda h, s: True, lambda h: GOOD)
    assert kit.coordinator.leafState(b, 0) == L_FINAL
    bond = int(court.params.challengeBond)
    with reverts_with(court.c.NotStaked):
        court.c.challenge(b, 0, vectors, court.kit.hl(b), value=bond, sender=stranger)
    with reverts_with(court.c.WrongBond):
        court.c.challenge(b, 0, vectors, court.kit.hl(b), value=bond - 1, sender=workers[0])
    with reverts_with(court.c.BadVectors):
        court.c.challenge(b, 0, [vector(1, LIE)], court.kit.hl(b), value=bond, sender=workers[0])
    before = kit.chain.provider.get_balance(court.c.address)
    tx = court.c.challenge(b, 0, vectors, court.kit.hl(b), value=bond, sender=workers[0])
    [esc] = tx.events.filter(court.c.Escalated)
    assert (esc.tier, esc.challenger, bytes(esc.against)) == (TIER_PANEL, workers[0].address, GOOD)
    c = court.case(b, 0)
    assert (c.state, c.wasFinal, bytes(c.value), c.escrow) == (C_SEEDING, True, GOOD, 0)
    # the bond, and the leaf's committee pay taken from the coordinator into the case
    [held] = tx.events.filter(court.c.SeatPayWithheld)
    r = int(kit.coordinator.getBatch(b).reward)
    seat_pay = (r - r * kit.params.finalizer_bps // 10_000) // kit.params.seats
    assert (int(held.seats), int(held.amount)) == (kit.params.seats, kit.params.seats * seat_pay)
    assert kit.chain.provider.get_balance(court.c.address) == before + bond + int(held.amount)
    # what stays is the settling holder's finalizer share (and the K-way split's dust): never withheld
    fs = r * kit.params.finalizer_bps // 10_000
    assert kit.coordinator.seatPayHeld(b, kit.hl(b)) == fs + (r - fs) % kit.params.seats
    with reverts_with(court.c.WrongCasePhase):  # one open challenge per leaf
        court.c.challenge(b, 0, vectors, court.kit.hl(b), value=2 * bond, sender=workers[1])


def test_challenge__after_window_or_pending_leaf__reverts(court, workers, reverts_with):
    kit = court.kit
    b, _, vectors = _finalize_with(kit, court, lambda h, s: True, lambda h: GOOD)
    bond = int(court.params.challengeBond)
    kit.chain.mine(deltatime=int(court.params.challengeWindow))
    with reverts_with(court.c.ChallengeWindowOver):
        court.c.challenge(b, 0, vectors, court.kit.hl(b), value=bond, sender=workers[0])
    pending = kit.post(1)
    with reverts_with(court.c.WrongLeafState):
        court.c.challenge(
            pending.batch_id, 0, [], court.kit.hl(pending.batch_id), value=bond, sender=workers[0]
        )


def test_spam_challenge__truth_stands__bond_forfeited_to_the_winners_nobody_slashed(court, workers):
    kit = court.kit
    b, holders, vectors = _finalize_with(kit, court, lambda h, s: True, lambda h: GOOD)
    spammer = workers[0]
    stakes = _stakes(kit, [str(w.address) for w in workers[:3]])
    balance = spammer.balance
    court.challenge(b, 0, spammer, vectors)
    court.vote(b, 0, lambda w: GOOD)
    tx = court.close_after_window(b, 0)
    [bond] = tx.events.filter(court.c.BondSettled)
    assert bond.forfeited and bond.challenger == spammer.address
    assert list(tx.events.filter(court.c.VoterSlashed)) == []
    assert _stakes(kit, list(stakes)) == stakes
    credits = list(tx.events.filter(court.c.Credited))
    paid = sum(int(e.amount) for e in credits if int(e.reason) == 0)
    assert paid == int(court.params.challengeBond)  # the bond paid the panel and the committee
    # the upheld leaf's committee pay, withheld at the challenge, reaches its tier-1 seats
    r = int(kit.coordinator.getBatch(b).reward)
    seat_pay = (r - r * kit.params.finalizer_bps // 10_000) // kit.params.seats
    assert {str(e.account): int(e.amount) for e in credits if int(e.reason) == 3} == {
        str(h): seat_pay * int(n) for h, n in zip(*kit.holders_of(b), strict=True)
    }
    gained = court.c.pendingWithdrawal(spammer)
    assert spammer.balance + gained < balance  # spam costs its sender


def test_captured_committee__forges_and_harvests__honest_challenger_wins_nobody_honest_slashed(
    court, workers
):
    """The adversary (p = 0.4, so honest workers hold a stake majority) is given Q of the K seats and
    finalizes a lie; one honest challenger is online. The lie is overturned, every lying seat slashed,
    no honest seat or attester slashed, and the adversary ends with less than it started with."""
    kit = court.kit
    bad = _adversary(kit, workers[3:5])

    def captured(holders, seats):
        return sum(s for h, s in zip(holders, seats, strict=True) if h in bad) >= kit.params.quorum

    honest = [str(w.address) for w in workers[:3]]
    before = _stakes(kit, honest + sorted(bad))  # before the committee settles
    b, holders, vectors = _finalize_with(kit, court, captured, lambda h: LIE if h in bad else GOOD)
    assert kit.coordinator.leafState(b, 0) == L_FINAL  # the forgery finalized at tier 1
    assert _stakes(kit, honest) == {h: before[h] for h in honest}  # nobody honest slashed yet
    challenger = next(w for w in workers[:3])
    vectors = [[LIE], [GOOD]] if any(h not in bad for h in holders) else [[LIE]]
    resolve(court, b, 0, truth=GOOD, lie=LIE, adversary=bad, challenger=challenger, vectors=vectors)
    c = court.case(b, 0)
    assert (c.state, bytes(c.value)) == (C_CLOSED, GOOD)
    after = _stakes(kit, honest + sorted(bad))
    assert all(after[h] == before[h] for h in honest)  # no honest seat slashed
    lost = sum(before[a] - after[a] for a in bad)
    earned = sum(int(court.c.pendingWithdrawal(a)) for a in bad)
    assert lost >= kit.params.seat_slash * kit.params.quorum and earned < lost
    assert (
        court.c.pendingWithdrawal(challenger) >= court.params.challengeBond
    )  # bond back, and paid


def test_two_lie_grief__two_different_lies__escalated_truth_stands_both_liars_slashed(
    court, workers
):
    """Wave 1: two different lies forced a refund with nobody slashed. Now the leaf escalates."""
    kit = court.kit
    liars = _adversary(kit, workers[3:5])
    order = sorted(liars)
    lie_of = {order[0]: LIE, order[1]: LIE2}

    def both_liars_seated(holders, seats):
        return liars <= set(holders) and len(holders) == 3

    b, holders, vectors = _finalize_with(
        kit, court, both_liars_seated, lambda h: lie_of.get(h, GOOD)
    )
    assert kit.coordinator.getBatch(b).disputedMask == 1
    before = _stakes(kit, holders)
    court.c.escalate(b, 0, vectors, court.kit.hl(b), sender=kit.gateway)
    resolve(court, b, 0, truth=GOOD, lie=LIE, adversary=liars, challenger=workers[0])
    assert bytes(court.case(b, 0).value) == GOOD
    after = _stakes(kit, holders)
    for h in holders:
        if h in liars:
            assert after[h] <= before[h] - kit.params.seat_slash
        else:
            assert after[h] == before[h] and court.c.pendingWithdrawal(h) > 0
    assert sum(int(court.c.pendingWithdrawal(a)) for a in liars) < sum(
        before[a] - after[a] for a in liars
    )


def test_withholding__seat_withholds_its_reveal__slashed_truth_still_stands(court, workers):
    """A seat that commits and withholds its reveal (to stall a leaf below Q) is slashed as a no-show
    by the committee, and the leaf escalates instead of failing."""
    kit = court.kit
    bad = _adversary(kit, workers[3:4])
    posted, holders = seat_until(
        kit, lambda h, s: len(h) == 3 and sum(x for a, x in zip(h, s, strict=True) if a in bad) == 1
    )
    b = posted.batch_id
    for h in holders:
        kit.commit(b, court.by[h], vector(1, LIE if h in bad else GOOD))
    honest = [h for h in holders if h not in bad]
    kit.reveal(b, court.by[honest[0]], vector(1))  # one honest reveal; the withholder never reveals
    kit.chain.mine(deltatime=kit.params.reveal_window + kit.params.commit_window)
    before = _stakes(kit, holders)
    tx = kit.coordinator.finalize(b, [vector(1)], kit.hl(b), sender=kit.gateway)
    slashed = {str(e.worker) for e in tx.events.filter(kit.coordinator.SeatSlashed)}
    assert bad <= slashed
    assert kit.coordinator.getBatch(b).disputedMask == 1  # below Q: escalated, not refunded
    court.c.escalate(b, 0, [vector(1)], court.kit.hl(b), sender=kit.gateway)
    resolve(court, b, 0, truth=GOOD, lie=LIE, adversary=bad, challenger=workers[0])
    assert bytes(court.case(b, 0).value) == GOOD
    assert _stakes(kit, [honest[0]]) == {honest[0]: before[honest[0]]}
    assert court.c.pendingWithdrawal(honest[0]) > 0
    [withholder] = bad  # withholding does not pay: what it was credited is less than it lost
    lost = before[withholder] - _stakes(kit, [withholder])[withholder]  # no-show and panel slashes
    credited = int(court.c.pendingWithdrawal(withholder)) + int(
        kit.coordinator.pendingWithdrawal(withholder)
    )
    assert credited < lost


def test_decided_panel__challenged_to_whole_set__bond_doubled_and_no_tier_after(
    court, workers, reverts_with
):
    kit = court.kit
    b, holders, vectors = _finalize_with(kit, court, lambda h, s: True, lambda h: GOOD)
    court.challenge(b, 0, workers[0], vectors)
    court.vote(b, 0, lambda w: GOOD)
    bond = int(court.params.challengeBond)
    with reverts_with(court.c.WrongBond):
        court.c.challenge(b, 0, [], court.kit.hl(b), value=bond, sender=workers[1])
    court.c.challenge(b, 0, [], court.kit.hl(b), value=2 * bond, sender=workers[1])
    assert court.case(b, 0).tier == TIER_ALL
    court.vote(b, 0, lambda w: GOOD)
    assert court.case(b, 0).state == C_CLOSED
    with reverts_with(court.c.NoFurtherTier):
        court.c.challenge(b, 0, [], court.kit.hl(b), value=3 * bond, sender=workers[2])
