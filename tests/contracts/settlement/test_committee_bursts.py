"""The committee's log loop on a chain that mines a burst of blocks at once (a devnet that mines a
block per transaction: every post, commit and reveal): the burst is read as one range, with no
header read when the head watcher saw its blocks linked, and nothing of the protocol's timing
moves: a seed block inside the burst still seats the batch with the holders' commitments, a reorg
inside a range read as one is still seen, and the tickets a batch carries are known posted
without a call per ticket. On such a chain the seat mines a seed's blocks only when none come."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hexbytes import HexBytes

from peerhost.chain.config import ChainConfig
from peerhost.wire.batch import Leaf, encode_posted
from peerhost.wire.ticket import Ticket
from peerhost.worker.attested import POSTED, AttestedLedger

from .worker_harness import Seats, ThreadLoop, wait_for

PH_AWAITING = 1


@pytest.fixture
def seats(
    ready: Any, v2_config: ChainConfig, workers: list[Any], loop: ThreadLoop, tmp_path: Path
) -> Iterator[Any]:
    made: list[Seats] = []

    def make(tickets: list[Ticket], **options: Any) -> Seats:
        made.append(Seats(v2_config, workers[:3], ready, loop, tmp_path, tickets, **options))
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_log_loop__burst_with_the_seed_block_inside__one_range_read_and_holders_commit(
    ready: Any, seats: Any, chain: Any
) -> None:
    kit = ready
    tickets = kit.tickets(2)
    running = seats(tickets)
    running.read_to(int(chain.blocks.head.number))
    # a burst while no duty runs: read as one range (maybe two: a read begun as its first blocks
    # came), not a read per block, and no header read (the watcher saw its blocks linked)
    reads = [c.log_reads for c in running.committees]
    headers = [rpc.calls["eth_getBlockByNumber"] for rpc in running.rpcs]
    kit.request("anvil_mine", ["0xc"])
    running.read_to(int(chain.blocks.head.number))
    for committee, before in zip(running.committees, reads, strict=True):
        assert committee.log_reads - before <= 3, "12 blocks read block by block"
    assert any(
        rpc.calls["eth_getBlockByNumber"] == before
        for rpc, before in zip(running.rpcs, headers, strict=True)
    ), "no log loop took the burst's pushed heads for one chain (header reads)"
    # a burst with the seed block inside: the seats still seat the batch and commit
    posted = kit.post(tickets=tickets)
    seed_block = int(kit.coordinator.getBatch(posted.batch_id).seedBlock)
    running.read_to(int(chain.blocks.head.number))
    burst = seed_block - int(chain.blocks.head.number) + 8
    kit.request("anvil_mine", [hex(burst)])
    wait_for(
        lambda: int(kit.coordinator.phaseOf(posted.batch_id)) != PH_AWAITING,
        30,
        "the batch seated by a holder's commitment",
    )
    holders, _ = kit.holders_of(posted.batch_id)
    for holder in holders:
        wait_for(
            lambda holder=holder: kit.vote_of(posted.batch_id, holder) != bytes(32),
            30,
            f"holder {holder}'s commitment",
        )
    # the tickets the batch carries are known posted from its calldata (no isSeqPosted each)
    for ledger in running.ledgers:
        wait_for(
            lambda ledger=ledger: all(_state(ledger, t) == POSTED for t in tickets),
            30,
            "the batch's tickets marked posted in the seat's ledger",
        )
        assert ledger.unposted() == []
        for t in tickets:  # marked posted by the batch that carries them
            kept = ledger.get(t.gateway, t.seq)
            assert kept is not None and kept.batch_id == posted.batch_id


def _state(ledger: AttestedLedger, ticket: Ticket) -> str | None:
    kept = ledger.get(ticket.gateway, ticket.seq)
    return kept.state if kept is not None else None


def test_log_loop__reorg_inside_a_burst_read_as_one__post_on_new_branch_starts_its_duty(
    ready: Any, seats: Any, chain: Any
) -> None:
    """The burst and the reorg come before the log loop wakes again: the range it reads ends on
    the new branch, its blocks from the last one read are not the ones the watcher saw linked
    (or not all seen): the loop reads the fork point with a call and reads the new branch's
    post."""
    kit = ready
    running = seats([])
    running.read_to(int(chain.blocks.head.number))
    tickets = kit.tickets(2)
    head, leaves = encode_posted([Leaf.of(t) for t in tickets])
    data = kit.coordinator.postBatch.encode_input(
        kit.project_id, tickets[0].engine_profile, head.as_tuple(), bytes(32), leaves
    )
    post = {
        "from": str(kit.gateway.address),
        "to": str(kit.coordinator.address),
        "data": HexBytes(data).to_0x_hex(),
        "gas": hex(2_000_000),
    }
    before = int(kit.coordinator.batchCount())
    kit.request("anvil_mine", ["0x6"])
    kit.request("anvil_reorg", [3, [[post, 0]]])  # the post 3 blocks deep, inside the burst
    assert int(kit.coordinator.batchCount()) == before + 1, "the new branch holds no post"
    batch_id = before + 1
    for committee in running.committees:
        wait_for(
            lambda committee=committee: batch_id in committee.tasks,
            30,
            "the duty of the batch posted inside the burst, on the new branch",
        )


def test_log_loop__reorg_inside_a_burst_then_a_block_on_top__post_on_new_branch_starts_its_duty(
    ready: Any, seats: Any, chain: Any
) -> None:
    """As above, with a block mined on the new branch before the loop wakes: the head's parent is
    a block of the new branch, so the head alone does not show the reorg. The blocks from the
    last one read to the head, linked by the watcher's pushed heads (the new branch's, pushed
    one by one), do not hold the block last read (the fork replaced it), and the logs read name
    blocks the watcher may not have linked: the loop reads the new branch's post either way."""
    kit = ready
    running = seats([])
    running.read_to(int(chain.blocks.head.number))
    tickets = kit.tickets(2)
    head, leaves = encode_posted([Leaf.of(t) for t in tickets])
    data = kit.coordinator.postBatch.encode_input(
        kit.project_id, tickets[0].engine_profile, head.as_tuple(), bytes(32), leaves
    )
    post = {
        "from": str(kit.gateway.address),
        "to": str(kit.coordinator.address),
        "data": HexBytes(data).to_0x_hex(),
        "gas": hex(2_000_000),
    }
    before = int(kit.coordinator.batchCount())
    kit.request("anvil_mine", ["0x6"])
    running.read_to(int(chain.blocks.head.number))  # the burst read: its top is the last read
    kit.request("anvil_reorg", [3, [[post, 0]]])  # the post 3 blocks deep, inside the burst
    kit.request("evm_mine", [])  # a block on top of the new branch
    assert int(kit.coordinator.batchCount()) == before + 1, "the new branch holds no post"
    batch_id = before + 1
    for committee in running.committees:
        wait_for(
            lambda committee=committee: batch_id in committee.tasks,
            30,
            "the duty of the batch posted inside the burst, on the new branch",
        )


def test_seat__blocks_come_from_traffic__no_block_mined_for_the_seed(
    ready: Any, seats: Any, chain: Any
) -> None:
    """On a devnet that mines on transactions, while blocks come (calls' posts, commits and
    reveals) the seats mine nothing for a seed: the blocks come anyway. Once they stop, a seat
    mines the blocks its seed still needs, and the batch is seated."""
    kit = ready
    tickets = kit.tickets(2)
    running = seats(tickets, mine_blocks=True)
    running.read_to(int(chain.blocks.head.number))
    stop = threading.Event()

    def traffic() -> None:  # a block every 0.1 s, as calls bring them
        while not stop.wait(0.1):
            kit.request("evm_mine", [])

    ticking = threading.Thread(target=traffic, daemon=True)
    ticking.start()
    try:
        posted = kit.post(tickets=tickets[:1])
        wait_for(
            lambda: int(kit.coordinator.phaseOf(posted.batch_id)) != PH_AWAITING,
            30,
            "the batch seated while blocks come",
        )
        assert [rpc.calls["anvil_mine"] for rpc in running.rpcs] == [0, 0, 0]
    finally:
        stop.set()
        ticking.join()
    quiet = kit.post(tickets=tickets[1:])
    seed_block = int(kit.coordinator.getBatch(quiet.batch_id).seedBlock)
    wait_for(
        lambda: int(chain.blocks.head.number) >= seed_block,
        30,
        "the seed block mined by a seat once no block came (nothing else mines one)",
    )
    assert sum(rpc.calls["anvil_mine"] for rpc in running.rpcs) >= 1


def test_carried_mark__post_reorged_out__tickets_attested_again_for_the_orphan_rounds(
    ready: Any, seats: Any, chain: Any
) -> None:
    """A seat marks the tickets a batch carries posted from its calldata; when a reorg drops the
    post (nothing mines it again: a gateway that restarted lost it), the mark is undone: the
    tickets are attested and unposted again, so an attester posts them as orphans (else they were
    never posted, never paid)."""
    kit = ready
    tickets = kit.tickets(2)
    running = seats(tickets)
    running.read_to(int(chain.blocks.head.number))
    before = int(kit.coordinator.batchCount())
    posted = kit.post(tickets=tickets)
    post_block = int(chain.blocks.head.number)
    seed_block = int(kit.coordinator.getBatch(posted.batch_id).seedBlock)
    kit.request("anvil_mine", [hex(seed_block - post_block + 1)])

    def marked() -> int:
        return sum(all(_state(ledger, t) == POSTED for t in tickets) for ledger in running.ledgers)

    wait_for(lambda: marked() >= 2, 30, "two seats' ledgers marking the batch's tickets posted")
    kit.request("evm_setAutomine", [False])
    try:
        depth = int(chain.blocks.head.number) - post_block + 1
        kit.request("anvil_reorg", [depth, []])
        kit.request("anvil_dropAllTransactions", [])
        assert int(kit.coordinator.batchCount()) == before, "the reorg left the post"
        assert not kit.coordinator.isSeqPosted(kit.gateway.address, tickets[0].seq)
        for ledger in running.ledgers:
            wait_for(
                lambda ledger=ledger: all(_state(ledger, t) == "attested" for t in tickets),
                30,
                "the reorged-out batch's tickets attested again in every seat's ledger",
            )
            assert {t.ticket.seq for t in ledger.unposted()} == {t.seq for t in tickets}
    finally:
        kit.request("anvil_dropAllTransactions", [])
        kit.request("evm_setAutomine", [True])
