"""LogFollower against a real anvil: backfill, live delivery, resume from a cursor, no duplicates."""

from __future__ import annotations

import asyncio
from typing import Any

from ape.api import AccountAPI
from ape.contracts import ContractInstance

from peerhost.chain import ChainConfig, LogFollower, MemoryCursor, Protocol, RpcClient


async def _collect(
    follower: LogFollower, count: int, timeout: float = 20.0
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    async def take() -> None:
        async for entry in follower.stream():
            out.append(entry)
            if len(out) == count:
                return

    await asyncio.wait_for(take(), timeout)
    return out


def _fund(coordinator: ContractInstance, account: AccountAPI, n: int) -> None:
    for _ in range(n):
        coordinator.fundProject(account.address, "shop", value=1, sender=account)


def test_follower__backfill_then_resume__misses_nothing_repeats_only_last(
    chain_config: ChainConfig, coordinator: ContractInstance, stranger: AccountAPI, chain: Any
) -> None:
    start = chain.blocks.head.number + 1
    _fund(coordinator, stranger, 3)
    cursor = MemoryCursor()
    addresses = [chain_config.coordinator]

    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
        rpc = RpcClient(chain_config.rpc_url)
        protocol = Protocol(chain_config, rpc=rpc)
        first = LogFollower(rpc, chain_config.ws_url, addresses, cursor, start_block=start)
        backfilled = await _collect(first, 3)
        names = [protocol.decode_log(e)[0] for e in backfilled]  # type: ignore[index]
        # More logs while nobody listens; a new follower on the same cursor gets exactly those.
        await asyncio.to_thread(_fund, coordinator, stranger, 2)
        second = LogFollower(rpc, chain_config.ws_url, addresses, cursor)
        resumed = await _collect(second, 3)
        await rpc.aclose()
        return backfilled, resumed, names

    backfilled, resumed, names = asyncio.run(run())
    assert names == ["ProjectFunded"] * 3
    # The cursor advances when the consumer asks for the next log, so the last log handled before
    # the consumer stopped is delivered once more (at-least-once for that one); nothing earlier is.
    assert resumed[0] == backfilled[-1]
    seen = {e["transactionHash"] for e in backfilled}
    assert all(e["transactionHash"] not in seen for e in resumed[1:])
    assert len({e["transactionHash"] for e in backfilled + resumed}) == 5


def test_follower__live_logs__delivered_after_subscription(
    chain_config: ChainConfig, coordinator: ContractInstance, stranger: AccountAPI
) -> None:
    async def run() -> list[dict[str, Any]]:
        rpc = RpcClient(chain_config.rpc_url)
        follower = LogFollower(rpc, chain_config.ws_url, [chain_config.coordinator], MemoryCursor())
        task = asyncio.create_task(_collect(follower, 2))
        await asyncio.wait_for(follower.live.wait(), 10)
        await asyncio.to_thread(_fund, coordinator, stranger, 2)
        entries = await task
        await rpc.aclose()
        return entries

    entries = asyncio.run(run())
    assert len({e["transactionHash"] for e in entries}) == 2


def test_follower__live_reorg_replaces_a_delivered_block__its_logs_delivered(
    chain_config: ChainConfig, coordinator: ContractInstance, stranger: AccountAPI, chain: Any
) -> None:
    """A block replaced under the cursor while subscribed: the replacing block's log sits at the
    position the delivered one held, and must be delivered all the same."""

    async def run() -> list[dict[str, Any]]:
        rpc = RpcClient(chain_config.rpc_url)
        follower = LogFollower(rpc, chain_config.ws_url, [chain_config.coordinator], MemoryCursor())
        out: list[dict[str, Any]] = []

        async def take() -> None:
            async for entry in follower.stream():
                out.append(entry)

        task = asyncio.create_task(take())
        await asyncio.wait_for(follower.live.wait(), 10)
        snapshot = await rpc.call("evm_snapshot")
        await asyncio.to_thread(
            coordinator.fundProject, stranger.address, "shop", value=1, sender=stranger
        )
        for _ in range(100):
            if out:
                break
            await asyncio.sleep(0.1)
        assert await rpc.call("evm_revert", [snapshot])  # the block is gone...
        # ... and another takes its height, its log at the same index
        await asyncio.to_thread(
            coordinator.fundProject, stranger.address, "shop", value=2, sender=stranger
        )
        for _ in range(100):
            if len(out) > 1:
                break
            await asyncio.sleep(0.1)
        task.cancel()
        await rpc.aclose()
        return out

    entries = asyncio.run(run())
    assert len(entries) == 2, "the replacing block's log was skipped"
    first, second = entries
    assert (first["blockNumber"], first["logIndex"]) == (second["blockNumber"], second["logIndex"])
    assert first["blockHash"] != second["blockHash"]
