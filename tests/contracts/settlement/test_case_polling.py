"""A worker's court cases in flight read their state once per block, not every tick: with two
cases in their panel's commit window and this worker no voter of either, no block means no call,
and a block costs each case its phase and record (two views). Real anvil, real courts, the head
pushed over ``newHeads``."""

from __future__ import annotations

import time
from typing import Any

from peerhost.chain.config import ChainConfig
from peerhost.chain.courts import case_phase_at
from peerhost.chain.heads import HeadWatcher
from peerhost.wire.batch import Leaf
from peerhost.wire.disputes import TIER_PANEL

from .conftest import GOOD, LIE, LIE2, distinct, seat_until
from .courtkit import CP_COMMIT, Court
from .worker_harness import ThreadLoop, accountability_of, wait_for


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


def test_case_phase_at__through_a_case_life__equals_the_courts_phase_of(
    k: Any, v2_config: ChainConfig, accounts_by_address: dict[str, Any], loop: ThreadLoop
) -> None:
    """The phase a case duty works out from the record and the head's clock is the court's own,
    at every step of a tier-2 case and on both sides of each deadline."""
    court = Court(k, accounts_by_address)
    rpc, accountability = accountability_of(v2_config, k.gateway, None, None)
    courts = loop.run(accountability.courts())
    window = int(court.params.challengeWindow)
    seen: list[int] = []
    b = 0

    def check() -> None:
        case = loop.run(courts.case_of(b, 0))
        timestamp = int(k.chain.blocks.head.timestamp)
        assert case_phase_at(case, timestamp, window) == court.phase(b, 0), seen
        seen.append(court.phase(b, 0))

    def mine_to(deadline: int) -> None:
        # until the HEAD reaches it: a transaction sent next must see the phase checked here
        # (a loaded machine's clock read and mine could leave the head short of it)
        while int(k.chain.blocks.head.timestamp) < deadline:
            k.chain.mine(deltatime=max(1, deadline - int(k.chain.blocks.head.timestamp)))

    # a panel whose lightest seat can stay out of the commit and its next lightest out of the
    # reveal while the seats revealing still hold a quorum (seats + 1 of 2 seats + 1), so the case
    # is decided at tier 2 (a worker drawn on several seats may weigh too much: drawn again)
    quorum = int(k.params.seats) + 1
    for _ in range(10):
        posted, holders = seat_until(k, distinct(3), n=1)
        b = posted.batch_id
        vectors = [[GOOD], [LIE], [LIE2]]
        for h, v in zip(holders, vectors, strict=True):
            k.commit(b, court.by[h], v)
        for h, v in zip(holders, vectors, strict=True):
            k.reveal(b, court.by[h], v)
        if k.coordinator.phaseOf(b) == 4:  # Settle
            k.coordinator.finalize(b, vectors, k.hl(b), sender=court.by[holders[0]])
        check()  # no case
        court.c.escalate(b, 0, vectors, court.kit.hl(b), sender=k.gateway)
        check()  # seeding
        court.seat_panel(b, 0)
        check()  # commit
        voters = sorted(court.c.votersOf(b, 0, TIER_PANEL), key=lambda v: -int(v.weight))
        if len(voters) >= 3 and sum(int(v.weight) for v in voters[:-2]) >= quorum:
            break
    else:
        raise AssertionError("no panel in 10 draws left a quorum to reveal")
    panel = [str(v.worker) for v in voters]  # heaviest first
    for w in panel[:-1]:
        court.commit(b, 0, w, GOOD)
        check()
    case = court.case(b, 0)
    mine_to(int(case.commitDeadline) - 2)
    check()  # still commit, one voter away
    mine_to(int(case.commitDeadline))
    check()  # reveal: the commit window passed
    for w in panel[:-2]:
        court.reveal(b, 0, w, GOOD)
        check()
    mine_to(int(court.case(b, 0).revealDeadline))
    check()  # decide: the reveal window passed
    court.c.decide(b, 0, sender=k.gateway)
    check()  # decided
    mine_to(int(court.case(b, 0).decidedAt) + window - 2)
    check()
    mine_to(int(court.case(b, 0).decidedAt) + window)
    check()  # closable
    court.c.close(b, 0, sender=k.gateway)
    check()  # closed
    assert seen[0] == 0 and seen[-1] == 7 and {1, 2, 3, 4, 5, 6} <= set(seen), seen
    loop.run(accountability.close(), 30)
    loop.run(rpc.aclose(), 30)


def test_case_duties__fed_case_events__a_block_costs_no_view_an_event_one(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    court = Court(k, accounts_by_address)
    posted, b = court.escalated_leaf()
    panel = court.seat_panel(b, 0)
    me = next(a for x, a in accounts_by_address.items() if x not in panel)  # no voter

    async def leaves_of(batch_id: int) -> tuple[str, list[Leaf]]:
        return str(k.gateway.address), [Leaf.of(t) for t in posted.tickets]

    async def leaf_result(batch_id: int, index: int) -> bytes:
        return GOOD

    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result)
    accountability.case_events = True  # as the committee's log loop sets it
    heads = HeadWatcher(rpc, v2_config.ws_url)
    accountability.follow_heads(heads)
    duty = loop.start(accountability.case_duty(b, 0))
    try:
        wait_for(lambda: heads.live, 30, "the head subscription")
        time.sleep(1.5)  # the duty read its case and found it is no voter
        k.chain.mine(1)  # (read once more: it had not yet found that out when it read the case)
        time.sleep(1.0)
        calls = rpc.calls["eth_call"]
        k.chain.mine(1)
        time.sleep(1.0)
        assert rpc.calls["eth_call"] == calls, "a case read again on a block naming it nowhere"
        accountability.case_changed(b, 0)  # an event named it
        k.chain.mine(1)
        time.sleep(1.0)
        assert rpc.calls["eth_call"] - calls == 1
        accountability.case_changed(b + 1, 0)  # a case no duty follows: no mark kept for it
        assert (b + 1, 0) not in accountability._stale_cases
    finally:
        duty.cancel()
        time.sleep(0.1)
        loop.run(accountability.close(), 30)
        loop.run(heads.aclose(), 30)
        loop.run(rpc.aclose(), 30)
