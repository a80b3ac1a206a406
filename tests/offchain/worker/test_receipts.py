"""The per-request path's receipts (``ReceiptBatcher``) on a real anvil mining a block a second:
with the process's heads pushed, the pending receipts are read once per new block, not every
20 ms, and each receipt still comes back in the block that mined it."""

from __future__ import annotations

import asyncio
from typing import Any

from ape.api import AccountAPI

from peerhost.chain import ChainConfig, ChainUnavailable, RpcClient
from peerhost.chain.heads import HeadWatcher
from peerhost.chain.sender import TxSender
from peerhost.worker.receipts import ReceiptBatcher


async def _subscribed(heads: HeadWatcher) -> None:
    """Starts ``heads`` and gives its subscription up to 2.5 s to be live."""
    await heads.latest()
    for _ in range(50):
        if heads.live:
            return
        await asyncio.sleep(0.05)


def test_wait__heads_pushed__receipts_read_once_per_block_and_seen_in_their_block(
    chain_config: ChainConfig, stranger: AccountAPI
) -> None:
    async def run() -> tuple[list[int], list[int], list[int], bool]:
        rpc = RpcClient(chain_config.rpc_url)
        sender = TxSender(rpc, stranger.private_key, chain_config.chain_id)
        heads = HeadWatcher(rpc, chain_config.ws_url)
        batcher = ReceiptBatcher(rpc, heads=heads)
        await rpc.call("evm_setAutomine", [False])
        await rpc.call("evm_setIntervalMining", [1])
        reads, blocks, heads_then = [], [], []
        try:
            await _subscribed(heads)
            live = heads.live
            for _ in range(4):
                txs = [await sender.send(stranger.address, b"", gas=21_000) for _ in range(2)]
                before = batcher.reads
                receipts = await asyncio.gather(*(batcher.wait(tx, 30.0) for tx in txs))
                heads_then.append(int(await rpc.call("eth_blockNumber"), 16))
                reads.append(batcher.reads - before)
                blocks.append(max(int(str(r["blockNumber"]), 16) for r in receipts))
        finally:
            await rpc.call("evm_setIntervalMining", [0])
            await rpc.call("evm_setAutomine", [True])
            await batcher.aclose()
            await heads.aclose()
            await rpc.aclose()
        return reads, blocks, heads_then, live

    reads, blocks, heads_then, live = asyncio.run(run())
    assert live
    assert blocks == heads_then, "a receipt came back only after a later block"
    # before: a read every 20 ms, about 25 for the half block a wait lasts on average
    assert max(reads) <= 3, reads


class _HeadReadFailsOnce(RpcClient):
    """The heads' own client: its next head read, once armed, fails as a node's 503 would."""

    armed = False

    async def call(self, method: str, params: list[Any] | None = None) -> Any:
        if self.armed and method == "eth_getBlockByNumber":
            self.armed = False
            raise ChainUnavailable(self.url, "HTTP 503")
        return await super().call(method, params)


def test_wait__a_head_read_fails_between_reads__receipt_still_seen_once_mined(
    chain_config: ChainConfig, stranger: AccountAPI
) -> None:
    async def run() -> tuple[int, bool]:
        rpc = RpcClient(chain_config.rpc_url)
        heads_rpc = _HeadReadFailsOnce(chain_config.rpc_url)
        sender = TxSender(rpc, stranger.private_key, chain_config.chain_id)
        heads = HeadWatcher(heads_rpc, chain_config.ws_url, quiet=0.3)
        batcher = ReceiptBatcher(rpc, heads=heads, idle=0.5)
        await rpc.call("evm_setAutomine", [False])
        try:
            await _subscribed(heads)
            tx = await sender.send(stranger.address, b"", gas=21_000)  # pending: no block mines it
            heads_rpc.armed = True
            waiting = asyncio.create_task(batcher.wait(tx, 20.0))
            for _ in range(100):  # the quiet subscription makes the batcher read the head: it fails
                if not heads_rpc.armed:
                    break
                await asyncio.sleep(0.05)
            failed = not heads_rpc.armed
            await asyncio.sleep(1.0)
            await rpc.call("evm_mine")
            receipt = await asyncio.wait_for(waiting, 10.0)
        finally:
            await rpc.call("evm_setAutomine", [True])
            await batcher.aclose()
            await heads.aclose()
            await heads_rpc.aclose()
            await rpc.aclose()
        return int(str(receipt["status"]), 16), failed

    status, failed = asyncio.run(run())
    assert failed, "the armed head read never happened"
    assert status == 1
