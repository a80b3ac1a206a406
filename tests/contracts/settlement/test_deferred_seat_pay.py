"""Deferred committee pay: a Final leaf's committee pay is claimed by each seat holder only after its
batch's challenge window; a challenge takes the leaf's committee pay into its case, which pays it to the seats of
the value when it is upheld and into the winners' pot when it is overturned. Nothing is paid before
the window, so nothing has to be clawed back, and no stake bounds what a forger loses."""

from __future__ import annotations

from typing import Any

import pytest

from peerhost.deploy import ETHER

from .conftest import GOOD, KEY, L_FINAL, LIE, seat_until
from .courtkit import Court, resolve

BPS = 10_000
SEAT = 0  # ISettlementCoordinator Credited reasons
FINALIZER = 1
COURT_SEAT_PAY = 3  # IDisputeCourt Credited reason
P_SETTLE = 4


@pytest.fixture
def arena(kit: Any, workers: Any) -> Any:
    """Three honest workers (2 ether each), two of the adversary's (2 ether each), a large reserve."""
    kit.stake(workers[:3], 2 * ETHER)
    kit.open_project(reserve=2_000 * ETHER)
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


def _captured(kit: Any, bad: set[str]) -> Any:
    def want(holders: list[str], seats: list[int]) -> bool:
        return sum(s for h, s in zip(holders, seats, strict=True) if h in bad) >= kit.params.quorum

    return want


def _settle_vote(kit: Any, court: Court, b: int, holders: list[str], vote_of: Any) -> Any:
    for h in holders:
        kit.commit(b, court.by[h], vote_of(h))
    tx = None
    for h in holders:
        tx = kit.reveal(b, court.by[h], vote_of(h))
    if int(kit.coordinator.phaseOf(b)) == P_SETTLE:
        vectors = [list(v) for v in dict.fromkeys(tuple(vote_of(h)) for h in holders)]
        tx = kit.coordinator.finalize(b, vectors, kit.hl(b), sender=kit.gateway)
    return tx


def _finalizer_share(kit: Any, b: int, finals: int) -> int:
    """The finalizer's share of ``finals`` Final leaves of a batch without attesters, with the K-way split's
    dust: the holder whose reveal settled the batch (all agreed) claims it with its seat pay."""
    r = int(kit.coordinator.getBatch(b).reward)
    fs = r * kit.params.finalizer_bps // BPS
    return finals * (fs + (r - fs) % kit.params.seats)


def _seat_pay(kit: Any, b: int) -> int:
    """A Final leaf's pay per agreeing seat of a batch without attesters: (reward - finalizer's) / K."""
    r = int(kit.coordinator.getBatch(b).reward)
    return (r - r * kit.params.finalizer_bps // BPS) // kit.params.seats


def _credits(tx: Any, event: Any, reason: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in tx.events.filter(event):
        if int(e.reason) == reason:
            out[str(e.account)] = out.get(str(e.account), 0) + int(e.amount)
    return out


def _court_credits(court: Court, b: int, start: int, reason: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in court.c.Credited.range(start, int(court.kit.chain.blocks.head.number) + 1):
        if int(e.batchId) == b and int(e.reason) == reason:
            out[str(e.account)] = out.get(str(e.account), 0) + int(e.amount)
    return out


def test_captured_committee__forges_every_leaf_of_a_full_batch__keeps_no_pay_of_the_overturned_leaf(
    court: Court, bad: set[str], workers: Any
) -> None:
    """The adversary holds Q of the K seats of a maxLeaves batch and forges every leaf. Nothing is credited
    at settlement; the honest challenger overturns leaf 0, whose committee pay the challenge took into the
    case (to the winners); after the window the forgers claim the unchallenged leaves' pay only."""
    kit = court.kit
    n = int(kit.params.max_leaves)
    posted, holders = seat_until(kit, _captured(kit, bad), n=n, tries=30)
    b = posted.batch_id
    seats = dict(zip(holders, [int(x) for x in kit.holders_of(b)[1]], strict=True))
    fin = _settle_vote(kit, court, b, holders, lambda h: [LIE if h in bad else GOOD] * n)
    assert int(kit.coordinator.leafState(b, 0)) == L_FINAL
    pay = _seat_pay(kit, b)
    bad_seats = sum(s for h, s in seats.items() if h in bad)
    assert _credits(fin, kit.coordinator.Credited, SEAT) == {}  # nothing before the window
    agreed = all(
        h in bad for h in holders
    )  # the last reveal settled: its holder claims the finalizer's share
    extra = _finalizer_share(kit, b, n) if agreed else 0
    assert int(kit.coordinator.seatPayHeld(b, kit.hl(b))) == n * pay * bad_seats + extra

    start = int(kit.chain.blocks.head.number)
    vectors = [[LIE] * n, [GOOD] * n] if any(h not in bad for h in holders) else [[LIE] * n]
    resolve(court, b, 0, truth=GOOD, lie=LIE, adversary=bad, challenger=workers[0], vectors=vectors)
    assert bytes(court.case(b, 0).value) == GOOD
    head = int(kit.chain.blocks.head.number) + 1
    [withheld] = [e for e in court.c.SeatPayWithheld.range(start, head) if int(e.batchId) == b]
    assert (int(withheld.seats), int(withheld.amount)) == (bad_seats, pay * bad_seats)
    assert _court_credits(court, b, start, COURT_SEAT_PAY) == {}  # overturned: nobody is paid it

    paid = kit.claim_seats(b, court.by)
    assert paid == {
        h: (n - 1) * pay * s + (extra if h == holders[-1] else 0)
        for h, s in seats.items()
        if h in bad
    }
    assert int(kit.coordinator.seatPayHeld(b, kit.hl(b))) == 0


def test_overturned_leaf__seat_pay_above_the_forgers_stake__never_credited(
    court: Court, bad: set[str], workers: Any
) -> None:
    """The old clawback's limit: a seat's committee pay for the leaf (reward 8 ether: 2.64 ether per seat)
    exceeds its whole stake (2 ether), so taking the pay back from stake left part of it with the forger.
    Deferred, it is never paid: the forgers end with no credit at all and lose their seat slashes."""
    kit = court.kit
    reward = 8 * ETHER
    for _ in range(30):
        posted = kit.post(tickets=kit.tickets(1, reward=reward))
        holders = kit.seat(posted.batch_id)
        seats = [int(x) for x in kit.holders_of(posted.batch_id)[1]]
        if _captured(kit, bad)(holders, seats):
            break
    else:
        raise AssertionError("no captured committee in 30 draws")
    b = posted.batch_id
    pay = _seat_pay(kit, b)
    assert pay > 2 * ETHER  # more than any adversary identity's stake
    stake0 = {a: int(kit.s.stakes.getStaker(a).stake) for a in bad}
    credit0 = {a: int(kit.coordinator.pendingWithdrawal(a)) for a in bad}
    settled_from = int(kit.chain.blocks.head.number)
    _settle_vote(kit, court, b, holders, lambda h: [LIE if h in bad else GOOD])
    start = int(kit.chain.blocks.head.number)
    vectors = [[LIE], [GOOD]] if any(h not in bad for h in holders) else [[LIE]]
    resolve(court, b, 0, truth=GOOD, lie=LIE, adversary=bad, challenger=workers[0], vectors=vectors)
    assert bytes(court.case(b, 0).value) == GOOD
    # no seat pay left to claim, for anyone; when every holder was the forger's, the one whose reveal
    # settled the batch claims the finalizer's share (and the K-way split's dust), as a finalizer would
    fs = reward * kit.params.finalizer_bps // 10_000
    k = kit.params.seats
    claimed = kit.claim_seats(b, court.by)
    assert len(claimed) <= 1 and set(claimed) <= bad
    assert all(v == fs + (reward - fs) % k for v in claimed.values())
    head = int(kit.chain.blocks.head.number)
    credited = [
        e for e in kit.coordinator.Credited.range(settled_from, head + 1) if int(e.batchId) == b
    ]
    assert not [e for e in credited if int(e.reason) == SEAT and str(e.account) in bad]
    for a in bad:  # no seat pay, ever: at most the finalizer's share, if a forger's reveal settled
        fin = sum(
            int(e.amount) for e in credited if str(e.account) == a and int(e.reason) == FINALIZER
        )
        assert int(kit.coordinator.pendingWithdrawal(a)) - credit0[a] == fin
    liars = [a for a, h in zip(holders, seats, strict=True) if a in bad]
    for (
        a
    ) in liars:  # each lying tier-1 seat lost its seatSlash (and more if it voted on in tier 2/3)
        assert stake0[a] - int(kit.s.stakes.getStaker(a).stake) >= kit.params.seat_slash
    assert _court_credits(court, b, start, COURT_SEAT_PAY) == {}
    # what the adversary's identities may still earn in the court (a panel seat of theirs voting
    # the truth) is less than the forgery cost them
    lost = sum(stake0[a] - int(kit.s.stakes.getStaker(a).stake) for a in bad)
    assert sum(int(court.c.pendingWithdrawal(a)) for a in bad) < lost


def test_challenged_leaf_upheld__honest_seats_paid_their_committee_pay_by_the_case(
    court: Court, bad: set[str], workers: Any
) -> None:
    """An honest committee; the adversary spam-challenges leaf 0 and loses. The case pays each tier-1 seat
    of the upheld value its committee pay for the leaf; the seats claim the other leaf's after the window:
    the same total as without the challenge."""
    kit = court.kit
    honest = {str(w.address) for w in workers[:3]}

    def all_honest(holders: list[str], seats: list[int]) -> bool:
        return all(h in honest for h in holders)

    posted, holders = seat_until(kit, all_honest, n=2)
    b = posted.batch_id
    seats = dict(zip(holders, [int(x) for x in kit.holders_of(b)[1]], strict=True))
    _settle_vote(kit, court, b, holders, lambda h: [GOOD, GOOD])
    pay = _seat_pay(kit, b)
    start = int(kit.chain.blocks.head.number)
    court.challenge(b, 0, workers[3], [[GOOD, GOOD]])
    extra = _finalizer_share(kit, b, 2)  # all agreed: the settling holder claims it, never withheld
    assert (
        int(kit.coordinator.seatPayHeld(b, kit.hl(b))) == pay * kit.params.seats + extra
    )  # leaf 1's pay stays
    resolve(court, b, 0, truth=GOOD, lie=LIE, adversary=bad, challenger=workers[0])
    assert bytes(court.case(b, 0).value) == GOOD
    assert _court_credits(court, b, start, COURT_SEAT_PAY) == {h: pay * s for h, s in seats.items()}
    assert kit.claim_seats(b, court.by) == {
        h: pay * s + (extra if h == holders[-1] else 0) for h, s in seats.items()
    }


def test_withhold_seat_pay__not_the_court__reverts(
    court: Court, stranger: Any, reverts_with: Any
) -> None:
    with reverts_with(court.kit.coordinator.NotCourt):
        court.kit.coordinator.withholdSeatPay(1, 1, [], sender=stranger)
