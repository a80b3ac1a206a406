"""The worker's settlement metrics on a real chain: the blocks since the last fold are read with
one ``eth_getLogs`` (the pay and stake events together), the head comes from the process's head
watcher, and the bonded stake is read again only after an event of the StakeRegistry names the
worker (it was four calls every 5 s: the head, two ``eth_getLogs`` and the stake)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ape.api import AccountAPI

from peerhost.chain import RpcClient
from peerhost.chain.config import ChainConfig
from peerhost.chain.heads import HeadWatcher
from peerhost.chain.settlement import SettlementView
from peerhost.worker.node import WorkerNode
from peerhost.worker.settings import WorkerSettings

from .worker_harness import ThreadLoop, key_of

ETHER = 10**18


def test_settlement_metrics__new_blocks_one_getlogs__stake_read_after_an_event_naming_the_worker(
    ready: Any,
    v2_config: ChainConfig,
    workers: list[AccountAPI],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    kit, worker = ready, workers[0]
    node = WorkerNode(v2_config, key_of(worker), WorkerSettings(data_dir=tmp_path))
    rpc = RpcClient(v2_config.rpc_url)
    node.heads = HeadWatcher(rpc)  # read by polling: one head read per fold at most
    node.settlement = SettlementView(v2_config, rpc, None)
    try:
        cursor = loop.run(node.read_settlement_metrics(0))  # the first fold reads the stake
        stake = node.metrics.bonded_stake_wei
        assert stake == 2 * ETHER

        chain.mine(3)
        time.sleep(0.3)  # older than the watcher's polling freshness: the head is read again
        before = dict(rpc.calls)
        cursor = loop.run(node.read_settlement_metrics(cursor))
        spent = {m: n - before.get(m, 0) for m, n in rpc.calls.items() if n > before.get(m, 0)}
        assert spent.get("eth_getLogs") == 1, spent
        assert "eth_call" not in spent and "eth_blockNumber" not in spent, spent
        assert spent.get("eth_getBlockByNumber", 0) <= 1, spent

        kit.s.stakes.addStake(value=ETHER, sender=worker)  # StakeAdded names the worker
        time.sleep(0.3)
        before = dict(rpc.calls)
        loop.run(node.read_settlement_metrics(cursor))
        spent = {m: n - before.get(m, 0) for m, n in rpc.calls.items() if n > before.get(m, 0)}
        assert node.metrics.bonded_stake_wei == 3 * ETHER
        assert spent.get("eth_getLogs") == 1 and spent.get("eth_call") == 1, spent
    finally:
        loop.run(node.heads.aclose())
        loop.run(rpc.aclose())
        node.state.close()
