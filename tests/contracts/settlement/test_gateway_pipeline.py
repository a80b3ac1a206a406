"""The batch poster sends a tick's batches together: each signed with the next nonce and sent
before any receipt is awaited, so they share a block (it used to await each post's receipt, a
whole block, before the next: about one batch per block, and none while openings were sent), and a
batch the contract refuses loses none of the others. A post's gas limit covers a full batch of
``maxLeaves`` leaves without reserving several times what it uses."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.gateway.poster import post_gas
from peerhost.gateway.ticketbook import ISSUED, POSTED, REJECTED

from .test_gateway_reorg import Gateway, posted, seqs
from .worker_harness import QuietHandler, http_server, key_of, mined_before_revert


@pytest.fixture
def gw(ready: Any, v2_config: ChainConfig, tmp_path: Path) -> Iterator[Gateway]:
    running = Gateway(v2_config, key_of(ready.gateway), tmp_path)
    yield running
    running.close()
    mined_before_revert(ready.chain)


def _pending(kit: Any) -> int:
    """Transactions of the gateway waiting in the node's pool."""
    address = str(kit.gateway.address)
    pending = int(kit.request("eth_getTransactionCount", [address, "pending"]), 16)
    return pending - int(kit.request("eth_getTransactionCount", [address, "latest"]), 16)


def test_poster__three_batches_in_one_tick__sent_together_one_block_a_refusal_loses_no_other(
    ready: Any, gw: Gateway, chain: Any
) -> None:
    kit = ready
    start = int(chain.blocks.head.number) + 1
    tickets = kit.tickets(40)  # 16 + 16 + 8 at the harness's 16 tickets per batch
    kit.post(tickets=[tickets[20]])  # in the second batch: on-chain already (an orphan, say)
    gw.issue(tickets, kit.project_id)
    kit.request("evm_setAutomine", [False])
    try:
        gw.poster._last_block = -1
        ticking = gw.start(gw.poster.tick())
        deadline = time.monotonic() + 15
        while _pending(kit) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _pending(kit) == 3, "the tick's three posts were not all sent before a receipt"
        kit.request("evm_mine", [])
        ticking.result(30)
    finally:
        kit.request("evm_setAutomine", [True])
    block = int(chain.blocks.head.number)
    assert sorted(posted(kit, gw, block).values()) == [
        [t.seq for t in tickets[:16]],
        [t.seq for t in tickets[32:]],
    ]
    by_seq = dict(zip((t.seq for t in tickets), gw.states(tickets), strict=True))
    assert by_seq.pop(tickets[20].seq) == REJECTED
    second = {t.seq for t in tickets[16:32]} - {tickets[20].seq}
    assert {seq for seq, state in by_seq.items() if state == ISSUED} == second
    gw.tick()  # the refused batch's other tickets go again
    assert gw.states(tickets[:20] + tickets[21:]) == [POSTED] * 39
    assert seqs(posted(kit, gw, start)) == [t.seq for t in tickets]  # each seq posted once


def test_poster__full_batch_of_max_leaves__posted_within_its_gas_limit(
    ready: Any, gw: Gateway
) -> None:
    kit = ready
    leaves = int(gw.run(gw.view.params())["maxLeaves"])
    gw.poster.max_tickets = leaves
    tickets = kit.tickets(leaves)
    gw.issue(tickets, kit.project_id)
    gw.tick()
    assert gw.states(tickets) == [POSTED] * leaves
    [batch] = gw.book.batches(POSTED)
    assert len(gw.book.in_batch(batch.batch_id or 0)) == leaves
    receipt = kit.request("eth_getTransactionReceipt", ["0x" + batch.post_tx.hex()])
    used, limit = int(receipt["gasUsed"], 16), post_gas([t.seq for t in tickets])
    assert int(receipt["status"], 16) == 1 and used < limit
    # the limit is what the block reserves: at most 2.5 times what a full post uses
    assert limit < 2.5 * used, (used, limit)


def test_poster__seqs_in_distinct_bitmap_words__posted_within_its_gas_limit(
    ready: Any, gw: Gateway
) -> None:
    """Seqs 256 apart (a rare function's tickets spread over a large backlog) each set a new word
    of the gateway's seq bitmap (~22 k gas each): a limit counting leaves only ran out of gas, the
    batch was rejected and its tickets lost."""
    kit = ready
    tickets = []
    for _ in range(16):
        tickets += kit.tickets(1)
        kit.next_seq += 255
    assert len({t.seq >> 8 for t in tickets}) == 16
    gw.issue(tickets, kit.project_id)
    gw.tick()
    assert gw.states(tickets) == [POSTED] * 16
    [batch] = gw.book.batches(POSTED)
    receipt = kit.request("eth_getTransactionReceipt", ["0x" + batch.post_tx.hex()])
    assert int(receipt["status"], 16) == 1
    assert int(receipt["gasUsed"], 16) < post_gas([t.seq for t in tickets])


@contextlib.contextmanager
def refusing_node(upstream: str, refuse: set[int]) -> Iterator[str]:
    """A real JSON-RPC relay to the node that refuses, once each, the raw transactions at the
    nonces in ``refuse`` (-32005, as a rate-limited provider answers one entry of a batch) and
    passes everything else through."""

    class Relay(QuietHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            calls = body if isinstance(body, list) else [body]
            refused, passed = [], []
            for call in calls:
                if call["method"] == "eth_sendRawTransaction":
                    tx = TypedTransaction.from_bytes(HexBytes(call["params"][0]))
                    if int(tx.as_dict()["nonce"]) in refuse:
                        refuse.discard(int(tx.as_dict()["nonce"]))
                        error = {"code": -32005, "message": "request rate exceeded"}
                        refused.append({"jsonrpc": "2.0", "id": call["id"], "error": error})
                        continue
                passed.append(call)
            answers = []
            if passed:
                request = urllib.request.Request(
                    upstream, json.dumps(passed).encode(), {"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(request, timeout=30) as response:
                    answers = json.loads(response.read())
            out = answers + refused
            reply = json.dumps(out if isinstance(body, list) else out[0]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    with http_server(Relay) as url:
        yield url


def test_poster__node_refuses_two_posts_of_a_group__each_signed_again_at_its_nonce_no_gap(
    ready: Any, gw: Gateway, v2_config: ChainConfig
) -> None:
    """Five posts sent together, the node refuses the second and the fourth (not a revert: the
    node never took them). Each is signed again at the nonce it was refused at: every ticket is
    posted once, in a batch the book knows, and no nonce is left unused. Signed again at the
    account's next nonce, a refused post took a later post's nonce, and the first refused bytes,
    still kept, were sent again later: a batch the book never recorded, its tickets' own post
    rejected (SeqAlreadyPosted)."""
    kit = ready
    address = str(kit.gateway.address)
    start = int(kit.chain.blocks.head.number) + 1
    base = int(kit.request("eth_getTransactionCount", [address, "pending"]), 16)
    tickets = kit.tickets(40)
    gw.issue(tickets, kit.project_id)
    gw.poster.max_tickets = 8  # five posts
    with refusing_node(v2_config.rpc_url, {base + 1, base + 3}) as url:
        relayed = RpcClient(url)
        gw.sender.rpc = gw.sender.signer.rpc = relayed
        try:
            for _ in range(3):
                gw.tick()
        finally:
            gw.sender.rpc = gw.sender.signer.rpc = gw.rpc
            gw.run(relayed.aclose())
    assert gw.states(tickets) == [POSTED] * 40
    on_chain = posted(kit, gw, start)
    assert seqs(on_chain) == [t.seq for t in tickets]  # each seq posted once
    assert set(on_chain) == {b.batch_id for b in gw.book.batches(POSTED)}
    latest = int(kit.request("eth_getTransactionCount", [address, "latest"]), 16)
    assert latest == base + 5 and _pending(kit) == 0  # no gap, nothing stuck
    gw.issue(more := kit.tickets(3), kit.project_id)
    gw.tick()  # the next post takes the next nonce
    assert gw.states(more) == [POSTED] * 3
    assert int(kit.request("eth_getTransactionCount", [address, "latest"]), 16) == base + 6


def test_poster__gateway_key_used_beside_it__post_not_sent__next_tick_posts_without_a_new_block(
    ready: Any, gw: Gateway
) -> None:
    """An operator tops the gateway's bond up from its own key while the gateway runs: the
    poster's next post takes a nonce that key already used (``nonce too low``, twice). No
    transaction went out, so no block comes on a chain that mines on demand; the poster, having
    noted that block as posted in, waited for the next one and posted nothing more (a fault run's
    calls refused 503 for minutes). The next tick posts them at the nonce read again."""
    kit = ready
    gw.issue(first := kit.tickets(1), kit.project_id)
    gw.tick()
    assert gw.states(first) == [POSTED]
    kit.s.gateways.bond(value=10**15, sender=kit.gateway)  # the key used beside the gateway
    gw.issue(second := kit.tickets(2), kit.project_id)
    head = int(kit.chain.blocks.head.number)
    gw.tick()  # refused by the node: not sent
    assert gw.states(second) == [ISSUED] * 2
    assert int(kit.chain.blocks.head.number) == head  # nothing went out: no block
    gw.run(gw.poster.tick())  # the same block: posted all the same
    assert gw.states(second) == [POSTED] * 2


def test_poster__tickets_posted__nothing_of_them_kept_in_memory(ready: Any, gw: Gateway) -> None:
    """The poster notes when it first saw each ticket waiting (its attesters' grace, the overdue
    floor), keeps it while the ticket is being posted (a failed send puts it back), and forgets
    it once the ticket is posted: it kept a seq per call for ever, so a gateway's memory grew
    with every call it took."""
    kit = ready
    first, second = kit.tickets(20), kit.tickets(5)
    gw.issue(first, kit.project_id)
    gw.tick()
    assert gw.states(first) == [POSTED] * 20
    gw.issue(second, kit.project_id)
    gw.poster._ready(gw.book.in_state(ISSUED))  # seen waiting: noted
    noted = dict(gw.poster._issued_at)
    assert set(noted) == {t.seq for t in second}
    # being posted, then put back (a send that failed): still seen since then
    seqs = [t.seq for t in second]
    gw.book.mark_posting(seqs, b"\x02" * 32, b"\x03" * 32, b"")
    gw.poster._ready(gw.book.in_state(ISSUED))
    assert gw.poster._issued_at == noted
    gw.book.unpost(seqs)
    gw.poster._ready(gw.book.in_state(ISSUED))
    assert gw.poster._issued_at == noted
    gw.tick()
    assert gw.states(second) == [POSTED] * 5
    gw.poster._ready(gw.book.in_state(ISSUED))
    assert gw.poster._issued_at == {}
