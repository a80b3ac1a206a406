"""The content store down while a new version is published and called: publishing fails with a
clear error and publishes nothing; calls the workers cannot run get an error naming the store
(never a wrong answer, nothing attested), seats without the code abstain, no worker is slashed,
every ticket settles once; the store back, the calls are answered."""

from __future__ import annotations

from fault_scenarios import TicketStack, store_down


def test_store__down_while_a_new_version_is_published_and_called__clear_errors_and_nothing_lost(
    faults_stack: TicketStack, seed: int
) -> None:
    outcome = store_down(faults_stack, seed)
    print(outcome.line(), outcome.notes)
    assert outcome.failed_calls >= 1 and outcome.answered >= 4  # the call with the store down
    assert not outcome.slashed
    assert outcome.paid + outcome.refunded == outcome.posted
