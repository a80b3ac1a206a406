"""HeadWatcher against a real anvil: heads pushed over ``newHeads`` cost no call, a reorg arrives as
a new head at the same height, and without a subscription the head is polled."""

from __future__ import annotations

import asyncio

from peerhost.chain import ChainConfig, RpcClient
from peerhost.chain.heads import Block, HeadWatcher


def test_next__subscribed_blocks_mined__each_pushed_without_a_head_read(
    chain_config: ChainConfig,
) -> None:
    async def run() -> tuple[list[int], int, int, bool]:
        rpc = RpcClient(chain_config.rpc_url)
        heads = HeadWatcher(rpc, chain_config.ws_url, quiet=30.0)
        try:
            first = await heads.latest()
            for _ in range(50):  # the subscription is up
                if heads.live:
                    break
                await asyncio.sleep(0.05)
            live = heads.live
            reads = heads.reads
            seen, last = [], first
            for _ in range(3):
                await rpc.call("anvil_mine", ["0x1"])
                last = await heads.next(last.hash, 10.0)
                seen.append(last.number - first.number)
            return seen, heads.reads - reads, heads.pushed, live
        finally:
            await heads.aclose()
            await rpc.aclose()

    seen, reads, pushed, live = asyncio.run(run())
    assert live, "anvil offers newHeads: the watcher subscribed"
    assert seen == [1, 2, 3]
    assert reads == 0, "a pushed head was read again with a call"
    assert pushed >= 3


def test_next__reorg_replaces_the_head__same_height_new_hash_arrives(
    chain_config: ChainConfig,
) -> None:
    async def run() -> tuple[int, str, int, str, str]:
        rpc = RpcClient(chain_config.rpc_url)
        heads = HeadWatcher(rpc, chain_config.ws_url, quiet=30.0)
        try:
            await rpc.call("anvil_mine", ["0x2"])
            await heads.latest()
            for _ in range(50):
                if heads.live:
                    break
                await asyncio.sleep(0.05)
            before = await heads.read()
            sender = (await rpc.call("eth_accounts"))[0]  # a transaction: another block hash
            move = {"from": sender, "to": sender, "value": "0x1"}
            await rpc.call("anvil_reorg", [1, [[move, 0]]])
            after = await heads.next(before.hash, 10.0)
            parent = (await rpc.call("eth_getBlockByNumber", [hex(after.number - 1), False]))[
                "hash"
            ]
            return before.number, before.hash, after.number, after.hash, parent == after.parent
        finally:
            await heads.aclose()
            await rpc.aclose()

    number, old, new_number, new, linked = asyncio.run(run())
    assert new_number == number and new != old, "the replaced head is seen"
    assert linked


def test_on_break__blocks_in_order_do_not_call_it__a_reorg_does(chain_config: ChainConfig) -> None:
    """What keeps a value read from the chain until an event changes it (a project's secrets
    pointer) must drop it on a reorg, whose removed events are never delivered: the watcher calls
    ``on_break`` for a head that does not extend the last one, and only then."""

    async def run() -> tuple[int, int, int]:
        rpc = RpcClient(chain_config.rpc_url)
        heads = HeadWatcher(rpc, chain_config.ws_url, quiet=30.0)
        called: list[int] = []
        heads.on_break.append(lambda: called.append(heads.breaks))
        try:
            last = await heads.latest()
            for _ in range(50):
                if heads.live:
                    break
                await asyncio.sleep(0.05)
            for _ in range(3):
                await rpc.call("anvil_mine", ["0x1"])
                last = await heads.next(last.hash, 10.0)
            in_order = len(called)
            sender = (await rpc.call("eth_accounts"))[0]
            move = {"from": sender, "to": sender, "value": "0x1"}
            await rpc.call("anvil_reorg", [1, [[move, 0]]])
            await heads.next(last.hash, 10.0)
            return in_order, len(called), heads.breaks
        finally:
            await heads.aclose()
            await rpc.aclose()

    in_order, after_reorg, breaks = asyncio.run(run())
    assert in_order == 0, "a head that extends the last one is no break"
    assert after_reorg == 1 and breaks == 1


def test_next__no_subscription__polls_and_times_out_on_the_same_head(
    chain_config: ChainConfig,
) -> None:
    async def run() -> tuple[int, int, bool, int]:
        rpc = RpcClient(chain_config.rpc_url)
        heads = HeadWatcher(rpc, "", poll=0.05)
        try:
            first = await heads.latest()
            same = await heads.next(first.hash, 0.3)  # no block: the same head after the wait
            polls = heads.reads
            await rpc.call("anvil_mine", ["0x1"])
            mined = await heads.next(first.hash, 5.0)
            return mined.number - first.number, polls, same == first, heads.pushed
        finally:
            await heads.aclose()
            await rpc.aclose()

    step, polls, same, pushed = asyncio.run(run())
    assert same and step == 1 and pushed == 0
    assert 2 <= polls <= 10, f"{polls} head reads in 0.3 s at a 0.05 s poll"


class _SlowHead:
    """An RPC client whose head read answers block ``number`` only once ``release`` is set (a
    node behind the one pushing heads)."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.release = asyncio.Event()

    async def call(self, method: str, params: list[object]) -> dict[str, str]:
        assert method == "eth_getBlockByNumber"
        await self.release.wait()
        return _raw(self.number)


def _raw(number: int) -> dict[str, str]:
    return {
        "number": hex(number),
        "hash": f"0x{number:064x}",
        "parentHash": f"0x{number - 1:064x}",
        "timestamp": hex(1_000 + number),
    }


def test_read__a_push_arrives_during_the_call__the_older_answer_does_not_move_the_head_back() -> (
    None
):
    async def run() -> int:
        rpc = _SlowHead(7)
        heads = HeadWatcher(rpc, "")  # type: ignore[arg-type]
        reading = asyncio.create_task(heads.read())
        await asyncio.sleep(0)  # the call is in flight
        heads._learn(Block.of(_raw(8)))  # pushed meanwhile
        rpc.release.set()
        return (await reading).number

    assert asyncio.run(run()) == 8


def test_linked__burst_pushed_then_reorg__one_chain_then_the_replaced_blocks_unlinked(
    chain_config: ChainConfig,
) -> None:
    """A burst of blocks mined in one call is pushed block by block: the watcher links them by
    their parent hashes (a reader needs no header read to know they are one chain); a reorg's
    blocks replace the old ones of the same numbers, and a chain through a block the watcher
    never saw is not vouched for."""

    async def run() -> tuple[dict[int, str] | None, Block, dict[int, str] | None, bool, bool]:
        rpc = RpcClient(chain_config.rpc_url)
        heads = HeadWatcher(rpc, chain_config.ws_url, quiet=30.0)
        try:
            await heads.latest()
            for _ in range(50):
                if heads.live:
                    break
                await asyncio.sleep(0.05)
            start = await heads.read()
            await rpc.call("anvil_mine", ["0x6"])
            top = start
            while top.number < start.number + 6:
                top = await heads.next(top.hash, 10.0)
            burst = heads.linked(start.number, top)
            sender = (await rpc.call("eth_accounts"))[0]
            move = {"from": sender, "to": sender, "value": "0x1"}
            await rpc.call("anvil_reorg", [3, [[move, 0]]])
            after = top
            while after.hash == top.hash:
                after = await heads.next(top.hash, 10.0)
            while after.number < top.number:  # the new branch's blocks, pushed one by one
                after = await heads.next(after.hash, 10.0)
            again = heads.linked(start.number, after)
            old_top_gone = heads.recent.get(top.number) != top
            unseen = heads.linked(start.number - 200, after) is None
            return burst, top, again, old_top_gone, unseen
        finally:
            await heads.aclose()
            await rpc.aclose()

    burst, top, again, old_top_gone, unseen = asyncio.run(run())
    assert burst is not None, "the burst's pushed blocks were not linked"
    assert sorted(burst) == list(range(top.number - 6, top.number + 1))
    assert burst[top.number] == top.hash
    assert old_top_gone, "the reorg's block did not replace the old one of its number"
    if again is not None:  # the new branch's blocks were all pushed: linked, the old ones gone
        assert again[top.number] != top.hash
        assert again[top.number - 3] == burst[top.number - 3]  # below the fork: the same
    assert unseen, "blocks the watcher never saw were vouched for"


def test_recent__reorg_to_a_shorter_chain__the_old_branch_above_the_new_head_forgotten(
    chain_config: ChainConfig,
) -> None:
    """A reorg to a shorter chain (the node back to an earlier block, one block mined on it): the
    watcher forgets the heads it learnt above the new head; none of the old branch's blocks is
    kept where a later read of the new branch could take it for one of its own."""

    async def run() -> tuple[Block, Block, dict[int, Block]]:
        rpc = RpcClient(chain_config.rpc_url)
        heads = HeadWatcher(rpc, chain_config.ws_url, quiet=30.0)
        try:
            await heads.latest()
            for _ in range(50):
                if heads.live:
                    break
                await asyncio.sleep(0.05)
            start = await heads.read()
            fork = await rpc.call("evm_snapshot", [])
            await rpc.call("anvil_mine", ["0x5"])
            top = start
            while top.number < start.number + 5:
                top = await heads.next(top.hash, 10.0)
            assert await rpc.call("evm_revert", [fork]) is True
            await rpc.call("evm_mine", [])
            new = await heads.next(top.hash, 10.0)  # the block mined on the new branch, pushed
            return top, new, dict(heads.recent)
        finally:
            await heads.aclose()
            await rpc.aclose()

    top, new, recent = asyncio.run(run())
    assert new.number < top.number
    assert recent[new.number] == new
    assert max(recent) == new.number, "the old branch's heads above the new head were kept"
