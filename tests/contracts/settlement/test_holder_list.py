"""The holder list kept as one hash: every call that names the committee takes the list back in
calldata, and a list that is not the seated one (an outsider listing itself, a dropped honest
holder, holders reordered, a holder's seats doubled) reverts ``HoldersMismatch`` and moves nothing."""

from __future__ import annotations

from typing import Any

import pytest

from peerhost.wire.batch import seat_commitment, vector_hash

from .conftest import (
    GOOD,
    LIE,
    PH_SETTLE,
    Kit,
    distinct,
    owed,
    seat_until,
    vector,
)
from .holders import words


@pytest.fixture
def k(kit, workers):
    kit.stake(workers[:5])
    kit.open_project()
    return kit


@pytest.fixture
def by(accounts_by_address):
    return lambda address: accounts_by_address[str(address)]


def _forgeries(k: Kit, b: int, adversary: str) -> dict[str, list[int]]:
    """Lists an adversary could send instead of the batch's seated one."""
    holders, seats = k.holders_of(b)
    doubled = [n * 2 if h == adversary else n for h, n in zip(holders, seats, strict=True)]
    other = next(i for i, h in enumerate(holders) if h != adversary)
    itself = [adversary if i == other else h for i, h in enumerate(holders)]
    return {
        "lists itself in an honest holder's place": words(itself, seats),
        "appends itself": words([*holders, adversary], [*seats, 1]),
        "drops an honest holder": words(holders[:-1], seats[:-1]),
        "reorders": words(list(reversed(holders)), list(reversed(seats))),
        "empty": [],
    } | ({"doubles its seats": words(holders, doubled)} if adversary in holders else {})


def _commitment(k: Kit, b: int, worker: Any, values: list[bytes]) -> bytes:
    return seat_commitment(
        k.chain.chain_id,
        str(k.coordinator.address),
        b,
        str(worker.address),
        vector_hash(values),
        k.salt(worker),
    )


def test_commit__outsider_forges_a_list_naming_itself__reverts_and_commits_nothing(
    k, by, workers, reverts_with
):
    posted, holders = seat_until(k, distinct(3), n=1)
    b = posted.batch_id
    outsider = next(w for w in workers[:5] if str(w.address) not in holders)  # staked, not drawn
    c = _commitment(k, b, outsider, vector(1))
    for name, forged in _forgeries(k, b, str(outsider.address)).items():
        with reverts_with(k.coordinator.HoldersMismatch):
            k.coordinator.commit(b, c, forged, sender=outsider)
        assert k.coordinator.getBatch(b).committedBits == 0, name
    with reverts_with(k.coordinator.NotSeated):  # the seated list does not name it either
        k.coordinator.commit(b, c, k.hl(b), sender=outsider)


def test_reveal_and_finalize__forged_lists__revert_and_the_no_show_is_still_slashed(
    k, by, chain, reverts_with
):
    posted, holders = seat_until(k, distinct(3), n=1)
    b = posted.batch_id
    a, liar, absent = holders
    k.commit(b, by(a), vector(1))
    k.commit(b, by(liar), vector(1, LIE))
    chain.mine(deltatime=k.params.commit_window)
    for forged in _forgeries(k, b, liar).values():
        with reverts_with(k.coordinator.HoldersMismatch):
            k.coordinator.reveal(
                b,
                vector_hash(vector(1, LIE)),
                k.salt(by(liar)),
                vector(1, LIE),
                forged,
                sender=by(liar),
            )
    k.reveal(b, by(a), vector(1))
    k.reveal(b, by(liar), vector(1, LIE))
    assert k.coordinator.phaseOf(b) == PH_SETTLE
    stake_before = int(k.s.stakes.getStaker(absent).stake)
    # dropping the no-show from the list would spare it the slash: refused
    for forged in _forgeries(k, b, liar).values():
        with reverts_with(k.coordinator.HoldersMismatch):
            k.coordinator.finalize(b, [vector(1), vector(1, LIE)], forged, sender=by(liar))
    tx = k.coordinator.finalize(b, [vector(1), vector(1, LIE)], k.hl(b), sender=by(a))
    [slash] = tx.events.filter(k.coordinator.SeatSlashed)
    assert str(slash.worker) == absent and int(slash.amount) > 0
    assert int(k.s.stakes.getStaker(absent).stake) == stake_before - int(slash.amount)


def test_claim__holder_doubles_its_seats_or_reorders__reverts_and_is_paid_exactly_once(
    k, by, accounts, reverts_with
):
    posted, holders = seat_until(k, distinct(3), n=2)
    b = posted.batch_id
    for h in holders:
        k.commit(b, by(h), vector(2))
    for h in holders:
        k.reveal(b, by(h), vector(2), full=h == holders[0])
    k.wait_challenge_window(b)
    adversary = holders[1]
    owed_to = int(k.coordinator.seatPayOf(b, adversary, k.hl(b)))
    assert owed_to > 0
    balance = int(k.chain.provider.get_balance(k.coordinator.address))
    for forged in _forgeries(k, b, adversary).values():
        with reverts_with(k.coordinator.HoldersMismatch):
            k.coordinator.claimSeatPay([b], [forged], sender=by(adversary))
    with reverts_with(k.coordinator.HoldersMismatch):  # a list per batch
        k.coordinator.claimSeatPay([b], [], sender=by(adversary))
    assert int(k.chain.provider.get_balance(k.coordinator.address)) == balance  # nothing paid
    assert int(k.coordinator.seatPayOf(b, adversary, k.hl(b))) == owed_to
    assert k.claim_seats(b, by)[adversary] == owed_to  # its own seats' pay, checked to the wei
    assert int(k.coordinator.seatPayHeld(b, k.hl(b))) == 0
    with reverts_with(k.coordinator.NothingToClaim):
        k.coordinator.claimSeatPay([b], [k.hl(b)], sender=by(adversary))
    assert k.chain.provider.get_balance(k.coordinator.address) == owed(k, [*accounts, k.gateway])


def test_court__forged_list__punish_reverts_holders_mismatch(k, by, reverts_with):
    posted, holders = seat_until(k, distinct(3), n=1)
    b = posted.batch_id
    a, bb, liar = holders
    k.commit(b, by(a), [GOOD])
    k.commit(b, by(bb), [GOOD])
    k.commit(b, by(liar), [LIE])
    k.reveal(b, by(a), [GOOD])
    k.reveal(b, by(bb), [GOOD], full=False)
    k.reveal(b, by(liar), [LIE])
    k.coordinator.finalize(b, [[GOOD], [LIE]], k.hl(b), sender=by(a))
    k.wait_challenge_window(b)
    # the liar drops itself from the list to escape the court's slash: refused
    for forged in _forgeries(k, b, liar).values():
        with reverts_with(k.coordinator.HoldersMismatch):
            k.s.court.punish(b, 0, [[GOOD], [LIE]], forged, sender=by(liar))
    stake = int(k.s.stakes.getStaker(liar).stake)
    k.s.court.punish(b, 0, [[GOOD], [LIE]], k.hl(b), sender=by(a))
    assert int(k.s.stakes.getStaker(liar).stake) < stake
