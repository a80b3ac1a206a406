"""The worker node's one head watcher, on a real anvil with the real contracts and a real node.

:class:`~peerhost.worker.node.WorkerNode` builds one :class:`~peerhost.chain.heads.HeadWatcher`
and lends it to everything that follows heads: the committee (and through it the courts' cases),
the ``TxSender``, the per-request path's ``ReceiptBatcher``, discovery, the settlement view's kept
holder lists, the clock and the settlement metrics. A part that built its own watcher would hold a
second ``newHeads`` subscription; one that polled would read the head several times a block. The
node's WebSocket goes through a relay that counts its ``eth_subscribe`` requests; its JSON-RPC
calls are its own client's counters (``RpcClient.calls``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from ape.api import AccountAPI

from peerhost.chain.config import ChainConfig, ws_url_for
from peerhost.deploy import ETHER
from peerhost.worker.node import WorkerNode
from peerhost.worker.settings import WorkerSettings

from .worker_harness import ThreadLoop, key_of, wait_for

#: Blocks mined a second apart while the idle node's calls are counted (three folds of the
#: settlement metrics, every 5 s).
BLOCKS = 15
#: JSON-RPC calls per block an idle node may make on 1 s blocks. Measured 2.3-2.7 a second per
#: worker (the committee's ``eth_getLogs`` per block, discovery's per poll); one more part polling
#: the head (a watcher of its own without a subscription: four reads a second) exceeds it.
CALLS_PER_BLOCK = 4.0
#: Head reads (``eth_getBlockByNumber``, ``eth_blockNumber``) in the whole run while heads are
#: pushed: none was measured (the watcher reads one only when its subscription is quiet for 2 s,
#: allowed once); the metrics or the clock reading the head themselves make one every 5 s.
HEAD_READS = 1


class SubscribeCounter:
    """A WebSocket relay in front of the node's WebSocket that counts each ``eth_subscribe`` by
    kind (``newHeads``, ``logs``) on its own event loop."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.subscribed: Counter[str] = Counter()
        self.loop = ThreadLoop()
        self.server: Any = self.loop.run(self._serve())
        port = int(self.server.sockets[0].getsockname()[1])
        self.url = f"ws://127.0.0.1:{port}"

    async def _serve(self) -> Any:
        return await websockets.serve(self._relay, "127.0.0.1", 0, max_size=2**22)

    async def _relay(self, client: Any) -> None:
        async with websockets.connect(self.upstream, max_size=2**22) as node:

            async def up() -> None:
                async for message in client:
                    request = json.loads(message)
                    if request.get("method") == "eth_subscribe":
                        self.subscribed[str(request["params"][0])] += 1
                    await node.send(message)

            async def down() -> None:
                async for message in node:
                    await client.send(message)

            pumps = [asyncio.create_task(up()), asyncio.create_task(down())]
            with contextlib.suppress(websockets.ConnectionClosed):
                await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            for pump in pumps:
                pump.cancel()

    def close(self) -> None:
        self.server.close()
        self.loop.run(self.server.wait_closed())
        self.loop.close()


@pytest.fixture
def relay(v2_config: ChainConfig) -> Iterator[SubscribeCounter]:
    counter = SubscribeCounter(ws_url_for(v2_config.rpc_url))
    yield counter
    counter.close()


@pytest.fixture
def node(
    v2_config: ChainConfig,
    workers: list[AccountAPI],
    relay: SubscribeCounter,
    compiled_modules: Path,
    tmp_path: Path,
    loop: ThreadLoop,
) -> Iterator[WorkerNode]:
    """A real worker node (staked, settlement duties, discovery every second) on its own event
    loop, its WebSocket through ``relay``; ready (caught up) when yielded, stopped after."""
    settings = WorkerSettings(
        data_dir=tmp_path / "worker",
        store=f"local:{tmp_path / 'store'}",
        sandbox_cache=compiled_modules,
        sandbox_processes=0,
        ws_url=relay.url,
        stake=2 * ETHER,
        metrics_port=0,
        discover=True,
        discovery_interval=1.0,
        shutdown_timeout=5.0,
        ready_file=tmp_path / "ready.json",
    )
    worker = WorkerNode(v2_config, key_of(workers[3]), settings)
    running = loop.start(worker.run())
    try:
        assert settings.ready_file is not None
        ready_file = settings.ready_file
        wait_for(lambda: ready_file.exists() or running.done(), 120, "the node ready")
        if running.done():
            running.result()  # what stopped it
        yield worker
    finally:
        loop.loop.call_soon_threadsafe(worker.stop)
        running.result(60)


def test_node__started__every_part_that_follows_heads_holds_the_nodes_watcher(
    node: WorkerNode,
) -> None:
    heads = node.heads
    committee = node.committee
    assert committee.heads is heads, "the committee's log loop"
    assert committee.accountability.heads is heads, "the courts' cases"
    assert node.protocol.sender.heads is heads, "the TxSender"
    assert node.settlement.sender is node.protocol.sender, "the settlement view's sender"
    assert node.ops.receipts.heads is heads, "the per-request path's ReceiptBatcher"
    assert node.discovery is not None and node.discovery.heads is heads, "discovery"
    view = node.settlement
    assert view._heads is heads, "the kept holder lists (SettlementView.keep_holders)"
    assert view._holders.clear in heads.on_break, "the holder lists dropped on a reorg"


def test_node__idle_on_1s_blocks__one_newheads_subscription_and_no_head_polling(
    node: WorkerNode, relay: SubscribeCounter, chain: Any
) -> None:
    wait_for(lambda: node.heads.live, 30, "the node's head subscription")
    rpc = node.protocol.rpc
    pushed, before = node.heads.pushed, dict(rpc.calls)
    for _ in range(BLOCKS):  # the clock and the settlement metrics follow pushed heads too
        chain.mine(1)
        time.sleep(1.0)
    spent = {m: n - before.get(m, 0) for m, n in rpc.calls.items() if n > before.get(m, 0)}
    head_reads = spent.get("eth_getBlockByNumber", 0) + spent.get("eth_blockNumber", 0)

    assert relay.subscribed["newHeads"] == 1, relay.subscribed
    assert node.heads.pushed - pushed >= BLOCKS - 1, "heads pushed, not read"
    assert sum(spent.values()) <= CALLS_PER_BLOCK * BLOCKS, spent
    assert head_reads <= HEAD_READS, spent
