"""A worker's court cases in flight read their state once per block, not every tick: with two
cases in their panel's commit window and this worker no voter of either, no block means no call,
and a block costs each case its phase and record (two views). Real anvil, real courts, the head
pushed over ``newHeads``."""

from __future__ import annotations

import time
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.chain.heads import HeadWatcher
from peerhost.wire.batch import Leaf

from .conftest import GOOD, LIE, LIE2, distinct, seat_until
from .courtkit import CP_COMMIT, Court
from .worker_harness import ThreadLoop, accountability_of, wait_for


@pytest.fixture
def k(kit: Any, workers: list[Any]) -> Any:
    kit.stake(workers[:6])
    kit.open_project()
    return kit


def test_case_duties__two_cases_no_new_block__read_nothing_until_a_block(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    court = Court(k, accounts_by_address)
    posted, holders = seat_until(k, distinct(3), n=2)
    b = posted.batch_id
    vectors = [[GOOD, GOOD], [LIE, LIE], [LIE2, LIE2]]
    for h, v in zip(holders, vectors, strict=True):
        k.commit(b, court.by[h], v)
    for h, v in zip(holders, vectors, strict=True):
        k.reveal(b, court.by[h], v)
    if k.coordinator.phaseOf(b) == 4:  # Settle
        k.coordinator.finalize(b, vectors, k.hl(b), sender=court.by[holders[0]])
    panels: set[str] = set()
    for index in (0, 1):
        court.c.escalate(b, index, vectors, court.kit.hl(b), sender=k.gateway)
        panels |= set(court.seat_panel(b, index))
        assert court.phase(b, index) == CP_COMMIT
    me = next(a for x, a in accounts_by_address.items() if x not in panels)  # no voter of either

    async def leaves_of(batch_id: int) -> tuple[str, list[Leaf]]:
        return str(k.gateway.address), [Leaf.of(t) for t in posted.tickets]

    async def leaf_result(batch_id: int, index: int) -> bytes:
        return GOOD

    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result)
    heads = HeadWatcher(rpc, v2_config.ws_url)
    accountability.follow_heads(heads)
    duties = [loop.start(accountability.case_duty(b, index)) for index in (0, 1)]
    try:
        wait_for(lambda: heads.live, 30, "the head subscription")
        time.sleep(1.5)  # each duty read its case and found it is no voter
        calls = rpc.calls["eth_call"]
        time.sleep(3.0)  # sixty ticks of the old duties, no block
        assert rpc.calls["eth_call"] == calls, "a case read again with no new block"

        k.chain.mine(1)
        time.sleep(1.0)
        spent = rpc.calls["eth_call"] - calls
        assert 0 < spent <= 4, f"{spent} views for one block and two cases"
    finally:
        for duty in duties:
            duty.cancel()
        time.sleep(0.1)
        loop.run(accountability.close(), 30)
        loop.run(heads.aclose(), 30)
        loop.run(rpc.aclose(), 30)
