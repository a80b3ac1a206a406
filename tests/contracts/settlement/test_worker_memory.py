"""A worker follows every batch posted, for as long as it runs: what it keeps of a batch whose
duty ended must go, or its memory grows with every batch (a batch a block: tens of thousands a
day, each with its duty's task, its post and its leaves). The committee forgets a batch once its
duty ended and its post is older than every head it remembers (no reorg it follows can bring the
post back); the accountability duty keeps no wake-up event for a batch nobody waits on."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from peerhost.chain.config import ChainConfig
from peerhost.worker.attested import AttestedLedger

from .worker_harness import ThreadLoop, accountability_of, ledger_committee


def test_committee__ended_duty_of_a_post_older_than_every_head__forgotten(
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    worker = next(iter(accounts_by_address.values()))
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    committee, rpc = ledger_committee(v2_config, worker, ledger)

    async def tasks() -> tuple[asyncio.Task[None], asyncio.Task[None], asyncio.Task[None]]:
        ended = asyncio.create_task(asyncio.sleep(0))
        ended_recent = asyncio.create_task(asyncio.sleep(0))
        running = asyncio.create_task(asyncio.sleep(3600))
        await asyncio.gather(ended, ended_recent)
        return ended, ended_recent, running

    ended, ended_recent, running = loop.run(tasks())
    try:
        # batch 1: ended, posted in block 10; 2: running, block 10; 3: ended, block 80
        committee.tasks.update({1: ended, 2: running, 3: ended_recent})
        committee._posted_in.update({1: ("0x01", 10), 2: ("0x02", 10), 3: ("0x03", 80)})
        for batch_id in (1, 2, 3):
            committee._batches[batch_id] = ("0x" + "11" * 20, [])
            committee._post_raw[batch_id] = {"blockNumber": hex(committee._posted_in[batch_id][1])}
        committee._settled_in[3] = 90
        committee._checkpoints.extend((n, f"0x{n:064x}") for n in range(50, 114))
        committee._forget_ended()
        assert set(committee.tasks) == {2, 3}
        assert set(committee._posted_in) == {2, 3}
        assert set(committee._batches) == {2, 3}
        assert set(committee._post_raw) == {2, 3}
        committee._checkpoints.extend((n, f"0x{n:064x}") for n in range(114, 200))  # 136-199
        committee._forget_ended()
        # batch 3's post is now older than every head: forgotten but its post, kept while a reorg
        # may take its settlement (block 90) away (pruned with it by the settlement's own rule)
        assert set(committee.tasks) == {2} and set(committee._posted_in) == {2}
        assert set(committee._batches) == {2}
        assert set(committee._post_raw) == {2, 3}
    finally:
        loop.run(committee.close())  # cancels the running duty
        loop.run(rpc.aclose())
        ledger.close()


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
