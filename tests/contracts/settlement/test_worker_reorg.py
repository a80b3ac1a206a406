"""A shallow reorg (``anvil_reorg``) drops a worker's mined transactions on the real chain: its
sender re-sends what the chain lost instead of queueing behind the dropped nonce, and its
committee duty commits again and reveals."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from eth_utils import to_checksum_address
from hexbytes import HexBytes

from peerhost.chain.config import ChainConfig
from peerhost.chain.heads import HeadWatcher
from peerhost.chain.rpc import RpcClient
from peerhost.chain.sender import TxSender
from peerhost.chain.settlement import SettlementView
from peerhost.wire.batch import ABSTAIN, Leaf, encode_posted, vector_hash
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.committee import Committee
from peerhost.worker.duties import seat_key

from .worker_harness import ThreadLoop, key_of, ledger_committee, wait_for

GOOD = b"\x11" * 32
PH_AWAITING, PH_COMMIT, PH_REVEAL, PH_SETTLE, PH_FINALIZED, PH_CLOSED = 1, 2, 3, 4, 5, 6


def test_sender__mined_transaction_dropped_by_reorg__next_send_mines_and_lost_one_resent(
    v2_config: ChainConfig, stranger: Any, chain: Any, loop: ThreadLoop
) -> None:
    rpc = RpcClient(v2_config.rpc_url)
    sender = TxSender(rpc, key_of(stranger), v2_config.chain_id)
    to = "0x000000000000000000000000000000000000dEaD"

    async def first() -> dict[str, Any]:
        return await sender.wait(await sender.send(to, b"", gas=21_000, value=1), timeout=20)

    receipt = loop.run(first())
    chain.provider.make_request("anvil_reorg", [1, []])
    assert (
        chain.provider.make_request("eth_getTransactionReceipt", [receipt["transactionHash"]])
        is None
    )

    async def second() -> dict[str, Any]:
        # the local nonce is one past the chain's: without a resync this waits behind the gap
        return await sender.wait(await sender.send(to, b"", gas=21_000, value=2), timeout=20)

    again = loop.run(second())
    assert int(again["status"], 16) == 1
    assert int(again["blockNumber"], 16) >= int(receipt["blockNumber"], 16)
    assert sender.resent == 1  # the second send went out behind the gap and was sent again
    loop.run(rpc.aclose())


def test_committee__commit_and_reveal_dropped_by_reorg__worker_sends_both_again(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    kit = ready
    tickets = kit.tickets(1)
    posted = kit.post(tickets=tickets)
    holders = kit.seat(posted.batch_id)
    me = accounts_by_address[holders[0]]
    others = [accounts_by_address[h] for h in holders[1:]]
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    ledger.claim(tickets[0], b"\x01" * 32, kit.project_id, b"\x02" * 65)
    ledger.attest(tickets[0], GOOD, b"\x03" * 65)  # the worker ran it: its result is known
    committee, rpc = ledger_committee(v2_config, me, ledger)
    coordinator = kit.coordinator
    duty = loop.start(committee.duty(posted.batch_id, {}))

    def vote() -> bytes:
        return bytes(kit.vote_of(posted.batch_id, me.address))

    wait_for(lambda: vote() != bytes(32), 30, "the worker's commitment")
    chain.provider.make_request("anvil_reorg", [1, []])
    assert vote() == bytes(32), "the reorg did not drop the commitment"
    assert coordinator.phaseOf(posted.batch_id) == PH_COMMIT
    wait_for(lambda: vote() != bytes(32), 30, "the commitment sent again after the reorg")

    for other in others:
        kit.commit(posted.batch_id, other, [GOOD])
    if coordinator.phaseOf(posted.batch_id) == PH_COMMIT:
        chain.mine(deltatime=int(kit.params.commit_window) + 1)
    wait_for(lambda: coordinator.phaseOf(posted.batch_id) != PH_COMMIT, 30, "the reveal phase")
    audited = int(coordinator.getBatch(posted.batch_id).auditMask) & 1
    revealed = vector_hash([GOOD if audited else ABSTAIN])
    wait_for(lambda: vote() == revealed, 30, "the worker's reveal")
    chain.provider.make_request("anvil_reorg", [1, []])  # drops the reveal: the commitment again
    assert vote() not in (revealed, bytes(32)), "the reorg did not drop the reveal"
    wait_for(lambda: vote() == revealed, 30, "the reveal sent again after the reorg")
    duty.cancel()
    loop.run(committee.close())
    loop.run(rpc.aclose())
    ledger.close()


def _seated_with_others(kit: Any) -> tuple[list[Any], Any, list[str]]:
    """Posts and seats one-ticket batches until the draw has at least two distinct holders."""
    for _ in range(60):
        tickets = kit.tickets(1)
        posted = kit.post(tickets=tickets)
        holders = kit.seat(posted.batch_id)
        if len(holders) >= 2:
            return tickets, posted, holders
    raise AssertionError("no draw with two distinct holders in 60 tries")


def test_committee__reorg_takes_batch_back_from_reveal_to_commit__worker_reveals_again(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    """A deeper reorg drops this seat's reveal *and* another holder's commitment: the batch is
    back in its Commit phase with this seat's commitment standing. Once the other holder commits
    again the seat must reveal again (it used to end its duty when it saw Commit after Reveal, and
    was slashed as a no-show)."""
    kit = ready
    tickets, posted, holders = _seated_with_others(kit)
    me = accounts_by_address[holders[0]]
    others = [accounts_by_address[h] for h in holders[1:]]
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    ledger.claim(tickets[0], b"\x01" * 32, kit.project_id, b"\x02" * 65)
    ledger.attest(tickets[0], GOOD, b"\x03" * 65)
    committee, rpc = ledger_committee(v2_config, me, ledger)
    coordinator = kit.coordinator
    batch_id = posted.batch_id
    duty = loop.start(committee.duty(batch_id, {}))

    def vote() -> bytes:
        return bytes(kit.vote_of(batch_id, me.address))

    wait_for(lambda: vote() != bytes(32), 30, "the worker's commitment")
    commitment = vote()
    for other in others:  # the last of these commitments ends the Commit phase
        kit.commit(batch_id, other, [GOOD])
    assert coordinator.phaseOf(batch_id) == PH_REVEAL
    audited = int(coordinator.getBatch(batch_id).auditMask) & 1
    revealed = vector_hash([GOOD if audited else ABSTAIN])
    wait_for(lambda: vote() == revealed, 30, "the worker's reveal")
    # drops the reveal's block and the last other holder's commitment's block
    chain.provider.make_request("anvil_reorg", [2, []])
    assert vote() == commitment, "the reorg did not drop the reveal alone of this seat's votes"
    assert coordinator.phaseOf(batch_id) == PH_COMMIT, "the reorg did not reopen the commit phase"
    time.sleep(1.0)  # the duty sees the Commit phase again (it must not end there)
    kit.commit(batch_id, others[-1], [GOOD])
    assert coordinator.phaseOf(batch_id) == PH_REVEAL
    wait_for(lambda: vote() == revealed, 30, "the reveal sent again after the reorg")
    assert not duty.done() or duty.exception() is None
    duty.cancel()
    loop.run(committee.close())
    loop.run(rpc.aclose())
    ledger.close()


def test_committee__batch_posted_below_read_head_on_new_branch__duty_starts(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    """A reorg's new branch carries a batch post in a block below the head the committee had
    already read (on a live chain the new branch holds the transactions again): the committee
    reads the logs again from where the chains forked and starts that batch's duty. It used to
    read on from the old head only and never saw the post: a seat drawn on it was a no-show."""
    kit = ready
    worker = next(iter(accounts_by_address.values()))
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    committee, rpc = ledger_committee(v2_config, worker, ledger)
    running = loop.start(committee.run())
    chain.mine(4)
    head = int(chain.blocks.head.number)
    wait_for(
        lambda: bool(committee._checkpoints) and committee._checkpoints[-1][0] >= head,
        30,
        "the committee reading up to the head",
    )
    tickets = kit.tickets(2)
    batch_head, leaves = encode_posted([Leaf.of(t) for t in tickets])
    data = kit.coordinator.postBatch.encode_input(
        kit.project_id, tickets[0].engine_profile, batch_head.as_tuple(), bytes(32), leaves
    )
    post = {
        "from": str(kit.gateway.address),
        "to": str(kit.coordinator.address),
        "data": HexBytes(data).to_0x_hex(),
        "gas": hex(2_000_000),
    }
    before = int(kit.coordinator.batchCount())
    chain.provider.make_request("anvil_reorg", [3, [[post, 0]]])  # the post 3 blocks deep
    assert int(chain.blocks.head.number) == head
    assert int(kit.coordinator.batchCount()) == before + 1, "the new branch holds no post"
    batch_id = before + 1
    wait_for(lambda: batch_id in committee.tasks, 30, "the duty of the batch on the new branch")
    assert committee.reorgs >= 1
    running.cancel()
    loop.run(committee.close())
    loop.run(rpc.aclose())
    ledger.close()


class _OnceBroken(Committee):
    """A committee whose first read of a batch's leaves fails as a read mid-reorg once did (the
    post transaction gone between two reads: ``None`` where a transaction was expected)."""

    broken = 0

    async def leaves_of(self, batch_id: int) -> Any:
        if not self.broken:
            self.broken += 1
            raise TypeError("'NoneType' object is not subscriptable")
        return await super().leaves_of(batch_id)


def test_committee__duty_cut_by_unexpected_error__resumed_and_seat_commits(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    """A seat's duty cut by an error nobody foresaw (reorg-shallow seed 11: a read the node
    answered with nothing mid-reorg) resumes instead of ending, so the seat still commits; it
    used to end there and the honest seat was slashed as a no-show."""
    kit = ready
    tickets = kit.tickets(1)
    posted = kit.post(tickets=tickets)
    holders = kit.seat(posted.batch_id)
    me = accounts_by_address[holders[0]]
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    ledger.claim(tickets[0], b"\x01" * 32, kit.project_id, b"\x02" * 65)
    ledger.attest(tickets[0], GOOD, b"\x03" * 65)
    committee, rpc = ledger_committee(v2_config, me, ledger, kind=_OnceBroken)
    duty = loop.start(committee._duty(posted.batch_id, {}))
    wait_for(
        lambda: bytes(kit.vote_of(posted.batch_id, me.address)) != bytes(32),
        30,
        "the commitment after the duty was cut once",
    )
    assert committee.broken == 1
    duty.cancel()
    loop.run(committee.close())
    loop.run(rpc.aclose())
    ledger.close()


def test_holders__kept_once_read__seating_dropped_by_reorg_drops_the_entry(
    ready: Any, v2_config: ChainConfig, chain: Any, loop: ThreadLoop
) -> None:
    kit = ready
    posted = kit.post(tickets=kit.tickets(1))
    seated = kit.seat(posted.batch_id)
    rpc = RpcClient(v2_config.rpc_url)
    heads = HeadWatcher(rpc)  # polling: learns the reorg on its next read
    view = SettlementView(v2_config, rpc)
    view.keep_holders(heads)

    async def holders() -> list[str]:
        await heads.read()
        return (await view.holders_of(posted.batch_id))[0]

    assert sorted(loop.run(holders())) == sorted(seated)
    before = sum(rpc.calls.values())
    assert sorted(loop.run(holders())) == sorted(seated)
    assert sum(rpc.calls.values()) - before == 1, "a kept list costs no call (the head read only)"

    chain.provider.make_request("anvil_reorg", [1, []])  # the seating's block replaced, empty
    assert kit.holders_of(posted.batch_id)[0] == [], "the reorg did not drop the seating"
    assert loop.run(holders()) == [], "the list kept from the dropped seating was served"
    loop.run(rpc.aclose())


def test_committee__reorg_takes_a_finalized_batch_back_to_commit__holder_commits_again(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    """A reorg deeper than the finalization takes the batch back to its Commit phase, seated,
    every vote gone: the other holders commit again, and so must this one. Its seat duty had
    ended with the batch Finalized and gone on to the challenge window (a minute of sleeps): it
    never committed again and was slashed as a no-show at the next finalize (reorg-deep seed
    2101). The committee's log loop runs: it is what sees the reorg."""
    kit = ready
    tickets, posted, holders = _seated_with_others(kit)
    batch_id = posted.batch_id
    seated_at = int(chain.blocks.head.number)
    me = accounts_by_address[holders[0]]
    others = [accounts_by_address[h] for h in dict.fromkeys(holders) if h != holders[0]]
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    ledger.claim(tickets[0], b"\x01" * 32, kit.project_id, b"\x02" * 65)
    ledger.attest(tickets[0], GOOD, b"\x03" * 65)
    committee, rpc = ledger_committee(v2_config, me, ledger)
    coordinator = kit.coordinator
    running = loop.start(committee.run())

    def vote() -> bytes:
        return bytes(kit.vote_of(batch_id, me.address))

    def round_to_final() -> None:
        wait_for(lambda: vote() != bytes(32), 30, "the worker's commitment")
        for other in others:
            kit.commit(batch_id, other, [GOOD])
        assert coordinator.phaseOf(batch_id) == PH_REVEAL
        audited = int(coordinator.getBatch(batch_id).auditMask) & 1
        revealed = vector_hash([GOOD if audited else ABSTAIN])
        wait_for(lambda: vote() == revealed, 30, "the worker's reveal")
        for other in others:
            kit.reveal(batch_id, other, [GOOD])
        if coordinator.phaseOf(batch_id) == PH_SETTLE:
            vectors = [[GOOD]] * len(kit.holders_of(batch_id)[0])
            coordinator.finalize(batch_id, vectors, kit.hl(batch_id), sender=others[0])
        assert coordinator.phaseOf(batch_id) in (PH_FINALIZED, PH_CLOSED)  # its window run out

    try:
        round_to_final()
        wait_for(lambda: committee.duties.done(seat_key(batch_id)), 30, "the seat's duty done")
        time.sleep(1.5)  # its loop ended with the batch Finalized, the log loop read the block
        # every block after the seating replaced: the votes and the finalization gone
        chain.provider.make_request("anvil_reorg", [int(chain.blocks.head.number) - seated_at, []])
        assert coordinator.phaseOf(batch_id) == PH_COMMIT, "the reorg did not reopen the batch"
        assert vote() == bytes(32)
        round_to_final()  # the worker commits and reveals again (before: never, a no-show)
        assert committee.reorgs >= 1
    finally:
        running.cancel()
        loop.run(committee.close())
        loop.run(rpc.aclose())
        ledger.close()


def _draw_holders(kit: Any, batch_id: int) -> list[str]:
    """The distinct holders the batch's seed block draws now (before seating)."""
    return [str(to_checksum_address(w & ((1 << 160) - 1))) for w in kit.draw_hl(batch_id)]


def test_committee__reorg_redraws_the_seats_with_this_worker__it_seats_and_commits(
    ready: Any,
    workers: list[Any],
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    """A worker without a seat waits while the others vote. A reorg drops the seating and the
    seats are drawn again (here after reseeds), this time with one of this worker's, and another
    seat seats the batch at once. It used to wait on as a worker without a seat (it polls the
    phase once a second and never saw the batch awaiting its seats), and the new seat was slashed
    as a no-show at the finalize (``reorg-deep`` seed 3000: there the reorg's new seed block drew
    worker-1). Now the reorg its log loop reads starts its duty again: it commits. The
    committee's log loop runs."""
    kit = ready
    staked = [str(w.address) for w in workers[:3]]  # as ``ready`` staked them
    for _ in range(60):  # a batch seated without one staked worker
        tickets = kit.tickets(1)
        posted = kit.post(tickets=tickets)
        holders = kit.seat(posted.batch_id)
        outside = [a for a in staked if a not in holders]
        if outside:
            break
    else:
        pytest.fail("no draw without one of the staked workers in 60 tries")
    batch_id = posted.batch_id
    seated_at = int(chain.blocks.head.number)
    me = accounts_by_address[outside[0]]
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    ledger.claim(tickets[0], b"\x01" * 32, kit.project_id, b"\x02" * 65)
    ledger.attest(tickets[0], GOOD, b"\x03" * 65)
    committee, rpc = ledger_committee(v2_config, me, ledger)
    waiting = threading.Event()  # the duty is in its wait as a worker without a seat
    wait_unseated = committee._finalize_when_due

    async def finalize_when_due(batch: int) -> bool:
        if batch == batch_id:
            waiting.set()
        return await wait_unseated(batch)

    committee._finalize_when_due = finalize_when_due  # type: ignore[method-assign,assignment]
    running = loop.start(committee.run())
    try:
        kit.commit(batch_id, accounts_by_address[holders[0]], [GOOD])
        assert waiting.wait(30), "the duty never waited as a worker without a seat"
        # the worker's event loop held while the seats are drawn again, as a reorg and a quick
        # seating by another seat look to a worker that polls once a second: it never sees the
        # batch awaiting its seats
        held, holding = threading.Event(), threading.Event()

        def hold() -> None:
            holding.set()
            held.wait(120)

        loop.loop.call_soon_threadsafe(hold)
        assert holding.wait(30)
        try:
            # the reorg: the seating and the vote dropped, the batch awaits its seats again
            depth = int(chain.blocks.head.number) - seated_at + 1
            chain.provider.make_request("anvil_reorg", [depth, []])
            assert kit.coordinator.phaseOf(batch_id) == PH_AWAITING
            for _ in range(30):  # reseeded until its draw gives this worker a seat
                chain.mine(257)  # the seed block's hash out of BLOCKHASH's reach
                kit.coordinator.reseed(batch_id, sender=kit.gateway)
                seed_block = int(kit.coordinator.getBatch(batch_id).seedBlock)
                if int(chain.blocks.head.number) <= seed_block:
                    chain.mine(seed_block - int(chain.blocks.head.number) + 1)
                if me.address in _draw_holders(kit, batch_id):
                    break
            else:
                pytest.fail("no reseed's draw gave the worker a seat in 30 tries")
            assert me.address in kit.seat(batch_id)  # seated by another
        finally:
            held.set()
        # it commits on its new seat (before: it waited on, and never committed)
        wait_for(lambda: kit.vote_of(batch_id, me.address) != bytes(32), 30, "its commitment")
        assert me.address in kit.holders_of(batch_id)[0]
    finally:
        running.cancel()
        loop.run(committee.close())
        loop.run(rpc.aclose())
        ledger.close()
