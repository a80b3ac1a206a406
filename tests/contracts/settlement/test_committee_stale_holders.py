"""A seat's kept holder list is dropped when its log loop reads the batch's ``BatchSeated`` (or
``Reseeded``). A worker keeps each batch's holder list once read, dropped on a reorg its head
watcher sees; anvil 1.7.1 can serve a block whose parent it lost, so a deep reorg went unseen and
the lost chain's list stayed kept after the batch was reseeded and seated with another draw: every
seat then looked its own commitment up by its index in the wrong list, found another holder's, and
never revealed (an honest seat slashed as a no-show; reorg-deep seed 1180). Real anvil, three real
committee duties with their log loops, the contracts' own seating."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_utils import keccak

from peerhost.chain.config import ChainConfig
from peerhost.chain.settlement import holder_words
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.committee import Committee

from .worker_harness import Seats, ThreadLoop, ledger_committee, wait_for

PH_AWAITING, PH_FINALIZED = 1, 5
SEAT_SLASHED = "0x" + keccak(b"SeatSlashed(uint256,address,uint256,uint8)").hex()
#: A holder the draw never names: a list with it in front puts every worker at another index.
STRANGER = "0x000000000000000000000000000000000000dEaD"


def test_seat__holder_list_kept_from_a_lost_chain__dropped_on_seating__every_holder_reveals_and_claims(
    ready: Any, v2_config: ChainConfig, workers: list[Any], loop: ThreadLoop, tmp_path: Path
) -> None:
    kit = ready
    tickets = kit.tickets(2)
    running = Seats(v2_config, workers[:3], kit, loop, tmp_path, tickets, mine_blocks=True)

    async def keep(committee: Committee) -> None:  # as a worker node does
        committee.view.keep_holders(committee.heads)

    try:
        for committee in running.committees:
            loop.run(keep(committee))
        start = int(kit.chain.blocks.head.number)
        running.read_to(start)
        posted = kit.post(tickets=tickets)
        batch_id = posted.batch_id
        # the list a lost chain's seating left kept (before this chain's seed block comes: the
        # seats mine it only once no block came for a moment)
        stale = ([STRANGER] + [str(w.address) for w in workers[:3]], [1, 1, 1, 1])
        for committee in running.committees:
            committee.view._holders[batch_id] = stale
        assert int(kit.coordinator.phaseOf(batch_id)) == PH_AWAITING, "seated before the stale list"
        wait_for(
            lambda: int(kit.coordinator.phaseOf(batch_id)) >= PH_FINALIZED,
            90,
            f"batch {batch_id} finalized with every holder's reveal",
        )
        holders, _ = kit.holders_of(batch_id)
        for holder in holders:
            assert kit.vote_of(batch_id, holder) != bytes(32), f"holder {holder} never committed"
        slashed = kit.request(
            "eth_getLogs",
            [
                {
                    "address": str(kit.coordinator.address),
                    "fromBlock": hex(start),
                    "topics": [SEAT_SLASHED, "0x" + batch_id.to_bytes(32, "big").hex()],
                }
            ],
        )
        assert slashed == [], "an honest seat was slashed: it looked its vote up in a stale list"
        for committee in running.committees:  # the kept list is this chain's (or none)
            kept = committee.view._holders.get(batch_id)
            assert kept is None or STRANGER not in kept[0]
        # a kept list the contract refuses (HoldersMismatch) is read again: each holder's pay
        # is still found (a claim gave up on such a list; its pay waited for a claim by hand)
        words = holder_words(holders, kit.holders_of(batch_id)[1])
        for committee, worker in zip(running.committees, workers[:3], strict=True):
            committee.view._holders[batch_id] = stale
            owed = int(kit.coordinator.seatPayOf(batch_id, str(worker.address), words))
            if str(worker.address).lower() in [h.lower() for h in holders]:
                assert owed > 0, f"holder {worker.address} earned nothing to claim"
            assert loop.run(committee.view.seat_pay_of(batch_id, str(worker.address))) == owed
            assert STRANGER not in committee.view._holders[batch_id][0]
    finally:
        running.close()


def test_duty__seating_gone_between_the_book_and_the_holder_read__duty_starts_again(
    ready: Any, v2_config: ChainConfig, workers: list[Any], loop: ThreadLoop, tmp_path: Path
) -> None:
    """A holder's duty read the batch seated (its batch book), then its holder list a moment
    later, after a reorg had taken the seating away: an empty list, taken for "not a holder". The
    duty ended in silence, and when another seat seated the same draw again the holder was
    slashed as a no-show (reorg-shallow seed 1220). It starts again now."""
    kit = ready
    me = workers[0]
    for _ in range(60):  # a batch whose draw gives ``me`` a seat, and the chain before its seating
        posted = kit.post(1)
        fork = kit.request("evm_snapshot", [])
        if str(me.address) in kit.seat(posted.batch_id):
            break
    else:
        raise AssertionError("no draw gave the worker a seat in 60 tries")
    batch_id = posted.batch_id
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    committee, rpc = ledger_committee(v2_config, me, ledger)
    try:
        assert int(loop.run(committee.book.batch(batch_id))["holderCount"]) > 0  # read seated
        committee.book.tick = committee.book.refresh = 600.0  # ... just before the reorg
        assert kit.request("evm_revert", [fork])  # the seating taken away
        assert int(kit.coordinator.phaseOf(batch_id)) == PH_AWAITING
        # the old duty waited for the batch's end as a non-holder: no answer in 30 s
        assert loop.run(committee.duty(batch_id, {}), 30) is True  # drawn again: starts again
    finally:
        loop.run(committee.close())
        loop.run(rpc.aclose())
        ledger.close()
