"""The committee's follow-up loop reads the head once per tick and nothing more while no block
arrives; a new block (a batch posted) is read and acted on; a reorg that replaces the head's
block at the same height is read again (``test_worker_reorg`` has the post found on the new
branch)."""

from __future__ import annotations

import time
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
        wait_for(
            lambda: rpc.calls["eth_getBlockByNumber"] >= heads + 10, 30, "ten ticks on one head"
        )
        assert int(chain.blocks.head.number) == head, "a block came meanwhile: nothing shown"
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
