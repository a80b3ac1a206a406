"""A tier-2 panel seat whose run of the disputed leaf is not done ``commit_margin`` seconds before
the panel's commit deadline votes an abstention in time and reveals it (a revealed abstention is
never slashed) instead of missing the window and being slashed as a no-show. Real anvil, real
courts (``Accountability`` drives the case); the leaf's run is one that never finishes in time (an
input that never comes, a machine loaded past its cores: seen in the fault campaigns, where honest
panelists lost 0.1 to 1.6 ETH as tier-2 no-shows)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.wire.batch import ABSTAIN, Leaf
from peerhost.wire.disputes import TIER_PANEL
from peerhost.worker.duties import commit_margin

from .conftest import GOOD
from .courtkit import CP_COMMIT, CP_REVEAL, Court
from .worker_harness import ThreadLoop, accountability_of, wait_for

COMMITTED, REVEALED = 1, 2  # a voter's status


@pytest.fixture
def k(kit: Any, workers: list[Any]) -> Any:
    kit.stake(workers[:5])
    kit.open_project()
    return kit


def test_case_duty__leaf_not_run_by_commit_margin__panel_seat_votes_abstention_in_time(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    never = asyncio.Event()

    async def leaf_result(batch_id: int, index: int) -> bytes:
        await never.wait()  # the run that does not finish in time
        return GOOD

    _panel_seat_reveals_abstention(k, v2_config, accounts_by_address, loop, leaf_result)


def test_case_duty__leaf_run_fails__panel_seat_votes_abstention_not_slashed(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The seat's run of the leaf raises (a sandbox or input failure): it is logged and the seat
    commits an abstention and reveals it. Before, the run's exception ended the case's duty: no
    commitment, a no-show slashed."""
    caplog.set_level(logging.WARNING, logger="peerhost.worker.accountability")

    async def leaf_result(batch_id: int, index: int) -> bytes:
        raise RuntimeError("the leaf's run failed")

    _panel_seat_reveals_abstention(k, v2_config, accounts_by_address, loop, leaf_result)
    assert "the leaf's run failed" in caplog.text and "voting an abstention" in caplog.text


def _panel_seat_reveals_abstention(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    leaf_result: Callable[[int, int], Awaitable[bytes]],
) -> None:
    """A panel seat whose run of the leaf is ``leaf_result``, the chain's clock 3 s before its
    cutoff: it commits and reveals ``ABSTAIN`` in time while the others vote GOOD."""
    court = Court(k, accounts_by_address)
    posted, b = court.escalated_leaf(None)
    panel = court.seat_panel(b, 0)
    assert court.phase(b, 0) == CP_COMMIT
    me = accounts_by_address[panel[0]]
    others = [w for w in panel if w != panel[0]]

    async def leaves_of(batch_id: int) -> tuple[str, list[Leaf]]:
        return str(k.gateway.address), [Leaf.of(t) for t in posted.tickets]

    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result)
    # the chain's clock: 3 s before the panel's cutoff (commit deadline less the margin)
    margin = commit_margin(int(court.params.commitWindow))
    deadline = int(court.case(b, 0).commitDeadline)
    k.request("evm_increaseTime", [max(0, int(deadline - margin - 3 - k.now()))])
    k.request("evm_mine", [])
    duty = loop.start(accountability.case_duty(b, 0))

    def status() -> tuple[int, bytes]:
        mine = [v for v in court.c.votersOf(b, 0, TIER_PANEL) if str(v.worker) == panel[0]]
        return int(mine[0].status), bytes(mine[0].vote)

    try:
        wait_for(lambda: status()[0] >= COMMITTED, margin + 20, "the panel seat's commitment")
        for w in others:
            court.commit(b, 0, w, GOOD)
        if court.phase(b, 0) == CP_COMMIT:
            k.chain.mine(deltatime=int(court.params.commitWindow))
        assert court.phase(b, 0) == CP_REVEAL
        wait_for(lambda: status()[0] == REVEALED, 30, "the panel seat's reveal")
        assert status()[1] == ABSTAIN  # revealed an abstention: never slashed
    finally:
        duty.cancel()
        loop.run(accountability.close(), 30)
        loop.run(rpc.aclose(), 30)
