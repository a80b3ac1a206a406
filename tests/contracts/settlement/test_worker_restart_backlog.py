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
import time
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
    posted, me, others, tickets, duties = _committed_then_killed(
        kit, v2_config, accounts_by_address, loop, tmp_path
    )
    batch_id = posted.batch_id
    for other in others:
        kit.commit(batch_id, other, [GOOD])
    if kit.coordinator.phaseOf(batch_id) == PH_COMMIT:
        chain.mine(deltatime=int(kit.params.commit_window) + 1)
    assert kit.coordinator.phaseOf(batch_id) == PH_COMMIT + 1  # Reveal: the seat must open
    ledger = _ledger(tmp_path / "attested-2.sqlite", kit, tickets)
    restarted, rpc = ledger_committee(v2_config, me, ledger, duties=duties, kind=Recorded)
    restarted.events = []
    run = loop.start(restarted.run())
    try:
        audited = int(kit.coordinator.getBatch(batch_id).auditMask) & 1
        revealed = vector_hash([GOOD if audited else ABSTAIN])
        wait_for(
            lambda: bytes(kit.vote_of(batch_id, me.address)) == revealed, 30, "the saved reveal"
        )
        backlog = {b for b in range(batch_id + 1, batch_id + 4)}
        wait_for(
            lambda: backlog <= {b for kind, b, _ in restarted.events if kind == "duty"},
            30,
            "the backlog's duties",
        )
        events = list(restarted.events)
        reveal_at = next(i for i, (kind, b, _) in enumerate(events) if kind == "reveal")
        assert events[reveal_at][1] == batch_id
        first_backlog = min(
            i for i, (kind, b, _) in enumerate(events) if kind == "duty" and b in backlog
        )
        # before: every duty of the first read started at once, the saved seat's among them
        assert reveal_at < first_backlog, events
        assert seat_key(batch_id) not in duties.undone("seat:")  # marked revealed
    finally:
        run.cancel()
        loop.run(restarted.close())
        loop.run(rpc.aclose())
        ledger.close()


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
    restarted, rpc = ledger_committee(v2_config, me, ledger, duties=duties, kind=Recorded)
    restarted.events = []
    run = loop.start(restarted.run())
    try:
        backlog = {b for b in range(posted.batch_id + 1, posted.batch_id + 4)}
        wait_for(
            lambda: backlog <= {b for kind, b, _ in restarted.events if kind == "duty"},
            20,
            "the backlog's duties before the hold ends",
        )
        assert kit.coordinator.phaseOf(posted.batch_id) == PH_COMMIT
        assert duties.undone("seat:")[0] == seat_key(posted.batch_id)  # not revealed
    finally:
        run.cancel()
        loop.run(restarted.close())
        loop.run(rpc.aclose())
        ledger.close()


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
    for other in others:
        kit.commit(posted.batch_id, other, [GOOD])
    if kit.coordinator.phaseOf(posted.batch_id) == PH_COMMIT:
        chain.mine(deltatime=int(kit.params.commit_window) + 1)
    ledger = _ledger(tmp_path / "attested-2.sqlite", kit, tickets)
    restarted, rpc = ledger_committee(v2_config, me, ledger, duties=duties, kind=RevealHeld)
    restarted.events = []
    started = time.monotonic()
    run = loop.start(restarted.run())
    try:
        backlog = {b for b in range(posted.batch_id + 1, posted.batch_id + 4)}
        wait_for(
            lambda: backlog <= {b for kind, b, _ in restarted.events if kind == "duty"},
            30,
            "the backlog's duties after the hold",
        )
        entered = [at for kind, b, at in restarted.events if kind == "duty" and b in backlog]
        # held to the end of the hold (2 s after the log loop started), let go without the reveal
        assert min(entered) >= restarted._hold_until - 0.05 > started
        assert duties.undone("seat:")[0] == seat_key(posted.batch_id)  # not revealed
    finally:
        run.cancel()
        loop.run(restarted.close())
        loop.run(rpc.aclose())
        ledger.close()
