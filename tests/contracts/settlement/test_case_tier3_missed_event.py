"""A worker whose duty follows a decided tier-2 case on the log loop's court events still votes in
tier 3 when the ``Challenged`` log that opened it never reached it: a decided tier-2 case is read
again at every block while a challenge can come (its tier-3 window is as short as the panel's).
Before, the record was read again only ``_CASE_RECHECK`` (10 s) after the last read: on the devnet's
and the fault stack's 10 s court windows the tier-3 commit window was gone by then, and an honest
active worker was slashed 5 % of its stake as a tier-3 no-show with no line in its log about the
case. Real anvil, real courts, the head pushed over ``newHeads``."""

from __future__ import annotations

import time
from typing import Any

from peerhost.chain.config import ChainConfig
from peerhost.chain.heads import HeadWatcher
from peerhost.wire.batch import Leaf
from peerhost.wire.disputes import TIER_ALL

from .conftest import GOOD
from .courtkit import CP_COMMIT, CP_DECIDED, Court
from .worker_harness import ThreadLoop, accountability_of, wait_for


def test_case_duty__fed_events_challenged_log_missed__votes_in_tier3_at_once(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    court = Court(k, accounts_by_address)
    posted, b = court.escalated_leaf()
    panel = court.seat_panel(b, 0)
    court.vote(b, 0, lambda w: GOOD)  # tier 2 decides GOOD
    assert court.phase(b, 0) == CP_DECIDED
    active = court._eligible(b, 0)  # (tier 2's seats while it is tier 2)
    stakes, epoch = k.s.stakes, int(court.case(b, 0).epoch)
    members = [
        str(stakes.entryAt(epoch, j)[0]) for j in range(int(stakes.epochInfo(epoch).members))
    ]
    # every member votes in tier 3 (a tier-2 seat too): one off the panel when the draw left one
    me_address = next((w for w in members if w not in panel and w not in active), members[0])
    me = accounts_by_address[me_address]
    challenger = next(a for x, a in accounts_by_address.items() if x in members and x != me_address)

    async def leaves_of(batch_id: int) -> tuple[str, list[Leaf]]:
        return str(k.gateway.address), [Leaf.of(t) for t in posted.tickets]

    async def leaf_result(batch_id: int, index: int) -> bytes:
        return GOOD

    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result)
    accountability.case_events = True  # as the committee's log loop sets it; it feeds nothing
    heads = HeadWatcher(rpc, v2_config.ws_url)
    accountability.follow_heads(heads)
    duty = loop.start(accountability.case_duty(b, 0))
    try:
        wait_for(lambda: heads.live, 30, "the head subscription")
        k.chain.mine(1)
        time.sleep(1.5)  # the duty read the decided case
        court.challenge(b, 0, challenger)  # its Challenged log reaches no case_changed
        assert int(court.case(b, 0).tier) == TIER_ALL and court.phase(b, 0) == CP_COMMIT
        challenged = time.monotonic()

        def committed() -> bool:
            k.chain.mine(1)  # blocks keep coming, none fed as naming the case
            voters = court.c.votersOf(b, 0, TIER_ALL)
            return any(str(v.worker) == me_address and int(v.status) >= 1 for v in voters)

        # well inside a 10 s court window; the record was read again only 10 s after its last read
        wait_for(committed, 6, "the active worker's tier-3 commitment")
        assert time.monotonic() - challenged < 6
    finally:
        duty.cancel()
        time.sleep(0.1)
        loop.run(accountability.close(), 30)
        loop.run(heads.aclose(), 30)
        loop.run(rpc.aclose(), 30)
