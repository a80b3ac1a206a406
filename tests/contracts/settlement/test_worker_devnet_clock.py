"""On a devnet that mines only on transactions a worker mines a block when the chain's clock ran
past its head's, so windows that end by time end. Judged by the worker's own clock, a chain whose
clock lags it (anvil's after a reorg, for good: 8-16 s) was mined on every pass of every duty:
hundreds of empty blocks a minute, the workers' own transactions waited seconds each, and tier
votes landed past their deadline (honest voters slashed as no-shows in a fault run). Real anvil,
the worker's own duties."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.committee import _REVEAL

from .worker_harness import ThreadLoop, accountability_of, ledger_committee

#: Seconds the chain's clock is set behind the worker's.
LAG = 10


@pytest.fixture
def lagging(ready: Any) -> Iterator[Any]:
    """The kit's chain with its clock ``LAG`` s behind the wall clock (a block mined at it)."""
    ready.request("evm_setTime", [int(time.time()) - LAG])
    ready.chain.mine()
    yield ready
    ready.clock_on_the_wall()


def _head(kit: Any) -> tuple[int, int]:
    block = kit.chain.blocks.head
    return int(block.number), int(block.timestamp)


def test_fresh_clock__chain_behind_the_wall__mines_only_when_its_own_clock_moved(
    lagging: Any, v2_config: ChainConfig, workers: list[Any], loop: ThreadLoop
) -> None:
    kit = lagging
    rpc, duties = accountability_of(v2_config, workers[0], None, None, mine_blocks=True)
    try:
        start, stamp = _head(kit)
        assert stamp < time.time() - LAG / 2, "the chain's clock is not behind"
        for _ in range(10):  # ten passes of the duties within a second of the head
            loop.run(duties._fresh_clock())
        assert _head(kit)[0] - start <= 1, "blocks mined for the worker's clock, not the chain's"
        time.sleep(2.2)  # the chain's own clock runs on past its head's: a window may end
        before = _head(kit)[0]
        loop.run(duties._fresh_clock())
        assert _head(kit)[0] == before + 1
    finally:
        loop.run(duties.close())
        loop.run(rpc.aclose())


def test_end_reveal_window__chain_behind_the_wall__mined_once_its_clock_passed_the_deadline(
    lagging: Any, v2_config: ChainConfig, workers: list[Any], loop: ThreadLoop, tmp_path: Path
) -> None:
    kit = lagging
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    committee, rpc = ledger_committee(v2_config, workers[0], ledger, mine_blocks=True)
    try:
        start, stamp = _head(kit)
        record = {"revealDeadline": stamp}  # past by the wall clock, not by the chain's
        for _ in range(10):
            loop.run(committee._end_reveal_window(_REVEAL, record))
        assert _head(kit)[0] - start <= 1, "blocks mined for the worker's clock, not the chain's"
        time.sleep(2.2)  # the chain's clock passes the deadline (on a loaded machine it may have
        for _ in range(5):  # in the rounds above: then that block was the one)
            loop.run(committee._end_reveal_window(_REVEAL, record))
        # one block in all, mined once the chain's own clock passed the deadline (before: at
        # once, at the chain's clock then, a second or less past the head)
        assert _head(kit)[0] == start + 1
        assert _head(kit)[1] >= stamp + 2
    finally:
        loop.run(committee.close())
        loop.run(rpc.aclose())
        ledger.close()


def test_end_reveal_window__holder_rounds__chain_clock_read_once_until_the_deadline(
    ready: Any, v2_config: ChainConfig, workers: list[Any], loop: ThreadLoop, tmp_path: Path
) -> None:
    """A holder's duty rounds every ``poll`` through its batch's reveal window: the chain's clock
    is read once, then again only when it may have passed the deadline (before: two calls each
    round, for each holder of each batch in its reveal phase)."""
    kit = ready
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    committee, rpc = ledger_committee(v2_config, workers[0], ledger, mine_blocks=True)
    try:
        start, _ = _head(kit)
        # 3 s ahead of the chain's clock (the block it would mine next: not the head's time, as
        # the chain's clock may run behind its head after the suite's snapshots)
        pending = kit.now()
        record = {"revealDeadline": pending + 3}
        clock_read: dict[int, float] = {}
        calls = sum(rpc.calls.values())
        for _ in range(10):
            loop.run(committee._end_reveal_window(_REVEAL, record, clock_read))
        assert sum(rpc.calls.values()) - calls <= 2 * 2, "the clock read at every round"
        assert _head(kit)[0] == start
        time.sleep(6.0)  # the chain's clock passes the deadline (whole seconds: past it by 2)
        for _ in range(5):
            loop.run(committee._end_reveal_window(_REVEAL, record, clock_read))
        assert _head(kit)[0] == start + 1  # mined once, then the head is past the deadline
        assert _head(kit)[1] > pending + 3
    finally:
        loop.run(committee.close())
        loop.run(rpc.aclose())
        ledger.close()
