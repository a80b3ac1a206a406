"""A worker follows every batch posted, for as long as it runs: what it keeps of a batch whose
duty ended must go, or its memory grows with every batch (a batch a block: tens of thousands a
day, each with its duty's task, its post and its leaves). The committee forgets a batch once its
duty ended and its post is older than every head it remembers (no reorg it follows can bring the
post back); the accountability duty keeps no wake-up event for a batch nobody waits on."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.committee import Committee

from .worker_harness import ThreadLoop, accountability_of, ledger_committee


@pytest.fixture
def committee(
    v2_config: ChainConfig, accounts_by_address: dict[str, Any], loop: ThreadLoop, tmp_path: Path
) -> Iterator[Committee]:
    """A worker's committee on the test chain whose log loop does not run: the test sets what it
    would have read."""
    worker = next(iter(accounts_by_address.values()))
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    made, rpc = ledger_committee(v2_config, worker, ledger)
    yield made
    loop.run(made.close())  # cancels the duties left running
    loop.run(rpc.aclose())
    ledger.close()


def test_committee__ended_duty_of_a_post_older_than_every_head__forgotten(
    committee: Committee, loop: ThreadLoop
) -> None:
    async def tasks() -> list[asyncio.Task[None]]:
        made = [asyncio.create_task(asyncio.sleep(0)) for _ in range(3)]
        await asyncio.gather(*made)
        return [*made, asyncio.create_task(asyncio.sleep(3600))]

    ended, ended_recent, ended_unseen, running = loop.run(tasks())
    # batch 1: ended, posted in block 10; 2: running, block 10; 3: ended, block 80; 4: done,
    # block 10, but its duty's end (the task's callback, a turn later) not run yet
    committee.tasks.update({1: ended, 2: running, 3: ended_recent, 4: ended_unseen})
    posts = {1: 10, 2: 10, 3: 80, 4: 10}
    for batch_id, number in posts.items():
        committee._posted_in[batch_id] = (f"0x{batch_id:064x}", number)
        committee._batches[batch_id] = ("0x" + "11" * 20, [])
        committee._post_raw[batch_id] = {"blockNumber": hex(number)}
        committee._past_seats.add(batch_id)
        committee._input_by[batch_id] = (0.0, 0.0)
    committee._ended.update({1, 3})
    committee._settled_in[3] = 90
    committee._checkpoints.extend((n, f"0x{n:064x}") for n in range(50, 114))
    committee._forget_ended()
    kept = {2, 3, 4}
    assert set(committee.tasks) == kept and set(committee._posted_in) == kept
    assert set(committee._batches) == kept and set(committee._post_raw) == kept
    assert committee._past_seats == kept and set(committee._input_by) == kept
    committee._checkpoints.extend((n, f"0x{n:064x}") for n in range(114, 200))  # 136-199
    committee._ended.add(4)  # its duty's end ran
    committee._forget_ended()
    # batch 3's post is now older than every head: forgotten but its post, kept while a reorg
    # may take its settlement (block 90) away (pruned with it by the settlement's own rule)
    assert set(committee.tasks) == {2} and set(committee._posted_in) == {2}
    assert set(committee._batches) == {2} and committee._past_seats == {2}
    assert set(committee._post_raw) == {2, 3}
    assert committee._ended == set()


def test_committee__duty_started_again_from_its_post__the_post_noted(
    committee: Committee, loop: ThreadLoop
) -> None:
    """A duty started again from its post (a reorg took the batch's settlement away:
    ``_unsettled``) notes the post it serves, as a duty started by the post does: without it the
    duty was never forgotten, and the same batch posted in another block did not start it again."""
    raw = {
        "blockHash": "0x" + "ab" * 32,
        "blockNumber": hex(7),
        "transactionHash": "0x" + "cd" * 32,
    }

    async def again() -> None:
        committee._ended.add(999)  # its first duty had ended
        committee._restart(999, raw)

    loop.run(again())
    assert committee._posted_in[999] == ("0x" + "ab" * 32, 7)
    assert 999 not in committee._ended


def test_accountability__batch_settled_nobody_waits__nothing_kept_a_waiter_woken(
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    worker = next(iter(accounts_by_address.values()))
    rpc, accountability = accountability_of(v2_config, worker, dict, None)
    try:
        for batch_id in range(1, 101):
            accountability.settled(batch_id)
        assert accountability._settled == {}

        phases = iter([3, 5])  # Reveal, then Finalized once woken

        async def phase_of(batch_id: int) -> int:
            return next(phases)

        async def batch_of(batch_id: int) -> dict[str, Any]:
            return {"id": batch_id}

        accountability._phase_of, accountability._batch_of = phase_of, batch_of

        async def wait_and_settle() -> dict[str, Any] | None:
            waiting = asyncio.create_task(accountability._await_finalized(7))
            while 7 not in accountability._settled:
                await asyncio.sleep(0.01)
            accountability.settled(7)
            # woken at once, not by its recheck of the phase (every _SETTLE_RECHECK, 5 s)
            return await asyncio.wait_for(waiting, 3)

        assert loop.run(wait_and_settle()) == {"id": 7}
        assert accountability._settled == {}
    finally:
        loop.run(rpc.aclose())
