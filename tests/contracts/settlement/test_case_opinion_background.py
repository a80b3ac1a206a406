"""A worker following a decided tier-2 case works out its own result of the leaf (a sandbox run)
in the background, once per case, and reads the case again at every block meanwhile: a slow run
does not keep it from seeing the challenge that opens tier 3 (whose commit window is as short as
the panel's: 10 s on the devnet), and the tier-3 vote takes that same run's result. Before, the
run was awaited inline in the loop that re-reads the case: no block was read while it ran, and a
run longer than the tier-3 window made the worker a no-show (5 % of its stake). Real anvil, real
courts, the head pushed over ``newHeads``."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.chain.heads import HeadWatcher
from peerhost.wire.batch import Leaf
from peerhost.wire.disputes import TIER_ALL, vote_commitment
from peerhost.worker.duties import vote_key

from .conftest import GOOD
from .courtkit import CP_COMMIT, CP_DECIDED
from .tier3kit import decided_case
from .worker_harness import ThreadLoop, accountability_of, wait_for


def test_case_duty__decided_case_own_run_never_ends__votes_in_tier3_by_its_cutoff(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The tier-3 vote commits the run's result, GOOD, by its cutoff judged by the chain's clock
    while the worker's runs an hour ahead (judged by the later of the worker's clock and the
    head's, as before, the cutoff had passed at the first look: an abstention committed)."""
    caplog.set_level(logging.WARNING, logger="peerhost.worker.accountability")
    court, posted, b, me_address, challenger = decided_case(k, accounts_by_address)
    me = accounts_by_address[me_address]
    runs: list[int] = []
    release = asyncio.Event()

    async def leaves_of(batch_id: int) -> tuple[str, list[Leaf]]:
        return str(k.gateway.address), [Leaf.of(t) for t in posted.tickets]

    async def leaf_result(batch_id: int, index: int) -> bytes:
        runs.append(index)
        await release.wait()  # a slow run: it ends when the test says
        return GOOD

    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result)
    # the worker's clock an hour ahead of the chain's (as the wall clock runs ahead of a devnet's
    # once a revert set it back): the tier-3 cutoff is judged by the chain's clock
    accountability.clock = lambda: time.time() + 3600
    heads = HeadWatcher(rpc, v2_config.ws_url)
    accountability.follow_heads(heads)
    duty = loop.start(accountability.case_duty(b, 0))
    try:
        wait_for(lambda: heads.live, 30, "the head subscription")
        k.chain.mine(1)
        wait_for(lambda: runs == [0], 10, "this worker's run of the leaf")
        calls = rpc.calls["eth_call"]
        for _ in range(3):
            k.chain.mine(1)
            time.sleep(1.0)
        assert rpc.calls["eth_call"] - calls >= 3, "the case not read at each block while it ran"

        court.challenge(b, 0, challenger)
        assert int(court.case(b, 0).tier) == TIER_ALL and court.phase(b, 0) == CP_COMMIT
        loop.loop.call_soon_threadsafe(release.set)  # the run ends: its result is the vote

        def commitment() -> bytes | None:
            k.chain.mine(1)
            voters = court.c.votersOf(b, 0, TIER_ALL)
            mine = [bytes(v.vote) for v in voters if str(v.worker) == me_address and int(v.status)]
            return mine[0] if mine else None

        wait_for(lambda: commitment() is not None, 10, "the active worker's tier-3 commitment")
        assert runs == [0], "one run of the leaf for the case, its result kept for the vote"
        # the commitment opens to the run's result (an abstention also commits)
        saved = accountability.duties.get(vote_key(b, 0, TIER_ALL))
        assert saved is not None and saved[0] == GOOD
        opens = vote_commitment(
            k.chain.chain_id, str(court.c.address), b, 0, TIER_ALL, me_address, GOOD, saved[1]
        )
        assert commitment() == opens
        assert "voting an abstention" not in caplog.text
    finally:
        duty.cancel()
        time.sleep(0.1)
        loop.run(accountability.close(), 30)
        loop.run(heads.aclose(), 30)
        loop.run(rpc.aclose(), 30)


def test_case_duty__decided_case_own_run_fails__logged_once_not_run_again_each_block(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The worker's run of the decided leaf raises: logged once, no challenge from it, and not
    run again while the case is read at the next blocks. Before, each block's read replaced the
    failed run with a new one (a sandbox run per block for the whole challenge window), silently."""
    caplog.set_level(logging.WARNING, logger="peerhost.worker.accountability")
    court, posted, b, me_address, _ = decided_case(k, accounts_by_address)
    runs: list[int] = []

    async def leaves_of(batch_id: int) -> tuple[str, list[Leaf]]:
        return str(k.gateway.address), [Leaf.of(t) for t in posted.tickets]

    async def leaf_result(batch_id: int, index: int) -> bytes:
        runs.append(index)
        raise RuntimeError("the leaf's run failed")

    rpc, accountability = accountability_of(
        v2_config, accounts_by_address[me_address], leaves_of, leaf_result
    )
    heads = HeadWatcher(rpc, v2_config.ws_url)
    accountability.follow_heads(heads)
    duty = loop.start(accountability.case_duty(b, 0))
    try:
        wait_for(lambda: heads.live, 30, "the head subscription")
        k.chain.mine(1)
        wait_for(lambda: runs == [0], 10, "this worker's run of the leaf")
        calls = rpc.calls["eth_call"]
        for _ in range(4):
            k.chain.mine(1)
            time.sleep(1.0)
        assert rpc.calls["eth_call"] - calls >= 3, "the case not read at each block"
        assert runs == [0], "the failed run started again"
        assert caplog.text.count("no challenge from it") == 1
        assert court.phase(b, 0) == CP_DECIDED  # nothing challenged
    finally:
        duty.cancel()
        time.sleep(0.1)
        loop.run(accountability.close(), 30)
        loop.run(heads.aclose(), 30)
        loop.run(rpc.aclose(), 30)
