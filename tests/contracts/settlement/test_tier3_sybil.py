"""Tier 3 is Sybil-neutral: a stake split over several identities is paid no more, and slashed no
less, than the same stake held by one identity, in wei, on the real DisputeCourt.

The rule (``DisputeCourt._slashTier`` / ``_payTier``): winners share the pot by weight in wei of stake,
W = minStake per winning tier-1/2 seat + K * minStake per winning challenger + the epoch stake of each
winning tier-3 voter; a seat is paid ``pot * minStake // W``, a tier-3 voter ``pot * stake // W``
(rounded down, the dust burned); a tier-3 loser is slashed ``ceil(seatSlash * stake / minStake)``.
Rounding therefore goes against the split, by at most a wei per extra identity."""

from __future__ import annotations

from typing import Any

import pytest

from peerhost.deploy import ETHER
from peerhost.wire.batch import ABSTAIN
from peerhost.wire.disputes import TIER_ALL, TIER_COMMITTEE

from .conftest import GOOD, KEY, L_DISPUTED, LIE, LIE2, distinct, seat_until
from .courtkit import C_CLOSED, Court

BPS = 10_000
#: Stakes that do not divide evenly, so the rounding of every share shows.
WINNER_WHOLE = 3 * ETHER + 7
WINNER_PARTS = [ETHER + 1, ETHER + 2, ETHER + 4]
LIAR_WHOLE = 3 * ETHER + 5
LIAR_PARTS = [ETHER + 1, ETHER + 1, ETHER + 3]


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@pytest.fixture
def k(kit, workers):
    kit.stake(workers[:3])
    kit.open_project()
    return kit


def identities(k: Any, accounts: Any, chain: Any, stakes: list[int]) -> list[Any]:
    """Fresh accounts registered with ``stakes`` (they join the active set at the next epoch)."""
    out = []
    for stake in stakes:
        a = accounts.generate_test_account()
        chain.set_balance(a.address, stake + 10 * ETHER)
        k.s.stakes.register(KEY, value=stake, sender=a)
        out.append(a)
    return out


def test_tier3__stake_split_over_identities__paid_no_more_and_slashed_no_less_than_whole(
    k, accounts_by_address, accounts, chain
):
    # tier 1: three honest workers, three different values -> Disputed; escalated to tier 2
    posted, holders = seat_until(k, distinct(3))
    b = posted.batch_id
    tier1 = dict(zip(holders, [GOOD, LIE, LIE2], strict=True))
    by = dict(accounts_by_address)
    for h, v in tier1.items():
        k.commit(b, by[h], [v])
    for h, v in tier1.items():
        k.reveal(b, by[h], [v])
    if k.coordinator.phaseOf(b) == 4:  # Settle
        k.coordinator.finalize(b, [[v] for v in tier1.values()], k.hl(b), sender=by[holders[0]])
    assert k.coordinator.leafState(b, 0) == L_DISPUTED
    k.s.court.escalate(b, 0, [[v] for v in tier1.values()], k.hl(b), sender=k.gateway)

    # the adversary's identities and their unsplit twins join the active set for tiers 2 and 3
    winner = identities(k, accounts, chain, [WINNER_WHOLE])[0]
    winners = identities(k, accounts, chain, WINNER_PARTS)
    liar = identities(k, accounts, chain, [LIAR_WHOLE])[0]
    liars = identities(k, accounts, chain, LIAR_PARTS)
    k.advance_epoch()
    for a in (winner, *winners, liar, *liars):
        by[str(a.address)] = a
    court = Court(k, by)
    lying = {str(a.address) for a in (liar, *liars)}

    court.vote(b, 0, lambda w: ABSTAIN)  # the panel abstains: no K+1 seats, on to tier 3
    stake_before = {w: int(k.s.stakes.getStaker(w).stake) for w in lying}
    burned_before = int(court.c.burned())
    tx = court.vote(b, 0, lambda w: LIE if w in lying else GOOD)
    case = court.case(b, 0)
    assert (case.state, case.tier, bytes(case.value)) == (C_CLOSED, TIER_ALL, GOOD)

    # what each voter was slashed, and what each winner was credited, by this close
    slashed: dict[tuple[str, int], int] = {}
    for e in tx.events.filter(court.c.VoterSlashed):
        slashed[(str(e.worker), int(e.tier))] = int(e.amount)
    credited: dict[str, int] = {}
    for e in tx.events.filter(court.c.Credited):
        if int(e.reason) == 0:
            credited[str(e.account)] = credited.get(str(e.account), 0) + int(e.amount)

    # slashes: ceil(seatSlash * stake / minStake) per tier-3 liar; the split loses no less
    p = k.params
    for a, stake in [(liar, LIAR_WHOLE), *zip(liars, LIAR_PARTS, strict=True)]:
        w = str(a.address)
        assert slashed[(w, TIER_ALL)] == ceil_div(p.seat_slash * stake, p.min_stake)
        assert int(k.s.stakes.getStaker(w).stake) == stake_before[w] - slashed[(w, TIER_ALL)]
    whole_loss = slashed[(str(liar.address), TIER_ALL)]
    split_loss = sum(slashed[(str(a.address), TIER_ALL)] for a in liars)
    assert whole_loss <= split_loss <= whole_loss + len(liars) - 1
    assert whole_loss > p.seat_slash  # per voter it was one seatSlash, whatever the stake

    # pay: the pot shared by weight in wei of stake (tier-1 winner seats at minStake each)
    total_slashed = sum(slashed.values())
    pot = total_slashed * p.honest_slash_bps // BPS + int(case.escrow)
    seats = dict(zip(*(list(x) for x in k.holders_of(b)), strict=True))
    tier1_good = next(h for h, v in tier1.items() if v == GOOD)
    tier3_good = [v for v in court.c.votersOf(b, 0, TIER_ALL) if bytes(v.vote) == GOOD]
    weight = int(seats[tier1_good]) * p.min_stake + sum(int(v.weight) for v in tier3_good)
    for v in tier3_good:
        w = str(v.worker)
        tier1_pay = int(seats[tier1_good]) * (pot * p.min_stake // weight) if w == tier1_good else 0
        assert credited[w] == tier1_pay + pot * int(v.weight) // weight
    whole_pay = credited[str(winner.address)]
    split_pay = sum(credited[str(a.address)] for a in winners)
    assert split_pay <= whole_pay <= split_pay + len(winners) - 1

    # nothing paid beyond the pot; the payer's share and the dust are accounted to the wei
    distributed = sum(credited.values())
    assert distributed <= pot
    to_payer = total_slashed * p.project_slash_bps // BPS
    burned = int(court.c.burned()) - burned_before
    assert burned == total_slashed + int(case.escrow) - distributed - to_payer
    assert (str(liar.address), TIER_COMMITTEE) not in slashed  # joined after tier 1
