"""The gateway's batch poster against reorgs on the real chain: a post the
chain dropped after the poster saw it mined (``evm_revert``) is sent again (the same signed bytes, so it can be
mined only once) and the posts signed after it are not stuck behind its nonce; a batch the
contract refuses because some of its seqs are posted already (``SeqAlreadyPosted``) is posted
again without them, so no ticket is ever posted twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.gateway.ticketbook import POSTED, REJECTED
from peerhost.wire.batch import BatchHead, decode_posted
from peerhost.wire.ticket import Ticket

from .gateway_harness import PosterOnChain
from .worker_harness import key_of, mined_before_revert

GOOD = b"\x11" * 32
BATCH_FINALIZED, BATCH_CLOSED = 3, 4


class Gateway(PosterOnChain):
    """The poster harness, driven tick by tick."""

    def issue(self, tickets: list[Ticket], project_id: bytes) -> None:
        for t in tickets:
            self.run(self.reserves.take(project_id, "project", t.reward))
            self.book.save(t, t.seq.to_bytes(32, "big"), project_id, b"\x01" * 65, b"in")

    def in_flight(self, project_id: bytes) -> tuple[int, int]:
        """(what the desk counts in flight, the rewards of the book's unposted tickets)."""
        return (
            self.reserves.in_flight.get(project_id, 0),
            self.book.unposted_rewards().get(project_id, 0),
        )

    def tick(self) -> None:
        self.poster._last_block = -1  # one batch per block: each tick may post
        self.run(self.poster.tick())

    def states(self, tickets: list[Ticket]) -> list[str]:
        by_seq = {t.ticket.seq: t.state for t in self.book}
        return [by_seq[t.seq] for t in tickets]


@pytest.fixture
def gw(ready: Any, v2_config: ChainConfig, tmp_path: Path) -> Iterator[Gateway]:
    running = Gateway(v2_config, key_of(ready.gateway), tmp_path)
    yield running
    running.close()
    mined_before_revert(ready.chain)


def posted(kit: Any, gateway: Gateway, from_block: int) -> dict[int, list[int]]:
    """Batch id -> the seqs of its leaves, for every batch on the chain now, read from the posting
    transactions' calldata (a seq posted twice appears twice)."""
    out: dict[int, list[int]] = {}
    for log in kit.coordinator.BatchPosted.range(from_block, int(kit.chain.blocks.head.number) + 1):
        tx = kit.request("eth_getTransactionByHash", [str(log.transaction_hash)])
        data = bytes.fromhex(str(tx["input"]).removeprefix("0x"))
        args = gateway.view.coordinator.decode_input("postBatch", data)
        leaves = decode_posted(BatchHead.from_args(args["head"]), bytes(args["leaves"]))
        out[int(log.batchId)] = [leaf.seq for leaf in leaves]
    return out


def post_then_fork(kit: Any, gw: Gateway) -> tuple[int, list[Ticket], str]:
    """Two tickets issued and posted by a tick, a snapshot taken before the post: (the first
    block to read batches from, the tickets, the snapshot: ``evm_revert`` to it is the reorg
    that drops the post, dropping the blocks after it and their transactions as
    ``anvil_reorg`` does; unlike ``anvil_reorg`` it leaves the test chain's own snapshots
    usable)."""
    start = int(kit.chain.blocks.head.number) + 1
    first = kit.tickets(2)
    gw.issue(first, kit.project_id)
    fork = kit.request("evm_snapshot", [])
    gw.tick()
    assert gw.states(first) == [POSTED, POSTED]
    return start, first, fork


def seqs(batches: dict[int, list[int]]) -> list[int]:
    return sorted(seq for leaves in batches.values() for seq in leaves)


def attested_batch(kit: Any, gw: Gateway, accounts_by_address: dict[str, Any]) -> list[Ticket]:
    """Two tickets issued with one attestation each and posted in one batch by a tick."""
    tickets = kit.tickets(2)
    gw.issue(tickets, kit.project_id)
    attester = next(iter(accounts_by_address))
    for t in tickets:
        rid = t.seq.to_bytes(32, "big")
        gw.book.record_attestations(rid, [(attester, GOOD, b"\x05" * 65)], GOOD)
    gw.tick()
    return tickets


def settle_all_agreeing(kit: Any, batch_id: int, accounts_by_address: dict[str, Any]) -> None:
    """The batch's seats drawn, and every holder commits and reveals GOOD for both leaves."""
    holders = kit.seat(batch_id)
    for holder in holders:
        kit.commit(batch_id, accounts_by_address[holder], [GOOD, GOOD])
    for holder in holders:
        kit.reveal(batch_id, accounts_by_address[holder], [GOOD, GOOD])


def test_poster__batch_with_a_seq_posted_already__left_out_and_the_rest_posted_once(
    ready: Any, gw: Gateway, chain: Any
) -> None:
    kit = ready
    start = int(chain.blocks.head.number) + 1
    tickets = kit.tickets(3)
    kit.post(tickets=[tickets[1]])  # on-chain before the poster's batch (an orphan post, say)
    gw.issue(tickets, kit.project_id)
    gw.tick()  # the batch of three is refused: seq 1 is posted already
    assert gw.states(tickets) == ["issued", REJECTED, "issued"]
    gw.tick()
    assert gw.states(tickets) == [POSTED, REJECTED, POSTED]
    assert seqs(posted(kit, gw, start)) == [t.seq for t in tickets]


def test_poster__mined_post_dropped_by_reorg__sent_again_and_each_ticket_posted_once(
    ready: Any, gw: Gateway, chain: Any
) -> None:
    kit = ready
    start, first, fork = post_then_fork(kit, gw)
    assert seqs(posted(kit, gw, start)) == [t.seq for t in first]

    assert kit.request("evm_revert", [fork])  # drops the block that holds the post
    assert posted(kit, gw, start) == {}
    assert not kit.coordinator.isSeqPosted(kit.gateway, first[0].seq)

    second = kit.tickets(2)  # signed after the dropped post: its nonce is one past the chain's
    gw.issue(second, kit.project_id)
    for _ in range(20):
        gw.tick()
        if seqs(posted(kit, gw, start)) == [t.seq for t in first + second]:
            break
    batches = posted(kit, gw, start)
    assert seqs(batches) == [t.seq for t in first + second]
    assert gw.sender.resent >= 1
    assert gw.states(first + second) == [POSTED] * 4
    # the book names the batch and leaf each ticket is on the chain now
    for stored in gw.book:
        assert stored.batch_id is not None and stored.leaf_index is not None
        assert batches[stored.batch_id][stored.leaf_index] == stored.ticket.seq


def test_poster__post_dropped_for_good_by_reorg__its_rewards_counted_in_flight_once(
    ready: Any, gw: Gateway, chain: Any
) -> None:
    """A post a reorg dropped whose nonce another transaction then took is gone for good: its
    tickets are posted anew. The reorg gave their rewards back to the reserve on-chain, so the
    desk counts them in flight again until the new post draws them: in flight always equals the
    unposted tickets' rewards (it used to be drawn twice: in flight fell short, and the gateway
    could issue more than the reserve covers)."""
    kit = ready
    start, first, fork = post_then_fork(kit, gw)
    assert gw.in_flight(kit.project_id) == (0, 0)
    assert kit.request("evm_revert", [fork])  # drops the post
    taker = kit.tickets(1)
    kit.post(tickets=taker)  # the gateway's next transaction takes the post's nonce
    waiting = kit.tickets(1)
    gw.issue(waiting, kit.project_id)  # issued, not posted yet: in flight
    gw.poster.withhold = True  # follow the reorg without posting anew yet
    for _ in range(20):
        gw.tick()
        if gw.states(first) == ["issued", "issued"]:
            break
    assert gw.states(first) == ["issued", "issued"], "the dropped post was not noticed"
    reward = first[0].reward
    assert gw.in_flight(kit.project_id) == (3 * reward, 3 * reward)
    gw.poster.withhold = False
    for _ in range(20):
        gw.tick()
        if gw.states(first + waiting) == [POSTED] * 3:
            break
    assert gw.states(first + waiting) == [POSTED] * 3
    assert gw.in_flight(kit.project_id) == (0, 0)
    assert seqs(posted(kit, gw, start)) == sorted(t.seq for t in first + taker + waiting)


def test_poster__open_refused_while_window_open_by_chain_clock__opened_later_and_batch_closed(
    ready: Any, gw: Gateway, chain: Any, accounts_by_address: dict[str, Any]
) -> None:
    """``openResults`` refused because the challenge window is still open by the chain's clock
    (the gateway's reading of the clock ahead of the chain's: a devnet after a reorg) is sent
    again once the window passed: the batch closes and its attesters' pay is worked out. It used
    to be marked done after the refusal: the batch stayed Finalized and no attester was paid."""
    kit = ready
    tickets = attested_batch(kit, gw, accounts_by_address)
    assert gw.states(tickets) == [POSTED, POSTED]
    batch_id = gw.book.batches("posted")[0].batch_id
    assert batch_id is not None
    settle_all_agreeing(kit, batch_id, accounts_by_address)
    assert int(kit.coordinator.getBatch(batch_id).state) == BATCH_FINALIZED
    gw.poster._challenge_window = 0  # the gateway believes the window passed; the chain does not
    gw.poster._asked[batch_id] = 0.0  # no co-signatures will come (no feed): open without them
    gw.sender.signer.forget_nonce()  # the kit sent the seat draw from the gateway's account
    sent = int(kit.request("eth_getTransactionCount", [str(kit.gateway.address), "latest"]), 16)
    gw.tick()
    after = int(kit.request("eth_getTransactionCount", [str(kit.gateway.address), "latest"]), 16)
    assert after == sent + 1, "the open was not sent"
    assert int(kit.coordinator.getBatch(batch_id).state) == BATCH_FINALIZED, "not refused"
    assert gw.book.batch(batch_id) is not None and gw.book.batch(batch_id).state == "posted"
    gw.poster._challenge_window = None  # read from the court again
    kit.wait_challenge_window(batch_id)
    for _ in range(10):
        gw.tick()
        if int(kit.coordinator.getBatch(batch_id).state) == BATCH_CLOSED:
            break
    assert int(kit.coordinator.getBatch(batch_id).state) == BATCH_CLOSED


def test_poster__mined_open_dropped_by_reorg__opened_again_and_batch_closed(
    ready: Any, gw: Gateway, chain: Any, accounts_by_address: dict[str, Any]
) -> None:
    """A reorg drops the block holding the gateway's mined ``openResults``: the batch is back to
    Finalized and nothing sends a mined transaction again. The poster watches its opens until
    they are deep and opens the batch again, so its attesters are still paid. It used to mark
    the batch settled at the first open's receipt and only sent lost transactions again byte for
    byte, which is impossible once their nonce is taken: the batch stayed Finalized, attesters
    unpaid (found by the fault campaign's deep reorg)."""
    kit = ready
    attested_batch(kit, gw, accounts_by_address)
    batch_id = gw.book.batches("posted")[0].batch_id
    assert batch_id is not None
    settle_all_agreeing(kit, batch_id, accounts_by_address)
    kit.wait_challenge_window(batch_id)
    gw.poster._asked[batch_id] = 0.0  # no co-signatures will come (no feed): open without them
    gw.sender.signer.forget_nonce()  # the kit sent the seat draw from the gateway's account
    fork = kit.request("evm_snapshot", [])
    gw.tick()
    assert int(kit.coordinator.getBatch(batch_id).state) == BATCH_CLOSED, "not opened"
    assert gw.book.batch(batch_id) is not None and gw.book.batch(batch_id).state == "settled"

    assert kit.request("evm_revert", [fork])  # drops the block that holds the open
    assert int(kit.coordinator.getBatch(batch_id).state) == BATCH_FINALIZED
    # another transaction of the gateway's account takes the dropped open's nonce (sent by its
    # operator, say): the same signed bytes can no longer be sent again
    kit.gateway.transfer(next(iter(accounts_by_address.values())), 1)
    gw.sender.signer.forget_nonce()
    for _ in range(10):
        gw.tick()
        if int(kit.coordinator.getBatch(batch_id).state) == BATCH_CLOSED:
            break
    assert int(kit.coordinator.getBatch(batch_id).state) == BATCH_CLOSED, "not opened again"
    assert gw.book.batch(batch_id).state == "settled"


def test_poster__reverted_post_dropped_by_reorg__not_sent_again_and_tickets_posted_once(
    ready: Any, gw: Gateway, chain: Any
) -> None:
    """A post the contract refused (its tickets issued after the chain's clock: they go back to
    wait for it) and that a reorg then dropped. The sender used to send its bytes again, byte for
    byte, and on the new branch, the chain's clock past the tickets by then, it was mined: a
    batch the gateway's book never knew. Its own post of the same tickets was refused as posted
    already and they were rejected, and the batch's results were never opened (``reorg-deep``
    seed 2506). Its nonce is now filled with an empty transfer."""
    kit = ready
    start = int(chain.blocks.head.number) + 1
    ahead = kit.now() + 30
    tickets = [replace(t, issued_at=ahead, deadline=ahead + 600) for t in kit.tickets(2)]
    gw.issue(tickets, kit.project_id)
    fork = kit.request("evm_snapshot", [])
    gw.tick()  # refused: InvalidTicketTimes; the tickets wait for the chain's clock
    assert gw.states(tickets) == ["issued", "issued"]
    assert posted(kit, gw, start) == {}
    assert kit.request("evm_revert", [fork])  # drops the block that holds the refused post
    chain.mine(timestamp=ahead + 5)  # the chain's clock past the tickets now
    for _ in range(20):
        gw.poster._lag = 0.0  # the harness's chain clock is not the wall clock: post at once
        gw.tick()
        if gw.states(tickets) != ["issued", "issued"]:
            break
    batches = posted(kit, gw, start)
    assert seqs(batches) == [t.seq for t in tickets]  # posted once, by the gateway's new post
    # before: the resent refused post held them, and the gateway's own post was refused for it
    assert gw.states(tickets) == [POSTED, POSTED]
    for stored in gw.book:
        if stored.ticket.seq in {t.seq for t in tickets}:
            assert stored.batch_id is not None and stored.leaf_index is not None
            assert batches[stored.batch_id][stored.leaf_index] == stored.ticket.seq


@pytest.mark.parametrize("forgets", ["nothing", "before-next-post", "after-next-post"])
def test_poster__post_sent_again_reverts_and_next_post_gets_its_batch_id__book_follows_the_chain(
    ready: Any, gw: Gateway, chain: Any, v2_config: ChainConfig, tmp_path: Path, forgets: str
) -> None:
    """A reorg drops a mined post; it is sent again and, still pending when the poster reads its
    recent posts, is mined in one block with the next post. It reverts there (the chain's clock
    went back before its tickets), so the next post gets its batch id. The book used to keep the
    dropped post under that id too: the newest post's block was unchanged, so the poster never
    read the reverted one again; the batch was opened with the wrong opening (ResultsMismatch)
    and its attesters never paid (``reorg-deep`` seed 2715). The book now follows the chain:
    one post per batch id, and the reverted post's tickets posted anew, once. The poster finds
    the stale row whatever it forgot: its recent posts before the next post was recorded (the
    next post's id is found held), or everything, by a restart after it (the chain's batch
    under the stale row's id is not its post)."""
    kit = ready
    start = int(chain.blocks.head.number) + 1
    ahead = kit.now() + 120
    first = [replace(t, issued_at=ahead, deadline=ahead + 600) for t in kit.tickets(2)]
    gw.issue(first, kit.project_id)
    fork = kit.request("evm_snapshot", [])
    chain.mine(timestamp=ahead + 5)  # the chain's clock past the tickets: the post goes through
    gw.tick()
    assert gw.states(first) == [POSTED, POSTED]
    (batch_id,) = posted(kit, gw, start)
    (dropped,) = [b.post_tx for b in gw.book.batches(POSTED)]

    assert kit.request("evm_revert", [fork])  # the reorg: the post dropped, the clock back
    for _ in range(3):  # the new branch longer: the next post is mined above the dropped one
        kit.request("evm_mine", [])
    second = kit.tickets(2)
    gw.issue(second, kit.project_id)
    kit.request("evm_setAutomine", [False])
    try:
        assert gw.run(gw.sender.heal()), "the dropped post was not sent again"
        gw.run(gw.poster.recheck())  # read while the post sent again is pending
        assert dropped in gw.poster._unsure
        if forgets == "before-next-post":
            gw.poster._recent.clear()
            gw.poster._unsure.clear()
        gw.poster._last_block = -1
        posting = gw.start(gw.poster.post_ready())
        account = [str(kit.gateway.address)]
        mined = int(kit.request("eth_getTransactionCount", [*account, "latest"]), 16)
        for _ in range(400):  # until the next post is in the pool with the one sent again
            if int(kit.request("eth_getTransactionCount", [*account, "pending"]), 16) >= mined + 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the next post did not reach the pool")
        assert kit.now() < ahead
        kit.request("evm_mine", [])
        posting.result(60)
    finally:
        kit.request("evm_setAutomine", [True])
    # the post sent again reverted (its tickets ahead of the block), the next one took its id
    assert posted(kit, gw, start) == {batch_id: [t.seq for t in second]}
    assert dropped in gw.poster._unsure  # found held by the next post, or still pending before
    if forgets == "after-next-post":  # a restart: the book is all that is left
        gw = Gateway(v2_config, key_of(kit.gateway), tmp_path)

    chain.mine(timestamp=ahead + 5)
    try:
        for _ in range(20):
            gw.poster._lag = 0.0  # the harness's chain clock is not the wall clock: post at once
            gw.tick()
            if gw.states(first) == [POSTED, POSTED]:
                by_id = [b.batch_id for b in gw.book.batches(POSTED)]
                if len(by_id) == len(set(by_id)):
                    break
        batches = posted(kit, gw, start)
        assert seqs(batches) == sorted(t.seq for t in first + second)  # each posted once
        assert gw.states(first + second) == [POSTED] * 4
        by_id = [b.batch_id for b in gw.book.batches(POSTED)]
        assert sorted(by_id) == sorted(batches), "the book holds a batch id twice, or a stale one"
        for stored in gw.book:
            assert stored.batch_id is not None and stored.leaf_index is not None
            assert batches[stored.batch_id][stored.leaf_index] == stored.ticket.seq
    finally:
        if forgets == "after-next-post":
            gw.close()


def test_poster__restarted_with_a_post_dropped_for_good_and_its_id_free__posted_anew_once(
    ready: Any, gw: Gateway, chain: Any, v2_config: ChainConfig, tmp_path: Path
) -> None:
    """A reorg drops a mined post for good (its nonce taken by another transaction) and no batch
    has its id yet; the gateway restarts, so it no longer knows the post is recent. The chain has
    no batch under the book's id (``getBatch`` reverts ``UnknownBatch``): reading every posted
    batch used to fail as a whole, so no batch was followed at all, and the post was never read
    again. Now that row alone is set aside and its post read again: dropped, its tickets posted
    anew, once."""
    kit = ready
    start, first, fork = post_then_fork(kit, gw)
    assert kit.request("evm_revert", [fork])  # drops the post
    # another transaction of the gateway's account takes the post's nonce: gone for good
    kit.gateway.transfer(kit.gateway, 0)
    assert posted(kit, gw, start) == {}
    restarted = Gateway(v2_config, key_of(kit.gateway), tmp_path)  # the book is all it has
    try:
        for _ in range(20):
            restarted.tick()
            if restarted.states(first) == [POSTED, POSTED] and posted(kit, restarted, start):
                break
        batches = posted(kit, restarted, start)
        assert seqs(batches) == [t.seq for t in first]  # posted anew, once
        for stored in restarted.book:
            assert stored.batch_id is not None and stored.leaf_index is not None
            assert batches[stored.batch_id][stored.leaf_index] == stored.ticket.seq
    finally:
        restarted.close()
