"""The worker's committee duty seats a batch with its first holder's commitment (``seatAndCommit``):
no ``seat`` transaction in a batch's life, unless no holder shows up (then a worker without a seat
seats it, so the batch still reaches a terminal state)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peerhost.chain.abis import load_abi
from peerhost.chain.codec import ContractCodec
from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.settlement import SettlementView

from .worker_harness import LedgerWorker, ThreadLoop, sent_to_coordinator, wait_for

PH_AWAITING, PH_COMMIT, PH_FINALIZED, PH_CLOSED = 1, 2, 5, 6
_CODEC = ContractCodec(load_abi("SettlementCoordinator"))
SEAT = _CODEC.encode_call("seat", 0, b"")[:4]
SEAT_AND_COMMIT = _CODEC.encode_call("seatAndCommit", 0, b"", bytes(32), [])[:4]


def _drawn(kit: Any, config: ChainConfig, loop: ThreadLoop, batch_id: int) -> list[str]:
    rpc = RpcClient(config.rpc_url)
    draw = loop.run(SettlementView(config, rpc).seat_draw(batch_id))
    loop.run(rpc.aclose())
    assert draw is not None
    return draw.holders


def _post_and_reach_seed(kit: Any) -> tuple[list[Any], int, int]:
    tickets = kit.tickets(1)
    posted = kit.post(tickets=tickets)
    seed_block = int(kit.coordinator.getBatch(posted.batch_id).seedBlock)
    kit.chain.mine(seed_block - int(kit.chain.blocks.head.number) + 1)
    return tickets, posted.batch_id, seed_block


def test_committee__holders_of_unseated_batch__seat_with_a_commit_and_settle_without_seat_tx(
    ready: Any,
    workers: list[Any],
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    kit = ready
    tickets, batch_id, seed_block = _post_and_reach_seed(kit)
    holders = _drawn(kit, v2_config, loop, batch_id)
    outsider = next((w for w in workers[:3] if str(w.address) not in holders), None)
    duties = [
        LedgerWorker(v2_config, accounts_by_address[h], tmp_path, kit, tickets) for h in holders
    ] + (
        [LedgerWorker(v2_config, outsider, tmp_path, kit, tickets)] if outsider is not None else []
    )
    for d in duties:
        d.start(loop, batch_id)
    coordinator = kit.coordinator
    wait_for(
        lambda: coordinator.phaseOf(batch_id) in (PH_FINALIZED, PH_CLOSED),
        60,
        "the batch settled by the workers",
    )
    assert coordinator.getBatch(batch_id).finalMask == 1  # every holder revealed GOOD
    assert sorted(str(h) for h in kit.holders_of(batch_id)[0]) == sorted(holders)
    sent = sent_to_coordinator(kit, seed_block)
    assert SEAT not in sent  # nobody sent a seat transaction (the outsider left it to the seats)
    assert SEAT_AND_COMMIT in sent
    for d in duties:
        d.stop(loop)


def test_committee__no_holder_seats_within_grace__worker_without_seat_seats_it(
    ready: Any,
    workers: list[Any],
    v2_config: ChainConfig,
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    kit = ready
    for _ in range(30):  # a draw that leaves some staked worker without a seat
        tickets, batch_id, seed_block = _post_and_reach_seed(kit)
        holders = _drawn(kit, v2_config, loop, batch_id)
        outsider = next((w for w in workers[:3] if str(w.address) not in holders), None)
        if outsider is not None:
            break
    assert outsider is not None, "every draw seated all three workers"
    duty = LedgerWorker(v2_config, outsider, tmp_path, kit, tickets, seat_grace=0.5)
    duty.start(loop, batch_id)
    coordinator = kit.coordinator
    wait_for(lambda: coordinator.phaseOf(batch_id) != PH_AWAITING, 30, "the batch seated")
    assert coordinator.phaseOf(batch_id) == PH_COMMIT
    assert SEAT in sent_to_coordinator(kit, seed_block)
    assert str(outsider.address) not in [str(h) for h in kit.holders_of(batch_id)[0]]
    duty.stop(loop)
