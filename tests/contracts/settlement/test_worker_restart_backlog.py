"""A restarted worker reveals the seat it committed before the restart before it takes up the
rest of its backlog.

On restart the log loop reads the last 1,000 blocks and finds every recent batch posted: it used
to start all their duties at once, and under load the one seat that only had to open its saved
commitment reached the chain after its reveal deadline, a seat no-show (fault campaign,
``worker-killed-commit-restarted`` seed 2402: 30 and more duties, the reveal 20 s late). The other
duties of that first read now wait for the saved seats' reveals, at most ``_BACKLOG_HOLD``
seconds. Real anvil, real contracts, the real log loop and duty log."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.wire.batch import ABSTAIN, vector_hash
from peerhost.worker import committee as committee_module
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.committee import Committee
from peerhost.worker.duties import DutyLog, seat_key

from .worker_harness import ThreadLoop, ledger_committee, seated_two_holders, wait_for

GOOD = b"\x11" * 32
PH_COMMIT = 2


class Recorded(Committee):
    """A committee duty that notes, in order, each batch duty's first pass and each transaction
    it sent (once its receipt came)."""

    events: list[tuple[str, int, float]]

    async def duty(self, batch_id: int, posted_log: dict[str, Any]) -> bool:
        self.events.append(("duty", batch_id, time.monotonic()))
        return await super().duty(batch_id, posted_log)

    async def _send(self, name: str, *args: Any) -> dict[str, Any]:
        receipt = await super()._send(name, *args)
        self.events.append((name, int(args[0]), time.monotonic()))
        return receipt

    async def _open_saved(self) -> set[int]:
        opening = await super()._open_saved()
        self.events.append(("opened", len(opening), time.monotonic()))
        return opening


class FirstReadStalled(Recorded):
    """Its log loop's first read never ends: a loaded machine's read of the last 1,000 blocks,
    and every duty that read starts (the batches posted, the escalated cases)."""

    async def _read_logs(self, *args: Any) -> bool:
        await asyncio.Event().wait()
        return False


def _ledger(path: Path, kit: Any, tickets: list[Any]) -> AttestedLedger:
    ledger = AttestedLedger(str(path))
    for ticket in tickets:
        ledger.claim(ticket, b"\x01" * 32, kit.project_id, b"\x02" * 65)
        ledger.attest(ticket, GOOD, b"\x03" * 65)
    return ledger


def _committed_then_killed(
    kit: Any,
    config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    tmp_path: Path,
) -> tuple[Any, Any, list[Any], list[Any], DutyLog]:
    """A batch seated with two holders or more, whose first holder's duty committed (its duty log
    on disk) and was then stopped; then three more batches posted and seated. Returns (the
    batch, the first holder, the other holders, every ticket, the duty log)."""
    posted, holders = seated_two_holders(kit, 1)
    me = accounts_by_address[holders[0]]
    others = [accounts_by_address[h] for h in holders[1:]]
    tickets = list(posted.tickets)
    duties = DutyLog(tmp_path / "duties.sqlite3")
    ledger = _ledger(tmp_path / "attested-1.sqlite", kit, tickets)
    first, rpc = ledger_committee(config, me, ledger, duties=duties)
    running = loop.start(first.duty(posted.batch_id, {}))
    wait_for(
        lambda: bytes(kit.vote_of(posted.batch_id, me.address)) != bytes(32),
        30,
        "the seat's commitment before the restart",
    )
    running.cancel()  # killed after committing: its saved seat is not revealed
    loop.run(first.close())
    loop.run(rpc.aclose())
    ledger.close()
    assert duties.undone("seat:") == [seat_key(posted.batch_id)]
    for _ in range(3):  # the rest of the backlog the restarted worker finds posted
        more = kit.post(tickets=kit.tickets(1))
        kit.seat(more.batch_id)
        tickets += list(more.tickets)
    return posted, me, others, tickets, duties


def to_reveal(kit: Any, chain: Any, batch_id: int, others: list[Any]) -> None:
    """The other holders commit: the batch in its reveal phase, where the saved seat must open."""
    for other in others:
        kit.commit(batch_id, other, [GOOD])
    if kit.coordinator.phaseOf(batch_id) == PH_COMMIT:
        chain.mine(deltatime=int(kit.params.commit_window) + 1)
    assert kit.coordinator.phaseOf(batch_id) == PH_COMMIT + 1


def in_reveal(
    kit: Any,
    config: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
) -> tuple[int, Any, DutyLog, AttestedLedger, bytes]:
    """A seat committed, its worker killed, its batch then in its reveal phase: returns (the
    batch, the worker, its duty log, a fresh ledger for its restart, the vote its reveal
    makes)."""
    posted, me, others, tickets, duties = _committed_then_killed(
        kit, config, accounts_by_address, loop, tmp_path
    )
    to_reveal(kit, chain, posted.batch_id, others)
    audited = int(kit.coordinator.getBatch(posted.batch_id).auditMask) & 1
    revealed = vector_hash([GOOD if audited else ABSTAIN])
    ledger = _ledger(tmp_path / "attested-2.sqlite", kit, tickets)
    return posted.batch_id, me, duties, ledger, revealed


@contextlib.contextmanager
def restarted_with(
    kind: type[Recorded],
    config: ChainConfig,
    me: Any,
    duties: DutyLog,
    ledger: AttestedLedger,
    loop: ThreadLoop,
) -> Iterator[Recorded]:
    """``me``'s committee duty started again on ``duties`` (its log loop running), closed after."""
    restarted, rpc = ledger_committee(config, me, ledger, duties=duties, kind=kind)
    assert isinstance(restarted, Recorded)
    restarted.events = []
    run = loop.start(restarted.run())
    try:
        yield restarted
    finally:
        run.cancel()
        loop.run(restarted.close())
        loop.run(rpc.aclose())
        ledger.close()


def backlog_entered(restarted: Recorded, batch_id: int, seconds: float, what: str) -> list[float]:
    """Waits until the duties of the three batches posted after ``batch_id`` made their first
    pass; the times they did."""
    backlog = set(range(batch_id + 1, batch_id + 4))
    wait_for(
        lambda: backlog <= {b for kind, b, _ in restarted.events if kind == "duty"}, seconds, what
    )
    return [at for kind, b, at in list(restarted.events) if kind == "duty" and b in backlog]


def test_restart__saved_seat_revealed_before_the_backlog_duties_start(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(committee_module, "_BACKLOG_HOLD", 60.0)  # the reveal ends it, not time
    kit = ready
    batch_id, me, duties, ledger, revealed = in_reveal(
        kit, v2_config, accounts_by_address, chain, loop, tmp_path
    )
    with restarted_with(Recorded, v2_config, me, duties, ledger, loop) as restarted:
        wait_for(
            lambda: bytes(kit.vote_of(batch_id, me.address)) == revealed, 30, "the saved reveal"
        )
        entered = backlog_entered(restarted, batch_id, 30, "the backlog's duties")
        revealed_at = next(at for kind, b, at in restarted.events if kind == "reveal")
        assert next(b for kind, b, _ in restarted.events if kind == "reveal") == batch_id
        # before: every duty of the first read started at once, the saved seat's among them
        assert revealed_at <= min(entered), restarted.events
        assert seat_key(batch_id) not in duties.undone("seat:")  # marked revealed


def test_restart__saved_seat_in_commit_phase__backlog_not_held(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The other holders have not committed: the batch stays in Commit and the saved seat has
    nothing to reveal yet, so the backlog does not wait for it (a hold of 30 s here)."""
    monkeypatch.setattr(committee_module, "_BACKLOG_HOLD", 30.0)
    kit = ready
    posted, me, _others, tickets, duties = _committed_then_killed(
        kit, v2_config, accounts_by_address, loop, tmp_path
    )
    ledger = _ledger(tmp_path / "attested-2.sqlite", kit, tickets)
    with restarted_with(Recorded, v2_config, me, duties, ledger, loop) as restarted:
        backlog_entered(restarted, posted.batch_id, 20, "the backlog's duties before the hold ends")
        assert kit.coordinator.phaseOf(posted.batch_id) == PH_COMMIT
        assert duties.undone("seat:")[0] == seat_key(posted.batch_id)  # not revealed


class RevealHeld(Recorded):
    """Its reveals never reach the chain (a node that takes them and mines nothing)."""

    async def _send(self, name: str, *args: Any) -> dict[str, Any]:
        if name == "reveal":
            await asyncio.Event().wait()
        return await super()._send(name, *args)


def test_restart__saved_reveal_never_mined__backlog_waits_only_the_hold(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(committee_module, "_BACKLOG_HOLD", 2.0)
    kit = ready
    posted, me, others, tickets, duties = _committed_then_killed(
        kit, v2_config, accounts_by_address, loop, tmp_path
    )
    to_reveal(kit, chain, posted.batch_id, others)
    ledger = _ledger(tmp_path / "attested-2.sqlite", kit, tickets)
    started = time.monotonic()
    with restarted_with(RevealHeld, v2_config, me, duties, ledger, loop) as restarted:
        entered = backlog_entered(restarted, posted.batch_id, 30, "the backlog after the hold")
        # held to the end of the hold (2 s after the log loop started), let go without the reveal
        assert min(entered) >= restarted._hold_until - 0.05 > started
        assert duties.undone("seat:")[0] == seat_key(posted.batch_id)  # not revealed


def test_restart__first_read_stalled__saved_seat_revealed_all_the_same(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The saved seat is revealed before the log loop's first read: on the fault campaign's
    loaded stack (``worker-killed-commit-restarted`` seed 3904) the restarted worker came back
    with 35 s of its reveal window left, and its reveal waited behind that read and the hundred
    duties and cases it started, past the deadline."""
    monkeypatch.setattr(committee_module, "_BACKLOG_HOLD", 60.0)
    kit = ready
    batch_id, me, duties, ledger, revealed = in_reveal(
        kit, v2_config, accounts_by_address, chain, loop, tmp_path
    )
    with restarted_with(FirstReadStalled, v2_config, me, duties, ledger, loop) as restarted:
        wait_for(
            lambda: bytes(kit.vote_of(batch_id, me.address)) == revealed,
            30,
            "the saved reveal, the first read not done",
        )
        wait_for(
            lambda: bool(restarted.events) and restarted.events[-1][0] == "opened",
            10,
            "the start's pass",
        )
        # the reveal, then the pass ended with nothing left to open; no batch's duty ran
        assert [(kind, b) for kind, b, _ in restarted.events] == [
            ("reveal", batch_id),
            ("opened", 0),
        ]
        assert seat_key(batch_id) not in duties.undone("seat:")


def test_restart__saved_seat_past_its_reveal_phase__marked_and_nothing_waited_for(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Restarted after its batch's reveal window closed: the saved seat has nothing to open. It
    is marked so at the start's pass (it was read again at every start, oldest first, in the
    time the live seats had: a long-lived worker of the campaign had 26 such seats), and the
    backlog is not held for it."""
    monkeypatch.setattr(committee_module, "_BACKLOG_HOLD", 60.0)
    kit = ready
    batch_id, me, duties, ledger, _ = in_reveal(
        kit, v2_config, accounts_by_address, chain, loop, tmp_path
    )
    chain.mine(deltatime=int(kit.params.commit_window) + int(kit.params.reveal_window) + 1)
    assert kit.coordinator.phaseOf(batch_id) == PH_COMMIT + 2  # Settle
    with restarted_with(Recorded, v2_config, me, duties, ledger, loop) as restarted:
        backlog_entered(restarted, batch_id, 20, "the backlog's duties, the hold not waited out")
        assert restarted.events[0][:2] == ("opened", 0)  # nothing left to open after the pass
        assert seat_key(batch_id) not in duties.undone("seat:")  # marked: not read again
        assert duties.get(seat_key(batch_id)) is not None  # its vector kept for its duty
        assert "reveal" not in {kind for kind, _, _ in restarted.events}


class SlowRevealFirstReadStalled(FirstReadStalled):
    """Its reveals take 3 s to be sent (a loaded machine's round trips), and its first read never
    ends (no batch's duty takes the seat up)."""

    async def _send(self, name: str, *args: Any) -> dict[str, Any]:
        if name == "reveal":
            await asyncio.sleep(3.0)
        return await super()._send(name, *args)


def test_restart__saved_reveal_slower_than_the_hold__goes_on_and_is_revealed(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hold ends the backlog's wait, not the reveal under way: at load 19 the hold's end
    cancelled a restarted worker's saved reveal with 30-40 s of its window left, and the duty
    that took it up came too late, a seat no-show (``worker-killed-reveal-restarted`` seed
    3926)."""
    monkeypatch.setattr(committee_module, "_BACKLOG_HOLD", 1.0)
    kit = ready
    batch_id, me, duties, ledger, revealed = in_reveal(
        kit, v2_config, accounts_by_address, chain, loop, tmp_path
    )
    with restarted_with(SlowRevealFirstReadStalled, v2_config, me, duties, ledger, loop) as r:
        wait_for(
            lambda: bytes(kit.vote_of(batch_id, me.address)) == revealed,
            30,
            "the saved reveal, after the hold",
        )
        wait_for(lambda: any(kind == "reveal" for kind, _, _ in r.events), 10, "its receipt")
        # the pass ended at the hold, the seat still to open; its reveal went on after
        assert [(kind, b) for kind, b, _ in r.events] == [("opened", 1), ("reveal", batch_id)]
        wait_for(lambda: seat_key(batch_id) not in duties.undone("seat:"), 10, "the seat marked")


class SlowRevealCounted(Recorded):
    """Its reveals take 3 s to be sent; each reveal it starts is noted ("sending")."""

    async def _send(self, name: str, *args: Any) -> dict[str, Any]:
        if name == "reveal":
            self.events.append(("sending", int(args[0]), time.monotonic()))
            await asyncio.sleep(3.0)
        return await super()._send(name, *args)


def test_restart__saved_reveal_past_the_hold__its_batchs_duty_waits_and_sends_no_second(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hold ends with the saved seat's reveal still under way: the batch's duty (not held,
    its seat being opened) waits for that reveal, then finds it revealed. Before, it read the
    vote before the reveal was mined and sent its own, which reverted."""
    monkeypatch.setattr(committee_module, "_BACKLOG_HOLD", 1.0)
    kit = ready
    batch_id, me, duties, ledger, revealed = in_reveal(
        kit, v2_config, accounts_by_address, chain, loop, tmp_path
    )
    with restarted_with(SlowRevealCounted, v2_config, me, duties, ledger, loop) as restarted:
        wait_for(
            lambda: bytes(kit.vote_of(batch_id, me.address)) == revealed, 30, "the saved reveal"
        )
        backlog_entered(restarted, batch_id, 30, "the backlog's duties")
        time.sleep(4.0)  # a second reveal, had the duty sent one, would be noted by now
        sent = [
            (kind, b)
            for kind, b, _ in restarted.events
            if kind in ("sending", "reveal") and b == batch_id
        ]
        assert sent == [("sending", batch_id), ("reveal", batch_id)], restarted.events


def test_restart__saved_seat_read_as_uncommitted__same_salt_and_revealed(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    """A duty that finds its saved seat but reads no commitment of it (the commitment still on
    its way to a block, or a read answered from an older state) commits the same vote with the
    salt it saved. Before, it saved a new salt: the commitment standing on the chain was then
    one the seat could not open, and it never revealed (a no-show)."""
    kit = ready
    batch_id, me, duties, ledger, revealed = in_reveal(
        kit, v2_config, accounts_by_address, chain, loop, tmp_path
    )
    saved = duties.get(seat_key(batch_id))
    restarted, rpc = ledger_committee(v2_config, me, ledger, duties=duties)
    reads: list[bytes] = []
    current = restarted.view.vote_of

    async def vote_of(batch: int, worker: str) -> bytes:
        vote = bytes(await current(batch, worker))
        reads.append(vote)
        return bytes(32) if len(reads) == 1 else vote  # the first read as of before the commit

    restarted.view.vote_of = vote_of  # type: ignore[method-assign]
    duty = loop.start(restarted.duty(batch_id, {}))
    try:
        wait_for(
            lambda: bytes(kit.vote_of(batch_id, me.address)) == revealed,
            30,
            "the reveal of the commitment made before the restart",
        )
        assert reads[0] != bytes(32)  # the commitment was on the chain all along
        assert duties.get(seat_key(batch_id)) == saved  # the salt kept
    finally:
        duty.cancel()
        loop.run(restarted.close())
        loop.run(rpc.aclose())
        ledger.close()
