"""A worker's seat claims its committee pay of a settled batch once the challenge window passed
(``Accountability.claim_seat_pay``): it is sent exactly what the coordinator held for it, a
second claim sends no transaction, and the pay of batches whose windows ended meanwhile goes in
one claim. Real anvil, real coordinator, the worker's own sender."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.wire.batch import Leaf

from .conftest import GOOD, distinct, seat_until
from .worker_harness import ThreadLoop, accountability_of, wait_for


def _all_agree(k: Any, batch_id: int, accounts_by_address: dict[str, Any]) -> None:
    """Every holder of ``batch_id`` commits and reveals the same one-leaf vector: it settles."""
    seated = [str(h) for h in k.holders_of(batch_id)[0]]
    for h in seated:
        k.commit(batch_id, accounts_by_address[h], [GOOD])
    for h in seated:
        k.reveal(batch_id, accounts_by_address[h], [GOOD])


def _settled_batch(k: Any, accounts_by_address: dict[str, Any]) -> tuple[Any, list[str]]:
    """A batch seated on three distinct holders, all agreeing: the posted batch, its holders."""
    posted, holders = seat_until(k, distinct(3))
    _all_agree(k, posted.batch_id, accounts_by_address)
    return posted, holders


async def _leaf_result(batch_id: int, index: int) -> bytes:
    return GOOD


def _claimer(k: Any, config: ChainConfig, me: Any, posted: Any) -> tuple[Any, Any]:
    """``me``'s accountability duties (claims sent at once) knowing ``posted``'s leaves."""

    async def leaves_of(batch_id: int) -> tuple[str, list[Leaf]]:
        return str(k.gateway.address), [Leaf.of(t) for t in posted.tickets]

    return accountability_of(config, me, leaves_of, _leaf_result, claim_delay=0.0)


@pytest.fixture
def k(kit: Any, workers: list[Any]) -> Any:
    kit.stake(workers[:5])
    kit.open_project()
    return kit


def test_claim_seat_pay__after_the_window__paid_once_then_nothing_sent(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    posted, holders = _settled_batch(k, accounts_by_address)
    b = posted.batch_id
    me = accounts_by_address[holders[0]]

    rpc, accountability = _claimer(k, v2_config, me, posted)
    k.wait_challenge_window(b)
    ends = int(k.coordinator.getBatch(b).finalizedAt) + int(k.s.court.courtParams().challengeWindow)
    owed = int(k.coordinator.seatPayOf(b, me, k.hl(b)))
    assert owed > 0
    before = int(k.chain.provider.get_balance(me.address))
    nonce = int(k.chain.provider.get_nonce(me.address))
    loop.run(accountability.claim_seat_pay(b, ends), 30)
    assert int(k.chain.provider.get_nonce(me.address)) == nonce + 1
    fee = before + owed - int(k.chain.provider.get_balance(me.address))
    assert fee == 0  # gas is free on this chain: the pay arrived in full, not a wei less
    assert int(k.coordinator.seatPayOf(b, me, k.hl(b))) == 0
    loop.run(accountability.claim_seat_pay(b, ends), 30)  # nothing left: no transaction
    assert int(k.chain.provider.get_nonce(me.address)) == nonce + 1
    loop.run(accountability.close(), 30)
    loop.run(rpc.aclose(), 30)


def test_claim_seat_pay__two_batches_due__one_claim_pays_both(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    first, holders = seat_until(k, distinct(3))
    second, _ = seat_until(k, lambda hs, seats: holders[0] in hs)
    me = accounts_by_address[holders[0]]
    for posted in (first, second):
        _all_agree(k, posted.batch_id, accounts_by_address)

    async def leaves_of(batch_id: int) -> tuple[str, list[Leaf]]:
        return str(k.gateway.address), []

    rpc, accountability = accountability_of(v2_config, me, leaves_of, _leaf_result, claim_delay=1.0)
    window = int(k.s.court.courtParams().challengeWindow)
    ids = (first.batch_id, second.batch_id)
    k.wait_challenge_window(second.batch_id)
    k.wait_challenge_window(first.batch_id)
    ends = {b: int(k.coordinator.getBatch(b).finalizedAt) + window for b in ids}
    owed = {b: int(k.coordinator.seatPayOf(b, me, k.hl(b))) for b in ids}
    assert all(owed.values())
    before = int(k.chain.provider.get_balance(me.address))
    nonce = int(k.chain.provider.get_nonce(me.address))

    async def both() -> None:
        await asyncio.gather(*(accountability.claim_seat_pay(b, ends[b]) for b in ids))

    loop.run(both(), 60)
    assert int(k.chain.provider.get_nonce(me.address)) == nonce + 1  # one claim
    assert accountability.claims == 1
    fee = before + sum(owed.values()) - int(k.chain.provider.get_balance(me.address))
    assert fee == 0  # gas is free on this chain: both batches' pay arrived in full
    assert [int(k.coordinator.seatPayOf(b, me, k.hl(b))) for b in ids] == [0, 0]
    loop.run(accountability.close(), 30)
    loop.run(rpc.aclose(), 30)


def test_sweep_claims__pay_owed_from_before_a_start__claimed_once_nothing_for_others(
    k: Any,
    workers: list[Any],
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    # a batch settled while this worker was away: no duty of this process saw it
    posted, holders = _settled_batch(k, accounts_by_address)
    b = posted.batch_id
    k.wait_challenge_window(b)
    me = accounts_by_address[holders[0]]
    stranger = next(w for w in workers[:5] if str(w.address) not in holders)

    async def leaves_of(batch_id: int) -> tuple[str, list[Leaf]]:
        return str(k.gateway.address), []

    owed = int(k.coordinator.seatPayOf(b, me, k.hl(b)))
    assert owed > 0
    before = int(k.chain.provider.get_balance(me.address))
    nonce = int(k.chain.provider.get_nonce(me.address))
    rpc, accountability = accountability_of(v2_config, me, leaves_of, _leaf_result, claim_delay=0.0)
    assert loop.run(accountability.sweep_claims(), 30) >= 1
    wait_for(lambda: int(k.coordinator.seatPayOf(b, me, k.hl(b))) == 0, 30, "the swept claim")
    assert int(k.chain.provider.get_balance(me.address)) == before + owed  # gas is free here
    assert int(k.chain.provider.get_nonce(me.address)) == nonce + 1
    assert loop.run(accountability.sweep_claims(), 30) == 0  # nothing owed: nothing sent
    loop.run(accountability.close(), 30)
    loop.run(rpc.aclose(), 30)
    other_rpc, other = accountability_of(v2_config, stranger, leaves_of, _leaf_result)
    assert loop.run(other.sweep_claims(), 30) == 0  # a worker that held no seat is owed nothing
    loop.run(other.close(), 30)
    loop.run(other_rpc.aclose(), 30)


def test_claim_seat_pay__holder_list_kept_from_a_lost_seating__read_again_and_paid(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    """A worker's view keeps each batch's holder list; one a reorg's reseating replaced is refused
    by the contract (``HoldersMismatch``). The claim reads the chain's list again and is paid (it
    gave up, and the pay waited for a claim by hand)."""
    posted, holders = _settled_batch(k, accounts_by_address)
    b = posted.batch_id
    me = accounts_by_address[holders[0]]

    rpc, accountability = _claimer(k, v2_config, me, posted)
    stale = "0x000000000000000000000000000000000000dEaD"
    accountability.view._holders[b] = ([stale, *holders], [1] * (len(holders) + 1))
    k.wait_challenge_window(b)
    ends = int(k.coordinator.getBatch(b).finalizedAt) + int(k.s.court.courtParams().challengeWindow)
    owed = int(k.coordinator.seatPayOf(b, me, k.hl(b)))
    assert owed > 0
    before = int(k.chain.provider.get_balance(me.address))
    loop.run(accountability.claim_seat_pay(b, ends), 30)
    assert int(k.chain.provider.get_balance(me.address)) == before + owed
    assert int(k.coordinator.seatPayOf(b, me, k.hl(b))) == 0
    kept = accountability.view._holders.get(b)
    assert kept is None or stale not in kept[0]  # the refused list is not kept
    loop.run(accountability.close(), 30)
    loop.run(rpc.aclose(), 30)
