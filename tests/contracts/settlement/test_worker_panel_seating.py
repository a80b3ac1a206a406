"""A case's panel seated by the workers that follow it, without the load they made: every worker
saw the seed block at once and sent ``seatPanel`` (all but one a mined revert, whose receipt the
voter waited for, seconds under load, out of its tier's commit window), and on a devnet that
mines on transactions every worker mined every gap to the seed (ten empty blocks an escalation,
each waking every duty of every worker; honest voters committed past their window in a fault
run). Now the case is read again before ``seatPanel`` and the blocks to a seed are mined only once
none came for a quiet spell. Real anvil, real courts, the worker's own duty."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.chain.sender import TxSender
from peerhost.worker import duties as duties_module

from .courtkit import CP_COMMIT, CP_SEEDING, Court
from .worker_harness import ThreadLoop, accountability_of, key_of, wait_for


class HeldReceipts(TxSender):
    """Sends at once; a receipt is read only once ``released`` is set (a loaded node's slow
    confirmations, held until the test says)."""

    released: asyncio.Event | None = None

    async def wait(self, tx_hash: bytes, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if self.released is None:
            self.released = asyncio.Event()
        await self.released.wait()
        return await super().wait(tx_hash, *args, **kwargs)


def test_seat_panel__seated_by_another_since__sends_nothing(
    k: Any, v2_config: ChainConfig, accounts_by_address: dict[str, Any], loop: ThreadLoop
) -> None:
    court = Court(k, accounts_by_address)
    _, b = court.escalated_leaf()
    seed = int(court.case(b, 0).seedBlock)
    court.seat_panel(b, 0)  # another follower seated it first
    assert court.phase(b, 0) == CP_COMMIT
    me = next(iter(accounts_by_address.values()))
    rpc, duties = accountability_of(v2_config, me, None, None)
    try:
        nonce = me.nonce
        courts = loop.run(duties.courts())
        loop.run(duties._seat_panel(courts, b, 0, seed))  # its read of the case was older
        assert rpc.calls["eth_sendRawTransaction"] == 0, "a seatPanel sent for a seated panel"
        assert me.nonce == nonce
        assert (b, 0) in duties._stale_cases  # read afresh at the duty's next pass
    finally:
        loop.run(duties.close())
        loop.run(rpc.aclose())


def test_seat_panel__devnet__blocks_to_the_seed_mined_only_when_none_came(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a quiet spell longer than the test's own reaction on a loaded machine (0.3-0.6 s)
    monkeypatch.setattr(duties_module, "MINE_QUIET", 2.0)
    court = Court(k, accounts_by_address)
    _, b = court.escalated_leaf()
    seed = int(court.case(b, 0).seedBlock)
    head = int(k.chain.blocks.head.number)
    assert seed - head >= 2, "the beacon delay leaves no gap to mine"
    me = next(iter(accounts_by_address.values()))
    rpc, duties = accountability_of(v2_config, me, None, None, mine_blocks=True)
    try:
        courts = loop.run(duties.courts())
        # a block comes while the worker waits (traffic): it mines none (before: the whole gap
        # at once, by every worker following the case)
        reads = rpc.calls["eth_getBlockByNumber"] + rpc.calls["eth_blockNumber"]
        seating = loop.start(duties._seat_panel(courts, b, 0, seed))
        wait_for(
            lambda: rpc.calls["eth_getBlockByNumber"] + rpc.calls["eth_blockNumber"] > reads,
            10,
            "the worker's read of the head",
        )
        k.chain.mine(1)
        seating.result(10)
        assert rpc.calls["anvil_mine"] == 0, "blocks mined while blocks came"
        assert int(k.chain.blocks.head.number) == head + 1
        # none comes: it mines to the seed block, no further
        time.sleep(0.05)
        loop.run(duties._seat_panel(courts, b, 0, seed), 10)
        assert rpc.calls["anvil_mine"] == 1
        assert int(k.chain.blocks.head.number) == seed
        assert court.phase(b, 0) == CP_SEEDING  # seated at its next pass, by a later block
    finally:
        loop.run(duties.close())
        loop.run(rpc.aclose())


def test_seat_panel__its_receipt_slow__the_duty_goes_on_reading_blocks(
    k: Any, v2_config: ChainConfig, accounts_by_address: dict[str, Any], loop: ThreadLoop
) -> None:
    """``seatPanel`` goes out beside the duty: its receipt (a revert when another worker won the
    race) held the voter 10-18 s under load before it looked for its seat, out of a 20 s commit
    window (fault runs, seeds 2403 and 2406)."""
    court = Court(k, accounts_by_address)
    _, b = court.escalated_leaf()
    seed = int(court.case(b, 0).seedBlock)
    head = int(k.chain.blocks.head.number)
    if head < seed:
        k.chain.mine(seed - head)
    me = next(iter(accounts_by_address.values()))
    rpc, duties = accountability_of(v2_config, me, None, None)
    sender = HeldReceipts(rpc, key_of(me), v2_config.chain_id)
    duties.view.sender = sender
    try:
        courts = loop.run(duties.courts())
        # returns with the transaction sent and its receipt held (before: waited for it)
        loop.run(duties._seat_panel(courts, b, 0, seed), 10)
        sending = duties._seating[(b, 0)]
        assert not sending.done()
        wait_for(lambda: court.phase(b, 0) == CP_COMMIT, 10, "the panel seated on the chain")
        loop.run(duties._seat_panel(courts, b, 0, seed), 10)  # on its way: not sent twice
        assert rpc.calls["eth_sendRawTransaction"] == 1

        async def release() -> None:
            assert sender.released is not None
            sender.released.set()
            await asyncio.wait_for(asyncio.shield(sending), 30)

        loop.run(release())
        assert (b, 0) in duties._stale_cases  # the case read again at the duty's next pass
    finally:
        loop.run(duties.close())
        loop.run(rpc.aclose())
