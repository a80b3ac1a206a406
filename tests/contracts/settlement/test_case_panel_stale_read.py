"""A panel seat whose first read of the panel comes from the state before the panel was seated
still votes: the read disagrees with the case's record (its seat holder count), and both are read
again after a poll. Before, the duty took the read's empty panel for "not a voter of this
tier", marked the tier done and never looked again: an honest worker with 4 of the 7 seats was
slashed a no-show for each (fault campaign, ``clock-skewed-worker`` seed 4106, on a chain whose
node answered a read from the block before the one it had just mined). Real anvil, real courts;
the worker's first ``votersOf`` answered as of the block before the seating."""

from __future__ import annotations

from typing import Any

from peerhost.chain.config import ChainConfig
from peerhost.wire.batch import Leaf
from peerhost.wire.disputes import TIER_PANEL

from .conftest import GOOD
from .courtkit import CP_COMMIT, Court
from .worker_harness import ThreadLoop, accountability_of, wait_for


def test_case_duty__panel_read_from_before_the_seating__reads_again_and_commits(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    court = Court(k, accounts_by_address)
    posted, b = court.escalated_leaf()
    before = int(k.chain.blocks.head.number)  # a block before the panel is seated
    panel = court.seat_panel(b, 0)
    assert court.phase(b, 0) == CP_COMMIT
    me_address = panel[0]
    me = accounts_by_address[me_address]

    async def leaves_of(batch_id: int) -> tuple[str, list[Leaf]]:
        return str(k.gateway.address), [Leaf.of(t) for t in posted.tickets]

    async def leaf_result(batch_id: int, index: int) -> bytes:
        return GOOD

    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result)
    courts = loop.run(accountability.courts())
    reads: list[int] = []
    current = courts.voters_of

    async def voters_of(batch_id: int, index: int, tier: int) -> list[dict[str, Any]]:
        reads.append(tier)
        if len(reads) > 1:
            return await current(batch_id, index, tier)
        stale = await courts.view.rpc.call(  # the node's answer as of the block before seating
            "eth_call",
            [
                {
                    "to": courts.courts.dispute,
                    "data": "0x"
                    + courts.dispute.encode_call("votersOf", batch_id, index, tier).hex(),
                },
                hex(before),
            ],
        )
        return list(courts.dispute.decode_result("votersOf", bytes.fromhex(stale[2:])))

    courts.voters_of = voters_of  # type: ignore[method-assign]
    duty = loop.start(accountability.case_duty(b, 0))

    def committed() -> bool:
        voters = court.c.votersOf(b, 0, TIER_PANEL)
        return any(str(v.worker) == me_address and int(v.status) >= 1 for v in voters)

    try:
        # before: "not a voter of this tier", the tier marked done, no commitment ever
        wait_for(committed, 30, "the seat's commitment after a read of the panel before seating")
        assert len(reads) >= 2 and reads[0] == TIER_PANEL
        assert court.phase(b, 0) == CP_COMMIT  # within the commit window
    finally:
        duty.cancel()
        loop.run(accountability.close(), 30)
        loop.run(rpc.aclose(), 30)
