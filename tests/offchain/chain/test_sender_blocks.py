"""TxSender waits for a receipt around the time the next block is due (``BlockClock``), not every
20 ms between blocks: on a real anvil mining a block a second, a wait polls a handful of times per
block instead of fifty, and every receipt still comes back."""

from __future__ import annotations

import asyncio

from ape.api import AccountAPI

from peerhost.chain import ChainConfig, RpcClient
from peerhost.chain.heads import HeadWatcher
from peerhost.chain.sender import BlockClock, TxSender


def test_block_clock__consecutive_blocks_a_second_apart__polls_only_near_the_next() -> None:
    clock = BlockClock()
    assert clock.pause(0.5, 0.02) == 0.02  # nothing learnt: poll as before
    for block in range(1, 5):
        clock.saw(block, float(block))
    assert clock.interval == 1.0
    assert clock.pause(4.5, 0.02) == 0.25  # mid-block: at most a quarter block
    assert abs(clock.pause(4.8, 0.02) - 0.14) < 1e-9  # until the window before block 5
    assert clock.pause(4.95, 0.02) == 0.02  # block 5 due
    assert clock.pause(5.05, 0.02) == 0.02  # just after it (late)


def test_block_clock__fast_or_irregular_chain__polls_as_before() -> None:
    fast = BlockClock()
    for block in range(1, 6):
        fast.saw(block, block * 0.1)  # ten blocks a second: under ten polls per block
    assert fast.pause(0.55, 0.02) == 0.02
    sparse = BlockClock()
    for block in (1, 10, 19, 28):  # never two blocks seen close together: no interval
        sparse.saw(block, float(block))
    assert sparse.interval is None and sparse.pause(28.5, 0.02) == 0.02


def test_block_clock__blocks_on_demand_minutes_apart__pause_stays_capped() -> None:
    """A chain that makes a block per transaction, the sender's transactions a minute apart: the
    clock learns a minute per block, but no pause between receipt polls exceeds half a second."""
    clock = BlockClock()
    for block in range(1, 5):
        clock.saw(block, 60.0 * block)
    assert clock.interval == 60.0
    assert clock.pause(240.0 + 20.0, 0.02) == 0.5  # not 15 s (a quarter of the learnt "block")


def test_wait__interval_mining__receipts_found_with_a_few_polls_per_block(
    chain_config: ChainConfig, stranger: AccountAPI
) -> None:
    async def run() -> tuple[list[int], list[dict[str, object]]]:
        rpc = RpcClient(chain_config.rpc_url)
        sender = TxSender(rpc, stranger.private_key, chain_config.chain_id)
        await rpc.call("evm_setAutomine", [False])
        await rpc.call("evm_setIntervalMining", [1])
        polls, receipts = [], []
        try:
            for _ in range(8):
                tx = await sender.send(stranger.address, b"", gas=21_000)
                before = rpc.calls["eth_getTransactionReceipt"]
                receipts.append(await sender.wait(tx, timeout=30.0))
                polls.append(rpc.calls["eth_getTransactionReceipt"] - before)
        finally:
            await rpc.call("evm_setIntervalMining", [0])
            await rpc.call("evm_setAutomine", [True])
            await rpc.aclose()
        return polls, receipts

    polls, receipts = asyncio.run(run())
    assert all(int(str(r["status"]), 16) == 1 for r in receipts)
    blocks = [int(str(r["blockNumber"]), 16) for r in receipts]
    assert blocks == sorted(set(blocks))  # one after the other
    learnt = polls[4:]  # after three blocks seen
    # polling every 20 ms: about 25 polls for the half block a wait lasts on average
    assert sum(learnt) / len(learnt) <= 15, polls


def test_wait__heads_pushed__receipt_read_once_per_block_and_seen_in_its_block(
    chain_config: ChainConfig, stranger: AccountAPI
) -> None:
    """With a live ``newHeads`` subscription a wait reads the receipt when a block arrives, not
    between blocks: one or two reads per transaction, and each receipt is back before the next
    block is mined (seen the block it is mined)."""

    async def run() -> tuple[list[int], list[int], list[int], bool]:
        rpc = RpcClient(chain_config.rpc_url)
        sender = TxSender(rpc, stranger.private_key, chain_config.chain_id)
        sender.heads = HeadWatcher(rpc, chain_config.ws_url)
        await rpc.call("evm_setAutomine", [False])
        await rpc.call("evm_setIntervalMining", [1])
        polls, blocks, heads_then = [], [], []
        try:
            await sender.heads.latest()
            for _ in range(50):
                if sender.heads.live:
                    break
                await asyncio.sleep(0.05)
            live = sender.heads.live
            for _ in range(5):
                tx = await sender.send(stranger.address, b"", gas=21_000)
                before = rpc.calls["eth_getTransactionReceipt"]
                receipt = await sender.wait(tx, timeout=30.0)
                heads_then.append(int(await rpc.call("eth_blockNumber"), 16))
                polls.append(rpc.calls["eth_getTransactionReceipt"] - before)
                blocks.append(int(str(receipt["blockNumber"]), 16))
        finally:
            await rpc.call("evm_setIntervalMining", [0])
            await rpc.call("evm_setAutomine", [True])
            await sender.heads.aclose()
            await rpc.aclose()
        return polls, blocks, heads_then, live

    polls, blocks, heads_then, live = asyncio.run(run())
    assert live
    assert blocks == heads_then, "a receipt came back only after a later block"
    assert max(polls) <= 3, polls  # the send's block, maybe one more (before: 4-22 per wait)
