"""A tier-3 case on the test chain for one voter's duty to drive: the case in tier 3's commit
phase, the voter's status read from the court, the chain's clock moved to the reveal phase and
a block mined every second while the voter reveals."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from peerhost.wire.batch import Leaf
from peerhost.wire.disputes import TIER_ALL

from .conftest import GOOD
from .courtkit import CP_COMMIT, CP_DECIDE, CP_DECIDED, CP_REVEAL, Court
from .worker_harness import wait_for


def tier3_case(k: Any, accounts_by_address: dict[str, Any]) -> tuple[Any, int, Any, Any, Any]:
    """(court, batch, a tier-3 voter's account, leaves_of, leaf_result) of a case in tier 3's
    commit phase the voter has not voted in."""
    court = Court(k, accounts_by_address)
    posted, b = court.escalated_leaf()
    panel = court.seat_panel(b, 0)
    court.vote(b, 0, lambda w: GOOD)  # tier 2 decides GOOD
    assert court.phase(b, 0) == CP_DECIDED
    stakes, epoch = k.s.stakes, int(court.case(b, 0).epoch)
    members = [
        str(stakes.entryAt(epoch, j)[0]) for j in range(int(stakes.epochInfo(epoch).members))
    ]
    # every member votes in tier 3 (a tier-2 seat too): one off the panel when there is one
    me_address = next((w for w in members if w not in panel), members[0])
    me = accounts_by_address[me_address]
    challenger = next(a for x, a in accounts_by_address.items() if x in members and x != me_address)
    court.challenge(b, 0, challenger)
    assert int(court.case(b, 0).tier) == TIER_ALL and court.phase(b, 0) == CP_COMMIT

    async def leaves_of(batch_id: int) -> tuple[str, list[Leaf]]:
        return str(k.gateway.address), [Leaf.of(t) for t in posted.tickets]

    async def leaf_result(batch_id: int, index: int) -> bytes:
        return GOOD

    return court, b, me, leaves_of, leaf_result


def status_of(court: Any, b: int, address: str) -> Callable[[], int]:
    """The voter's tier-3 status (0 none, 1 committed, 2 revealed), read from the court."""

    def status() -> int:
        voters = court.c.votersOf(b, 0, TIER_ALL)
        return next((int(v.status) for v in voters if str(v.worker) == address), 0)

    return status


def to_reveal_phase(k: Any, court: Any, b: int, status: Callable[[], int]) -> None:
    """One block at the case's commit deadline, to the second: its reveal phase (a jump of a
    whole window from a loaded machine's clock could pass the reveal window too). The voter may
    reveal at once, before the phase is read: its reveal, the only one, ends the phase early."""
    k.request("evm_mine", [int(court.case(b, 0).commitDeadline)])
    phase = court.phase(b, 0)
    assert phase == CP_REVEAL or (phase == CP_DECIDE and status() == 2), phase


def revealed_in_window(k: Any, court: Any, status: Callable[[], int]) -> None:
    """Waits for the voter's reveal within the reveal window, a block mined every second (each
    moves the chain's clock 1 s, not the whole window at once)."""
    mined = [time.monotonic()]

    def revealed() -> bool:
        if time.monotonic() - mined[0] >= 1.0:
            k.chain.mine(1)
            mined[0] = time.monotonic()
        return status() == 2

    wait_for(revealed, min(20, int(court.params.revealWindow) - 2), "the voter's reveal")


def decided_case(k: Any, accounts_by_address: dict[str, Any]) -> tuple[Court, Any, int, str, Any]:
    """(court, posted, batch id, a member's address, another member) of a leaf escalated and
    decided GOOD at tier 2; the member is off the panel when the draw left one (every member
    votes in tier 3, a tier-2 seat too)."""
    court = Court(k, accounts_by_address)
    posted, b = court.escalated_leaf()
    panel = court.seat_panel(b, 0)
    court.vote(b, 0, lambda w: GOOD)  # tier 2 decides GOOD
    assert court.phase(b, 0) == CP_DECIDED
    active = court._eligible(b, 0)
    stakes, epoch = k.s.stakes, int(court.case(b, 0).epoch)
    members = [
        str(stakes.entryAt(epoch, j)[0]) for j in range(int(stakes.epochInfo(epoch).members))
    ]
    me_address = next((w for w in members if w not in panel and w not in active), members[0])
    challenger = next(a for x, a in accounts_by_address.items() if x in members and x != me_address)
    return court, posted, b, me_address, challenger
