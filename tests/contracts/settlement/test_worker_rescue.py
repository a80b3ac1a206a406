"""A batch nobody could seat is not left holding its rewards: the worker's committee duty sends
``reseed`` once the seed block's hash is out of ``BLOCKHASH``'s reach (no header proof can seat
it), and ``expire`` once the seat window has passed unseated (its rewards go back to the
project's reserve)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peerhost.chain.abis import load_abi
from peerhost.chain.codec import ContractCodec
from peerhost.chain.config import ChainConfig

from .worker_harness import LedgerWorker, ThreadLoop, sent_to_coordinator, wait_for

PH_AWAITING, PH_EXPIRED = 1, 7
_CODEC = ContractCodec(load_abi("SettlementCoordinator"))
RESEED = _CODEC.encode_call("reseed", 0)[:4]
EXPIRE = _CODEC.encode_call("expire", 0)[:4]


def test_committee__seed_hash_out_of_reach__worker_reseeds_and_batch_seats(
    ready: Any,
    workers: list[Any],
    v2_config: ChainConfig,
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    kit = ready
    tickets = kit.tickets(1)
    posted = kit.post(tickets=tickets)
    batch_id = posted.batch_id
    old_seed = int(kit.coordinator.getBatch(batch_id).seedBlock)
    since = int(kit.chain.blocks.head.number)
    # past the seed block by more than 256 blocks: BLOCKHASH(seedBlock) is zero for the chain
    kit.chain.mine(old_seed - since + 260)
    duty = LedgerWorker(
        v2_config, workers[0], tmp_path, kit, tickets, seat_grace=0.5, mine_blocks=True
    )
    duty.start(loop, batch_id)
    coordinator = kit.coordinator
    wait_for(lambda: coordinator.phaseOf(batch_id) != PH_AWAITING, 60, "the batch seated")
    new_seed = int(coordinator.getBatch(batch_id).seedBlock)
    assert new_seed > old_seed + 256  # moved forward by the reseed
    sent = sent_to_coordinator(kit, since)
    assert sent.count(RESEED) == 1
    assert coordinator.phaseOf(batch_id) != PH_EXPIRED  # seated, not refunded
    duty.stop(loop)


def test_committee__unseated_past_seat_window__worker_expires_it_and_reserve_refunded(
    ready: Any,
    workers: list[Any],
    v2_config: ChainConfig,
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    kit = ready
    tickets = kit.tickets(2)
    posted = kit.post(tickets=tickets)
    batch_id = posted.batch_id
    reserve = kit.s.gateways.reserveOf(kit.project_id).balance
    since = int(kit.chain.blocks.head.number)
    kit.chain.mine(deltatime=kit.params.seat_window + 1)  # nobody seated it in its window
    duty = LedgerWorker(v2_config, workers[0], tmp_path, kit, tickets, seat_grace=0.5)
    duty.start(loop, batch_id)
    coordinator = kit.coordinator
    wait_for(lambda: coordinator.phaseOf(batch_id) == PH_EXPIRED, 60, "the batch expired")
    assert kit.s.gateways.reserveOf(kit.project_id).balance == reserve + sum(
        t.reward for t in tickets
    )
    sent = sent_to_coordinator(kit, since)
    assert EXPIRE in sent
    assert not set(sent) & {
        _CODEC.encode_call("seat", 0, b"")[:4],
        _CODEC.encode_call("seatAndCommit", 0, b"", bytes(32), [])[:4],
    }  # expired, never seated late
    duty.stop(loop)
