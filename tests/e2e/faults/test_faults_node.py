"""The chain node restarted mid-batch with calls flowing: every RPC and WebSocket connection of
the gateway and the workers drops and new ones are refused for a few seconds; anvil comes back on
the same port with its state. The processes reconnect, every ticket settles once, no honest
worker is slashed.

``slow`` (a few minutes): ``PEERHOST_FAULTS=all`` and ``bench/faults.py`` run it. The restarted node
must hold the saved chain (the head at the dump, same hash); its head may be further on already
(the processes' first transactions after the restart).
"""

from __future__ import annotations

import pytest
from fault_scenarios import TicketStack, node_restarted


@pytest.mark.slow
def test_chain__node_restarted_mid_batch__processes_reconnect_and_every_ticket_settles_once(
    faults_stack: TicketStack, seed: int
) -> None:
    outcome = node_restarted(faults_stack, seed)
    print(outcome.line(), outcome.notes)
    assert outcome.tickets > 0 and outcome.posted > 0
    assert outcome.paid + outcome.refunded == outcome.posted
