"""The per-request path's receipts (``ReceiptBatcher``) on a real anvil mining a block a second:
with the process's heads pushed, the pending receipts are read once per new block, not every
20 ms, and each receipt still comes back in the block that mined it."""

from __future__ import annotations

import asyncio

from ape.api import AccountAPI

from peerhost.chain import ChainConfig, RpcClient
from peerhost.chain.heads import HeadWatcher
from peerhost.chain.sender import TxSender
from peerhost.worker.receipts import ReceiptBatcher


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
            await heads.latest()
            for _ in range(50):
                if heads.live:
                    break
                await asyncio.sleep(0.05)
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
