"""The wave-1 audit's attacks, replayed against v2 settlement: each no longer pays.

Wave 1: commit slots went to the first K committers and quorum counted addresses, so two Sybil
identities at minimum stake committed a forged hash first, finalized it, took the reward and got
the honest worker slashed; three identities took every slot; one identity at minimum stake held
100 open commitments; slashed stake went to the owner's treasury.

v2: seats are drawn by stake from the epoch's frozen array after the post (nobody can choose or
race for them), a worker votes once per seat it holds, a seat that reveals against the final result
or does not show is slashed, and slashed stake goes to the honest seats, the payer and a burn.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from peerhost.deploy import ETHER

from .conftest import KEY, L_FINAL, LIE, PH_CLOSED, PH_FINALIZED, owed, seat_until, vector

BPS = 10_000


def _binom(k: int, i: int, p: Fraction) -> Fraction:
    return math.comb(k, i) * p**i * (1 - p) ** (k - i)


def forging_edge(k: int, q: int, p: Fraction, seat_slash: int, honest_slash_bps: int) -> Fraction:
    """Expected payoff per batch of always forging minus always answering honestly, for an adversary
    holding stake share ``p`` (however split): forging never earns more committee reward than
    honesty (the seats share the same reward either way, and attesters' shares go back to the payer
    when they disagree); when it holds fewer than Q seats every one of them is slashed; when it holds
    Q or more it harvests ``honest_slash_bps`` of the honest minority's slash (the accountability tier
    of the next issue takes that away too)."""
    edge = Fraction(0)
    for i in range(1, k + 1):
        chance = _binom(k, i, p)
        if i < q:
            edge -= chance * i * seat_slash
        else:
            edge += chance * (k - i) * seat_slash * Fraction(honest_slash_bps, BPS)
    return edge


@pytest.fixture
def arena(kit, workers):
    """Three honest workers with 2 ether each; workers[3:5] are the adversary's identities."""
    kit.stake(workers[:3], 2 * ETHER)
    kit.open_project()
    return kit


def _adversary(kit, identities, stake=ETHER):
    for a in identities:
        kit.s.stakes.register(KEY, value=stake, sender=a)
    kit.advance_epoch()


def test_sybil_pair__identities_without_seats__cannot_commit(arena, workers, reverts_with):
    kit = arena
    sybils = workers[3:5]
    _adversary(kit, sybils)
    bad = {str(a.address) for a in sybils}
    posted, holders = seat_until(kit, lambda h, s: not bad <= set(h))
    unseated = next(a for a in sybils if str(a.address) not in holders)
    with reverts_with(kit.coordinator.NotSeated):
        kit.commit(posted.batch_id, unseated, vector(1, LIE))  # racing to commit first buys nothing


def test_sybil_pair__forging_with_one_seat__slashed_and_truth_stands(
    arena, workers, accounts_by_address, accounts
):
    kit = arena
    sybils = workers[3:5]
    _adversary(kit, sybils)
    bad = {str(a.address) for a in sybils}

    def one_bad_seat(holders, seats):
        return sum(s for h, s in zip(holders, seats, strict=True) if h in bad) == 1

    posted, holders = seat_until(kit, one_bad_seat)
    b = posted.batch_id
    by = accounts_by_address
    liars = [h for h in holders if h in bad]
    honest = [h for h in holders if h not in bad]
    stake_before = {h: kit.s.stakes.getStaker(h).stake for h in holders}
    for h in liars:  # the forger commits first, without running anything
        kit.commit(b, by[h], vector(1, LIE))
    for h in honest:
        kit.commit(b, by[h], vector(1))
    for h in holders:
        kit.reveal(b, by[h], vector(1, LIE) if h in bad else vector(1))
    kit.coordinator.finalize(b, [vector(1, LIE), vector(1)], kit.hl(b), sender=by[honest[0]])
    assert kit.coordinator.leafState(b, 0) == L_FINAL
    kit.chain.mine(deltatime=int(kit.s.court.courtParams().challengeWindow))
    kit.s.court.punish(b, 0, [vector(1, LIE), vector(1)], kit.hl(b), sender=by[honest[0]])
    paid = kit.claim_seats(b, by)  # no attesters: each seat claims its pay after the window
    [liar] = liars
    assert kit.s.stakes.getStaker(liar).stake == stake_before[liar] - kit.params.seat_slash
    assert kit.coordinator.pendingWithdrawal(liar) == 0 and liar not in paid
    for h in honest:
        assert kit.s.stakes.getStaker(h).stake == stake_before[h]
        assert paid[h] > 0
    assert kit.chain.provider.get_balance(kit.coordinator.address) == owed(
        kit, [accounts[i] for i in range(10)]
    )


@pytest.mark.parametrize("identities", [2, 3], ids=["sybil-pair", "three-sybils"])
def test_sybils__forging_every_batch__pays_less_than_honesty(arena, identities):
    params = arena.params
    honest_stake, identity_stake = 6, 1  # ether: three honest workers with 2, Sybils at the minimum
    p = Fraction(identities * identity_stake, identities * identity_stake + honest_stake)
    edge = forging_edge(params.seats, params.quorum, p, params.seat_slash, params.honest_slash_bps)
    assert edge < 0, f"forging pays {float(edge) / ETHER:.4f} ether per batch at p={p}"


def test_three_sybils__commit_first__only_drawn_seats_count(
    arena, workers, accounts, chain, reverts_with
):
    kit = arena
    third = accounts.generate_test_account()
    chain.set_balance(third.address, 10 * ETHER)
    sybils = [workers[3], workers[4], third]
    _adversary(kit, sybils)
    bad = {str(a.address) for a in sybils}
    # a draw that leaves a sybil out and seats an honest worker (so the batch stays in Commit
    # until that worker commits: the sybils alone cannot end the round)
    posted, holders = seat_until(kit, lambda h, s: not bad <= set(h) and not set(h) <= bad)
    b = posted.batch_id
    taken = 0
    for a in sybils:  # all three race to commit before any honest worker
        if str(a.address) in holders:
            kit.commit(b, a, vector(1, LIE))
            taken += 1
        else:
            with reverts_with(kit.coordinator.NotSeated):
                kit.commit(b, a, vector(1, LIE))
    assert taken < len(sybils)  # arrival order took no seat; the draw did


def test_one_stake_many_commitments__only_drawn_seats__exposure_capped_and_jailed(
    arena, workers, accounts_by_address, reverts_with
):
    kit = arena
    grinder = workers[3]
    _adversary(kit, [grinder])
    by = accounts_by_address
    batches = [kit.post(1) for _ in range(8)]
    seated = []
    for posted in batches:
        holders = kit.seat(posted.batch_id)
        if str(grinder.address) in holders:
            kit.commit(posted.batch_id, grinder, vector(1, LIE))
            seated.append((posted, holders))
        else:
            with reverts_with(kit.coordinator.NotSeated):
                kit.commit(posted.batch_id, grinder, vector(1, LIE))
    assert len(seated) < len(batches)  # one stake cannot hold a commitment in every batch
    slashed = 0
    for posted, holders in seated:
        b = posted.batch_id
        for h in holders:
            if h != str(grinder.address):
                kit.commit(b, by[h], vector(1))
        for h in holders:
            kit.reveal(b, by[h], vector(1, LIE) if h == str(grinder.address) else vector(1))
        if kit.coordinator.phaseOf(b) not in (PH_FINALIZED, PH_CLOSED):
            tx = kit.coordinator.finalize(
                b, [vector(1, LIE), vector(1)], kit.hl(b), sender=kit.gateway
            )
            events = tx.events.filter(kit.coordinator.SeatSlashed)
            slashed += sum(int(e.amount) for e in events if e.worker == grinder.address)
    stake = kit.s.stakes.getStaker(grinder)
    assert stake.stake == ETHER - slashed >= 0  # never more than it had
    if slashed:
        kit.advance_epoch()
        epoch = kit.s.stakes.currentEpoch()
        members = [
            str(kit.s.stakes.entryAt(epoch, i)[0])
            for i in range(kit.s.stakes.epochInfo(epoch).members)
        ]
        assert str(grinder.address) not in members  # jailed for the next epoch


def test_slash_to_owner__slashed_stake_never_reaches_the_deployer(
    arena, workers, owner, accounts_by_address, accounts
):
    kit = arena
    by = accounts_by_address
    owner_pending = kit.coordinator.pendingWithdrawal(owner)
    owner_balance = owner.balance
    posted, holders = seat_until(kit, lambda h, s: len(h) >= 2)
    b = posted.batch_id
    no_show = holders[-1]
    for h in holders[:-1]:
        kit.commit(b, by[h], vector(1))
    kit.chain.mine(deltatime=kit.params.commit_window)
    for h in holders[:-1]:
        kit.reveal(b, by[h], vector(1), full=h == holders[0])
    kit.chain.mine(deltatime=kit.params.reveal_window)
    tx = kit.coordinator.finalize(b, [vector(1)], kit.hl(b), sender=by[holders[0]])
    [split] = tx.events.filter(kit.coordinator.SlashSplit)
    [slash] = tx.events.filter(kit.coordinator.SeatSlashed)
    assert (
        slash.worker == no_show
        and split.toHonest + split.toPayer + split.burned == slash.amount > 0
    )
    assert (
        kit.coordinator.pendingWithdrawal(owner) == owner_pending and owner.balance == owner_balance
    )
    assert kit.coordinator.burned() == split.burned
    names = {a.name for a in kit.coordinator.contract_type.abi if a.type == "function"}
    names |= {a.name for a in kit.s.stakes.contract_type.abi if a.type == "function"}
    assert not {n for n in names if "treasury" in n.lower() or "burn" in n.lower()} - {"burned"}
    assert kit.chain.provider.get_balance(kit.coordinator.address) == owed(
        kit, [accounts[i] for i in range(10)]
    )
