"""Deterministic scheduled tickets: two holders of a schedule key sign one ticket per due time;
and the stand-in's hand-over rule."""

from __future__ import annotations

import dataclasses

import pytest
from eth_account import Account

from peerhost.wire.schedule import Schedule
from peerhost.wire.schedule_ticket import (
    SCHEDULE_SEQ_BASE,
    ScheduledRun,
    is_schedule_seq,
    run_ordinal,
    schedule_seq,
    scheduled_ticket_problem,
    standin_may_issue,
)
from peerhost.wire.ticket import MODE_FAST, recover_ticket_signer, sign_ticket

KEY = bytes.fromhex("11" * 32)
FUNCTION_ID = bytes.fromhex("ab" * 32)
SINCE = 1_796_000_000  # a multiple of 2 s
COORDINATOR = "0x" + "cd" * 20


def _run(due: int, **changes: object) -> ScheduledRun:
    run = ScheduledRun(
        schedule_key=Account.from_key(KEY).address,
        chain_id=31337,
        coordinator=COORDINATOR,
        function_id=FUNCTION_ID,
        wallet="0x" + "01" * 20,
        project="shop",
        function="tick",
        expression="*/2 * * * * *",
        due=due,
        since=SINCE,
        version=3,
        reward=10**15,
        secrets_version=120,
        ticket_life=600,
        mode=MODE_FAST,
        engine_profile=bytes.fromhex("ee" * 32),
    )
    return dataclasses.replace(run, **changes)  # type: ignore[arg-type]


def test_ticket__two_holders_one_due_time__sign_identical_tickets() -> None:
    due = SINCE + 10
    first, second = _run(due).ticket(), _run(due).ticket()
    assert first == second
    signature = sign_ticket(KEY, 31337, COORDINATOR, first)
    assert signature == sign_ticket(KEY, 31337, COORDINATOR, second)
    assert recover_ticket_signer(31337, COORDINATOR, second, signature) == first.gateway


def test_ticket__fields__follow_due_time_and_schedule() -> None:
    due = SINCE + 10
    ticket = _run(due).ticket()
    assert ticket.seq == schedule_seq(FUNCTION_ID, due)
    assert SCHEDULE_SEQ_BASE <= ticket.seq < 2 * SCHEDULE_SEQ_BASE
    assert (ticket.issued_at, ticket.deadline) == (due, due + 600)
    assert ticket.issued_total == 10**15 * 5  # the 5th run of every 2 s since SINCE


def test_ticket__another_due_time__another_seq_and_input() -> None:
    a, b = _run(SINCE + 2).ticket(), _run(SINCE + 4).ticket()
    assert a.seq != b.seq
    assert a.input_hash != b.input_hash
    assert b.issued_total == a.issued_total + 10**15


def test_ticket__another_function__another_seq() -> None:
    other = bytes.fromhex("ac" * 32)
    assert schedule_seq(FUNCTION_ID, SINCE + 2) != schedule_seq(other, SINCE + 2)


def test_ticket__input__carries_due_time_and_request_id() -> None:
    run = _run(SINCE + 6)
    data = run.input()
    assert str(SINCE + 6).encode() in data
    assert run.request_id.hex().encode() in data


@pytest.mark.parametrize(
    ("function_id", "due"), [(bytes(31), 5), (FUNCTION_ID, -1), (FUNCTION_ID, 1 << 40)]
)
def test_schedule_seq__bad_input__raises_value_error(function_id: bytes, due: int) -> None:
    with pytest.raises(ValueError):
        schedule_seq(function_id, due)


def test_run_ordinal__due_before_authorization__raises_value_error() -> None:
    with pytest.raises(ValueError, match="not after the key's authorization"):
        run_ordinal(Schedule.parse("*/2 * * * * *"), SINCE, SINCE)


@pytest.mark.parametrize(
    ("now", "heard", "issued", "expected"),
    [
        (1000.0, 1000.0, set(), True),  # the primary answers, 20 s after the due time, without it
        (1000.0, 1000.0, {980}, False),  # the primary issued it
        (1000.0, 995.0, set(), False),  # its last answer came before the due time's takeover
        (1000.0, 980.0, None, True),  # silent for the whole takeover
        (1000.0, 985.0, None, False),  # silent 15 s (a timeout, a restart): not yet
        (1000.0, 1000.0, None, False),  # it answers and does not run the function
        (990.0, 960.0, None, False),  # silent long enough, but the due time only 10 s late
        (1061.0, 900.0, None, False),  # the due time is older than catch_up
    ],
)
def test_standin_may_issue__what_the_primary_issued_and_lateness__decide(
    now: float, heard: float, issued: set[int] | None, expected: bool
) -> None:
    decided = standin_may_issue(980, now, heard_at=heard, issued=issued, takeover=20, catch_up=80)
    assert decided is expected


def test_scheduled_ticket_problem__deterministic_and_due__none() -> None:
    t = _run(due=1_800_000_000).ticket()
    assert scheduled_ticket_problem(t, now=1_800_000_000) is None


def test_scheduled_ticket_problem__due_time_not_come__refused() -> None:
    t = _run(due=1_800_000_010).ticket()
    assert "not yet" in (scheduled_ticket_problem(t, now=1_800_000_000) or "")


def test_scheduled_ticket_problem__second_seq_for_one_due_time__refused() -> None:
    t = _run(due=1_800_000_000).ticket()
    other = dataclasses.replace(t, seq=t.seq + 1)
    assert is_schedule_seq(other.seq)
    assert "not the deterministic seq" in (scheduled_ticket_problem(other, now=1_800_000_100) or "")
