"""The stateful machines' thin JSON-RPC client answers like ape: same views, same events, same reverts."""

from __future__ import annotations

import pytest
from ape.exceptions import ContractLogicError

from .conftest import GOOD, vector
from .leanchain import lean_kit


@pytest.fixture
def ready3(kit, workers):
    kit.stake(workers[:3])
    kit.open_project()
    return kit


def test_views__a_seated_batch__decode_as_ape_does(ready3):
    posted = ready3.post(2)
    holders = ready3.seat(posted.batch_id)
    lean = lean_kit(ready3)
    ape_c, lean_c = ready3.coordinator, lean.coordinator
    b = posted.batch_id

    ape_batch, lean_batch = ape_c.getBatch(b), lean_c.getBatch(b)
    for name in ("seedBlock", "state", "leafCount", "commitDeadline", "auditMask", "reward"):
        assert int(getattr(lean_batch, name)) == int(getattr(ape_batch, name)), name
    assert bytes(lean_batch.root) == bytes(ape_batch.root)
    assert lean_batch.gateway == str(ape_batch.gateway) == str(ready3.gateway.address)
    lean_holders, lean_seats = lean.holders_of(b)
    assert lean_holders == holders  # checksum addresses, as ape gives them
    assert lean_seats == ready3.holders_of(b)[1]
    assert bytes(lean_c.voteOf(b, 0)) == bytes(ape_c.voteOf(b, 0))
    staker = lean.s.stakes.getStaker(holders[0])
    assert int(staker.stake) == int(ready3.s.stakes.getStaker(holders[0]).stake) > 0
    params = lean.s.court.courtParams()
    assert int(params.challengeWindow) == int(ready3.s.court.courtParams().challengeWindow)


def test_transact__reverting_call__raises_contract_logic_error_and_mines_nothing(ready3, stranger):
    lean = lean_kit(ready3)
    head = lean.chain.blocks.head.number
    with pytest.raises(ContractLogicError, match="NothingToWithdraw"):
        lean.coordinator.withdraw(sender=stranger)
    assert lean.chain.blocks.head.number == head


def test_transact__committee_settles__events_and_cached_reads_follow_the_chain(
    ready3, accounts_by_address
):
    lean = lean_kit(ready3)
    posted = lean.post(1)
    b = posted.batch_id
    holders = lean.seat(b)
    assert int(lean.coordinator.getBatch(b).state) == 2  # seated (a read kept until a change)
    for h in holders:
        lean.commit(b, accounts_by_address[h], vector(1))
    tx = None
    for h in holders:
        tx = lean.reveal(b, accounts_by_address[h], vector(1, GOOD))
    if int(lean.coordinator.phaseOf(b)) not in (5, 6):
        lean.chain.mine(deltatime=lean.params.commit_window + lean.params.reveal_window)
        tx = lean.coordinator.finalize(b, [vector(1, GOOD)], lean.hl(b), sender=lean.gateway)
    assert tx is not None
    # the settling transaction's event (its finalizer's share is no credit when the seats all agree)
    finalized = tx.events.filter(lean.coordinator.BatchFinalized)
    assert [int(e.batchId) for e in finalized] == [b]
    assert not tx.events.filter(lean.s.court.Credited)  # another contract's event of that name
    settled = int(lean.coordinator.getBatch(b).state)  # read again: the transactions changed it
    assert settled == int(ready3.coordinator.getBatch(b).state) in (3, 4)  # Finalized or Closed
