"""Committee pay at tier 1: an agreeing seat of a Final leaf earns ``committeeShare / K`` however many
seats agree (the other seats' part goes back to the payer), claimed by each holder only after its batch's
challenge window (deferred: nothing is paid at settlement, so nothing is clawed back), and ``punish`` pays a majority nothing
from the slash of the minority it out-voted (the payer gets ``projectSlashBps``, the rest is burned).

Before these rules a captured committee kept the whole committee share among its own seats and was paid
``honestSlashBps`` of the honest minority's slash: with nobody watching, capture paid
(docs/economics.md, open questions)."""

from __future__ import annotations

from typing import Any

import pytest

from peerhost.deploy import ETHER
from peerhost.wire.batch import ABSTAIN

from .conftest import GOOD, KEY, L_FINAL, LIE, seat_until
from .courtkit import C_CLOSED, Court

BPS = 10_000
SEAT, FINALIZER = 0, 1  # ISettlementCoordinator Credited reasons
P_CLOSED = 6  # ISettlementCoordinator.Phase


@pytest.fixture
def arena(kit: Any, workers: Any) -> Any:
    """Three honest workers (2 ether each) and, in the next epoch, two of the adversary's (2 ether each)."""
    kit.stake(workers[:3], 2 * ETHER)
    kit.open_project()
    for a in workers[3:5]:
        kit.s.stakes.register(KEY, value=2 * ETHER, sender=a)
    kit.advance_epoch()
    return kit


@pytest.fixture
def court(arena: Any, accounts_by_address: Any) -> Court:
    return Court(arena, accounts_by_address)


@pytest.fixture
def bad(workers: Any) -> set[str]:
    return {str(a.address) for a in workers[3:5]}


def _settle(
    kit: Any, court: Court, want: Any, vote_of: Any
) -> tuple[int, list[str], list[int], Any, int]:
    """Seats one-leaf batches (no attesters: the committee share is the reward less the finalizer's) until
    ``want`` holds; every holder commits and reveals ``vote_of(holder)``; returns the batch, its holders and
    seats, the settling transaction and the project reserve just before it."""
    posted, holders = seat_until(kit, want)
    b = posted.batch_id
    seats = [int(x) for x in kit.holders_of(b)[1]]
    for h in holders:
        kit.commit(b, court.by[h], [vote_of(h)])
    tx, reserve = None, _reserve(kit)
    for h in holders:
        tx = kit.reveal(b, court.by[h], [vote_of(h)])
    if kit.coordinator.phaseOf(b) == 4:  # Settle: the vectors differ
        vectors = [[v] for v in dict.fromkeys(vote_of(h) for h in holders)]
        tx = kit.coordinator.finalize(b, vectors, kit.hl(b), sender=kit.gateway)
    return b, holders, seats, tx, reserve


def _credits(kit: Any, tx: Any, reason: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in tx.events.filter(kit.coordinator.Credited):
        if int(e.reason) == reason:
            out[str(e.account)] = out.get(str(e.account), 0) + int(e.amount)
    return out


def _shares(kit: Any, b: int) -> tuple[int, int, int]:
    """(reward, finalizer share, committee share) of a one-leaf batch without attesters."""
    r = int(kit.coordinator.getBatch(b).reward)
    fs = r * kit.params.finalizer_bps // BPS
    return r, fs, r - fs


def _paid_after_window(court: Court, b: int, tx: Any, reverts_with: Any) -> dict[str, int]:
    """The seats' committee pay of batch ``b`` settled by ``tx``: nothing at settlement (the batch,
    without attesters, closes as it settles) nor before the challenge window passed (a holder's
    claim reverts ChallengeWindowOpen and sends nothing); claimed by each holder after it."""
    kit = court.kit
    assert _credits(kit, tx, SEAT) == {}
    assert kit.coordinator.phaseOf(b) == P_CLOSED
    holder = str(kit.holders_of(b)[0][0])
    with reverts_with(kit.s.court.ChallengeWindowOpen):
        kit.coordinator.claimSeatPay([b], [kit.hl(_b) for _b in [b]], sender=court.by[holder])
    return kit.claim_seats(b, court.by)


def _reserve(kit: Any) -> int:
    return int(kit.s.gateways.reserveOf(kit.project_id).balance)


def test_finalize__every_seat_agrees__each_seat_paid_a_kth_of_the_committee_share_after_the_window(
    court: Court, bad: set[str], reverts_with: Any
) -> None:
    kit = court.kit
    b, holders, seats, tx, _ = _settle(kit, court, lambda h, s: True, lambda h: GOOD)
    assert kit.coordinator.leafState(b, 0) == L_FINAL
    r, fs, cs = _shares(kit, b)
    k = kit.params.seats
    paid = _paid_after_window(court, b, tx, reverts_with)
    # the last reveal settled the batch: that holder's claim carries the finalizer's share (and the dust
    # of the K-way split); nothing is credited
    settler, dust = holders[-1], cs - cs // k * k
    assert paid == {
        h: cs // k * n + (fs + dust if h == settler else 0)
        for h, n in zip(holders, seats, strict=True)
    }
    assert _credits(kit, tx, FINALIZER) == {}
    assert sum(paid.values()) == r  # nothing back


def test_claim_seat_pay__settling_holder_claims_twice__finalizer_share_paid_once(
    court: Court, reverts_with: Any
) -> None:
    """The holder whose reveal settled the batch is owed the finalizer's share with its seat pay: listing
    the batch twice reverts NothingToClaim and sends nothing, one claim pays it once, and a second claim,
    or the other holders' claims, get no part of it."""
    kit = court.kit
    b, holders, seats, _, _ = _settle(kit, court, lambda h, s: len(h) >= 2, lambda h: GOOD)
    r, fs, cs = _shares(kit, b)
    k = kit.params.seats
    settler = court.by[holders[-1]]
    kit.wait_challenge_window(b)
    owed = int(kit.coordinator.seatPayOf(b, settler, kit.hl(b)))
    assert owed == cs // k * seats[-1] + fs + cs - cs // k * k
    with reverts_with(kit.coordinator.NothingToClaim):
        kit.coordinator.claimSeatPay([b, b], [kit.hl(_b) for _b in [b, b]], sender=settler)
    assert (
        int(kit.coordinator.seatPayOf(b, settler, kit.hl(b))) == owed
    )  # the reverted claim took nothing
    before = int(kit.chain.provider.get_balance(settler.address))
    tx = kit.coordinator.claimSeatPay([b], [kit.hl(_b) for _b in [b]], sender=settler)
    fee = int(tx.gas_used) * int(tx.gas_price)
    assert int(kit.chain.provider.get_balance(settler.address)) - before + fee == owed
    with reverts_with(kit.coordinator.NothingToClaim):
        kit.coordinator.claimSeatPay([b], [kit.hl(_b) for _b in [b]], sender=settler)
    others = kit.claim_seats(b, court.by)
    assert others == {h: cs // k * n for h, n in zip(holders[:-1], seats[:-1], strict=True)}
    assert owed + sum(others.values()) == r  # to the wei: nothing paid twice, nothing left
    assert kit.coordinator.seatPayHeld(b, kit.hl(b)) == 0


def test_finalize__captured_two_of_three_outvote_honest_seat__liars_paid_a_kth_each_the_rest_refunded(
    court: Court, bad: set[str], reverts_with: Any
) -> None:
    """The adversary holds Q = 2 of the K = 3 seats and finalizes a lie over the honest seat: each of its
    seats earns exactly what an agreeing seat of a unanimous honest committee earns, not a half; the
    honest seat's third goes back to the payer."""
    kit = court.kit

    def captured(holders: list[str], seats: list[int]) -> bool:
        return sum(s for h, s in zip(holders, seats, strict=True) if h in bad) == kit.params.quorum

    b, holders, seats, tx, reserve = _settle(
        kit, court, captured, lambda h: LIE if h in bad else GOOD
    )
    assert kit.coordinator.leafState(b, 0) == L_FINAL
    r, fs, cs = _shares(kit, b)
    k = kit.params.seats
    honest_seats = k - kit.params.quorum
    finalizer = sum(_credits(kit, tx, FINALIZER).values())
    assert finalizer == fs + cs - cs // k * k
    # the reserve paid r at posting and gets the honest seat's part back at settlement
    assert _reserve(kit) == reserve + cs // k * honest_seats
    paid = _paid_after_window(court, b, tx, reverts_with)  # unchallenged: the lie's seats are paid
    assert paid == {h: cs // k * n for h, n in zip(holders, seats, strict=True) if h in bad}
    assert sum(paid.values()) + finalizer + cs // k * honest_seats == r


def test_punish__captured_majority_outvoted_honest_minority__majority_earns_nothing_from_the_slash(
    court: Court, bad: set[str]
) -> None:
    """Nobody challenges the forged leaf; after the window anyone punishes the honest minority. Its slash
    pays the majority nothing: the payer gets projectSlashBps, the rest is burned, to the wei."""
    kit = court.kit

    def captured(holders: list[str], seats: list[int]) -> bool:
        return sum(s for h, s in zip(holders, seats, strict=True) if h in bad) == kit.params.quorum

    b, holders, _, _, _ = _settle(kit, court, captured, lambda h: LIE if h in bad else GOOD)
    kit.wait_challenge_window(b)
    reserve, burned = _reserve(kit), int(court.c.burned())
    pending = {h: int(court.c.pendingWithdrawal(h)) for h in holders}
    balance = kit.chain.provider.get_balance(court.c.address)
    tx = court.c.punish(b, 0, [[LIE], [GOOD]], court.kit.hl(b), sender=kit.gateway)
    assert court.case(b, 0).state == C_CLOSED
    [slash] = list(tx.events.filter(court.c.VoterSlashed))
    assert str(slash.worker) not in bad and int(slash.amount) == kit.params.seat_slash
    assert list(tx.events.filter(court.c.Credited)) == []  # nobody paid from it
    assert {h: int(court.c.pendingWithdrawal(h)) for h in holders} == pending
    to_payer = int(slash.amount) * kit.params.project_slash_bps // BPS
    assert _reserve(kit) == reserve + to_payer
    assert int(court.c.burned()) == burned + int(slash.amount) - to_payer
    assert kit.chain.provider.get_balance(court.c.address) == balance + int(slash.amount) - to_payer


def test_punish__honest_majority_and_a_lying_seat__liar_slashed_majority_still_paid_its_kth(
    court: Court, bad: set[str], workers: Any, reverts_with: Any
) -> None:
    """The same rule on an honest majority: one adversary seat lies, the truth finalizes, the liar is
    slashed at punish and earns nothing; the honest seats keep their K-th each and nothing more."""
    kit = court.kit

    def one_liar(holders: list[str], seats: list[int]) -> bool:
        return sum(s for h, s in zip(holders, seats, strict=True) if h in bad) == 1

    b, holders, seats, tx, _ = _settle(kit, court, one_liar, lambda h: LIE if h in bad else GOOD)
    _, _, cs = _shares(kit, b)
    k = kit.params.seats
    assert _paid_after_window(court, b, tx, reverts_with) == {
        h: cs // k * n for h, n in zip(holders, seats, strict=True) if h not in bad
    }
    [liar] = [h for h in holders if h in bad]
    stake = int(kit.s.stakes.getStaker(liar).stake)
    tx = court.c.punish(b, 0, [[GOOD], [LIE]], court.kit.hl(b), sender=kit.gateway)
    assert [str(e.worker) for e in tx.events.filter(court.c.VoterSlashed)] == [liar]
    assert int(kit.s.stakes.getStaker(liar).stake) == stake - kit.params.seat_slash
    assert list(tx.events.filter(court.c.Credited)) == []


def test_finalize__one_seat_abstains__agreeing_seats_paid_a_kth_abstainers_part_refunded(
    court: Court, workers: Any, reverts_with: Any
) -> None:
    """An abstention is never slashed and never paid: the agreeing seats earn their K-th, no more."""
    kit = court.kit
    honest = {str(w.address) for w in workers[:3]}
    chosen: list[str] = []

    def one_single_honest_seat(holders: list[str], seats: list[int]) -> bool:
        singles = [h for h, s in zip(holders, seats, strict=True) if s == 1 and h in honest]
        chosen[:] = singles[:1]
        return len(holders) >= 2 and bool(singles)

    b, holders, seats, tx, reserve = _settle(
        kit, court, one_single_honest_seat, lambda h: ABSTAIN if h in chosen else GOOD
    )
    assert kit.coordinator.leafState(b, 0) == L_FINAL
    _, _, cs = _shares(kit, b)
    k = kit.params.seats
    assert list(tx.events.filter(kit.coordinator.SeatSlashed)) == []
    assert _reserve(kit) == reserve + cs // k
    assert _paid_after_window(court, b, tx, reverts_with) == {
        h: cs // k * n for h, n in zip(holders, seats, strict=True) if h not in chosen
    }
