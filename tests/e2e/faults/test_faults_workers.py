"""Workers killed by SIGKILL at each point of their duty, with calls flowing: restarted at once,
or left down. Every ticket issued ends paid or refunded exactly once on-chain, and no honest worker
loses stake (the killed worker loses only the no-show penalties of seats drawn while it was down;
restarted, it reveals the commitment it made before the crash). One of each kind runs in CI
(the restart between commit and reveal); the rest are ``slow`` (``bench/faults.py`` runs them all,
many seeds each)."""

from __future__ import annotations

import pytest
from fault_scenarios import TicketStack, worker_killed


def test_worker__restarted_between_commit_and_reveal__reveals_and_nothing_is_lost(
    faults_stack: TicketStack, seed: int
) -> None:
    # worker_killed checks that, back, it revealed the commitment it made before the crash, and
    # that it lost nothing but the no-shows of seats drawn while it was down
    outcome = worker_killed(faults_stack, seed, "reveal", restart=True)
    print(outcome.line(), outcome.notes)
    assert outcome.tickets > 0 and outcome.paid + outcome.refunded == outcome.posted


@pytest.mark.slow
def test_worker__killed_after_attesting_and_restarted__every_ticket_settles_once(
    faults_stack: TicketStack, seed: int
) -> None:
    outcome = worker_killed(faults_stack, seed, "attest", restart=True)
    print(outcome.line(), outcome.notes)
    assert outcome.tickets > 0 and outcome.paid + outcome.refunded == outcome.posted


@pytest.mark.slow
def test_worker__killed_after_committing_and_restarted__every_ticket_settles_once(
    faults_stack: TicketStack, seed: int
) -> None:
    outcome = worker_killed(faults_stack, seed, "commit", restart=True)
    print(outcome.line(), outcome.notes)
    assert outcome.tickets > 0 and outcome.paid + outcome.refunded == outcome.posted


@pytest.mark.slow
@pytest.mark.parametrize("point", ["attest", "commit", "reveal"])
def test_worker__killed_and_left_down__others_settle_every_ticket_once(
    faults_stack: TicketStack, seed: int, point: str
) -> None:
    outcome = worker_killed(faults_stack, seed, point, restart=False)
    print(outcome.line())
    assert outcome.tickets > 0
    # a committed seat that never reveals is the protocol's no-show: only the dead worker pays
    if point in ("commit", "reveal"):
        assert outcome.victim in outcome.slashed
