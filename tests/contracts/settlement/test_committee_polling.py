"""The committee's follow-up loop waits for the next head (pushed by anvil over ``newHeads``) and
reads nothing while no block arrives but a head now and then; a new block (a batch posted) is
read with one ``eth_getLogs`` and acted on; a reorg that replaces the head's block at the same
height is read again (``test_worker_reorg`` has the post found on the new branch)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from peerhost.chain.config import ChainConfig
from peerhost.worker.attested import AttestedLedger

from .worker_harness import ThreadLoop, ledger_committee, wait_for


def test_committee_loop__no_new_block_then_a_post__reads_logs_only_for_the_new_block(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    kit = ready
    worker = next(iter(accounts_by_address.values()))
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    committee, rpc = ledger_committee(v2_config, worker, ledger, poll=0.05)
    running = loop.start(committee.run())
    try:
        head = int(chain.blocks.head.number)
        wait_for(
            lambda: bool(committee._checkpoints) and committee._checkpoints[-1][0] >= head,
            30,
            "the committee reading up to the head",
        )
        logs, heads = rpc.calls["eth_getLogs"], rpc.calls["eth_getBlockByNumber"]
        numbers = rpc.calls["eth_blockNumber"]
        time.sleep(3.0)  # a dozen ticks of the old loop on one head
        assert int(chain.blocks.head.number) == head, "a block came meanwhile: nothing shown"
        assert rpc.calls["eth_getBlockByNumber"] - heads <= 2, "the head read every tick"
        assert rpc.calls["eth_getLogs"] == logs, "logs read again with no new block"
        assert rpc.calls["eth_blockNumber"] == numbers, "the head read twice per tick"

        batch_id = kit.post(2).batch_id
        wait_for(lambda: batch_id in committee.tasks, 30, "the duty of the batch just posted")
        assert rpc.calls["eth_getLogs"] > logs

        # a reorg replacing the head's block (same height, new hash) is read again
        reorgs, read_to = committee.reorgs, committee._checkpoints[-1]
        chain.provider.make_request("anvil_reorg", [1, []])
        wait_for(lambda: committee.reorgs > reorgs, 30, "the reorg seen")
        wait_for(
            lambda: (
                committee._checkpoints[-1][0] >= read_to[0]
                and committee._checkpoints[-1] != read_to
            ),
            30,
            "the new branch's head read",
        )
    finally:
        running.cancel()
        time.sleep(0.1)
        loop.run(committee.close())
        loop.run(rpc.aclose())
        ledger.close()


def test_committee_duties__batches_in_flight_no_new_block__read_no_batch_per_tick(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    """Every duty derives its batch's phase from the record the book keeps and the head the log
    loop read: with three batches waiting for their seed block and no block mined, a tick reads
    the head once and no batch (before: ``phaseOf``, ``getBatch`` and ``eth_blockNumber`` per
    batch per tick)."""
    kit = ready
    with three_batches_waiting(kit, v2_config, accounts_by_address, tmp_path, loop, 0.05) as (
        committee,
        rpc,
        batches,
    ):
        wait_for(lambda: committee.book.reads >= 3, 30, "each batch read once")
        time.sleep(0.5)  # the duties settle into waiting for the seed block
        assert int(chain.blocks.head.number) < min(
            int(kit.coordinator.getBatch(b).seedBlock) for b in batches
        ), "seed blocks reached: the duties would draw seats"
        calls, numbers = rpc.calls["eth_call"], rpc.calls["eth_blockNumber"]
        heads, reads = rpc.calls["eth_getBlockByNumber"], committee.book.reads
        time.sleep(3.0)  # sixty ticks of the duties, no block
        assert rpc.calls["eth_getBlockByNumber"] - heads <= 2  # (the subscription's quiet reads)
        assert committee.book.reads == reads, "a batch read again with no new block"
        # no view at all: none per batch (before: phaseOf and getBatch of each batch every tick,
        # 120 here), and the credits are read every 30 s (before: three views every 2 s)
        assert rpc.calls["eth_call"] == calls
        assert rpc.calls["eth_blockNumber"] == numbers

        # a batch's leaves come from the post transaction the log loop saw: no log scan
        logs = rpc.calls["eth_getLogs"]
        for b in batches:
            _, leaves = loop.run(committee.leaves_of(b))
            assert len(leaves) == 1
        assert rpc.calls["eth_getLogs"] == logs

        kit.chain.mine(1)  # a block without events for these batches: no batch read
        wait_for(lambda: committee._checkpoints[-1][0] >= int(chain.blocks.head.number), 30, "")
        time.sleep(0.3)
        assert committee.book.reads == reads


def test_committee_idle__batches_in_flight__one_call_per_block_none_between(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    """Three batches waiting for their seed block: while no block comes, the worker makes at most
    one head read per ``quiet`` seconds (the subscription pushes heads); a block costs one
    ``eth_getLogs`` (the settlement's and the courts' events, by the block's hash) and nothing else.
    Before: the head every tick (4 a second at the default tick), a block's logs read twice
    (the courts' apart) and its hash once more, the credits' three views every 2 s."""
    kit = ready
    with three_batches_waiting(kit, v2_config, accounts_by_address, tmp_path, loop, 0.25) as (
        committee,
        rpc,
        batches,
    ):
        wait_for(lambda: committee.heads.live, 30, "the head subscription")
        time.sleep(1.0)  # the duties settle into waiting for the seed block
        seeds = min(int(kit.coordinator.getBatch(b).seedBlock) for b in batches)
        assert int(chain.blocks.head.number) + 1 < seeds, "seed blocks too close: seats drawn"
        before = sum(rpc.calls.values())
        time.sleep(4.0)
        quiet = sum(rpc.calls.values()) - before
        assert quiet <= 3, f"{quiet} calls in 4 s without a block: {dict(rpc.calls)}"

        calls = dict(rpc.calls)
        kit.chain.mine(1)  # a block before the seed blocks
        head = int(chain.blocks.head.number)
        wait_for(lambda: committee._checkpoints[-1][0] >= head, 30, "the block read")
        time.sleep(0.3)
        spent = {m: n - calls.get(m, 0) for m, n in rpc.calls.items() if n > calls.get(m, 0)}
        assert spent.get("eth_getLogs") == 1, spent
        assert sum(spent.values()) <= 2, f"a block cost {spent}"  # (maybe a quiet head read)


@contextmanager
def three_batches_waiting(
    kit: Any,
    config: ChainConfig,
    accounts_by_address: dict[str, Any],
    tmp_path: Path,
    loop: ThreadLoop,
    poll: float,
) -> Iterator[tuple[Any, Any, list[int]]]:
    """A worker's committee running with three one-leaf batches posted and their duties started
    (the committee, its RPC client with per-method counts, the batch ids); stopped afterwards."""
    worker = next(iter(accounts_by_address.values()))
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    committee, rpc = ledger_committee(config, worker, ledger, poll=poll)
    batches = [kit.post(1).batch_id for _ in range(3)]
    running = loop.start(committee.run())
    try:
        wait_for(lambda: set(batches) <= set(committee.tasks), 30, "the three duties")
        yield committee, rpc, batches
    finally:
        running.cancel()
        time.sleep(0.1)
        loop.run(committee.close())
        loop.run(rpc.aclose())
        ledger.close()


def test_committee_leaves__a_posts_transaction_read_once_per_batch(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    tmp_path: Path,
    loop: ThreadLoop,
) -> None:
    """A batch's leaves come from its post's calldata: the transaction is read once (it was read
    twice: once to see the node shows it, again to decode it), and never again for that batch."""
    with three_batches_waiting(ready, v2_config, accounts_by_address, tmp_path, loop, 0.05) as (
        committee,
        rpc,
        batches,
    ):
        for batch_id in batches * 2:
            gateway, leaves = loop.run(committee.leaves_of(batch_id))
            assert len(leaves) == 1 and gateway
        assert rpc.calls["eth_getTransactionByHash"] == len(batches), rpc.calls
