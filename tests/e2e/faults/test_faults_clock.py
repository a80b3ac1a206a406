"""Clock skew between the gateway and a worker beyond the ticket tolerance: the worker refuses
the tickets with the reason, the others answer, nothing is lost."""

from __future__ import annotations

from fault_scenarios import TicketStack, clock_skewed


def test_worker__clock_minutes_ahead__refuses_tickets_with_the_reason_and_nothing_is_lost(
    faults_stack: TicketStack, seed: int
) -> None:
    outcome = clock_skewed(faults_stack, seed)
    print(outcome.line())
    assert outcome.tickets > 0 and outcome.answered > 0 and outcome.failed_calls == 0
    assert outcome.paid + outcome.refunded == outcome.tickets
