"""A batch's whole life, end to end, as a first check of the kit."""

from __future__ import annotations

from .conftest import GOOD, L_FINAL, PH_CLOSED, PH_FINALIZED, vector


def test_batch__three_agreeing_seats__finalizes_in_last_reveal(ready, accounts_by_address, workers):
    kit = ready
    posted = kit.post(3, attesters=[workers[3]])
    holders = kit.seat(posted.batch_id)
    v = vector(3)
    for h in holders:
        kit.commit(posted.batch_id, accounts_by_address[h], v)
    for h in holders:
        kit.reveal(posted.batch_id, accounts_by_address[h], v)
    assert kit.coordinator.phaseOf(posted.batch_id) == PH_FINALIZED
    assert kit.coordinator.leafState(posted.batch_id, 0) == L_FINAL
    kit.open(posted, [GOOD] * 3)
    assert kit.coordinator.phaseOf(posted.batch_id) == PH_CLOSED
    assert kit.coordinator.pendingWithdrawal(workers[3]) > 0
