"""Chain faults with calls flowing: a shallow reorg (1 or 2 blocks) drops the batch posts,
seats, commitments and reveals it held; what they owed is sent again and every ticket settles
once, with no honest worker slashed."""

from __future__ import annotations

import pytest
from fault_scenarios import TicketStack, reorged


# Found by this scenario and fixed: the dropped commitments and reveals were not sent again (a
# worker's next transaction waited behind the dropped nonce, "not mined after 60 s", which ended
# its duty for that batch) and honest seats were slashed as no-shows.
@pytest.mark.slow
def test_chain__shallow_reorg_mid_batch__every_ticket_settles_once(
    faults_stack: TicketStack, seed: int
) -> None:
    outcome = reorged(faults_stack, seed)
    print(outcome.line(), outcome.notes)
    assert outcome.tickets > 0 and outcome.posted > 0
