"""The gateway killed by SIGKILL with calls in flight and tickets unposted: restarted (it posts
what it owes, each ticket once), or left down (the attesters post the tickets they attested as
orphans; back later, the gateway posts its new tickets itself and nothing twice)."""

from __future__ import annotations

import pytest
from fault_scenarios import TicketStack, gateway_killed


def test_gateway__killed_with_tickets_in_flight_and_restarted__posts_each_ticket_once(
    faults_stack: TicketStack, seed: int
) -> None:
    outcome = gateway_killed(faults_stack, seed, restart=True)
    print(outcome.line())
    assert outcome.tickets > 0 and outcome.posted > 0
    assert outcome.never_charged == 0  # the restarted gateway posted every ticket it issued


@pytest.mark.slow
def test_gateway__killed_and_left_down__attesters_post_the_orphans_once(
    faults_stack: TicketStack, seed: int
) -> None:
    outcome = gateway_killed(faults_stack, seed, restart=False)
    print(outcome.line())
    assert outcome.tickets > 0 and outcome.posted > 0
