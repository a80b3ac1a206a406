"""A worker finds an old batch's post through an RPC provider that answers ``eth_getLogs`` over at
most 1,000 blocks (as hosted providers do): the search goes back from the batch's seed block in
ranges of 1,000 blocks. Before, it asked for the 10,001 blocks before the seed block in one query
(and from its first block to the head, unbounded): the provider refused it, ``leaves_of`` failed,
and a restarted worker's tier vote on the batch was a no-show. Real anvil behind a real HTTP
JSON-RPC proxy that refuses wider ranges, real contracts."""

from __future__ import annotations

import dataclasses
import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.wire.batch import Leaf
from peerhost.worker.attested import AttestedLedger

from .worker_harness import ThreadLoop, ledger_committee

MAX_RANGE = 1_000


def _upstream(url: str, body: bytes) -> bytes:
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


@pytest.fixture
def narrow_rpc(v2_config: ChainConfig) -> Iterator[tuple[str, list[int]]]:
    """(URL, spans asked) of a JSON-RPC proxy to the chain that refuses ``eth_getLogs`` over more
    than ``MAX_RANGE`` blocks."""
    spans: list[int] = []
    upstream = v2_config.rpc_url

    class Proxy(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            call = json.loads(body)
            if isinstance(call, dict) and call.get("method") == "eth_getLogs":
                query = call["params"][0]
                head = json.loads(
                    _upstream(
                        upstream, b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}'
                    )
                )
                to = query.get("toBlock", "latest")
                last = int(head["result"], 16) if to == "latest" else int(to, 16)
                span = last - int(query.get("fromBlock", "0x0"), 16) + 1
                spans.append(span)
                if span > MAX_RANGE:
                    error = {"code": -32602, "message": f"block range {span} exceeds {MAX_RANGE}"}
                    self._answer(json.dumps({"jsonrpc": "2.0", "id": call["id"], "error": error}))
                    return
            self._answer(_upstream(upstream, body).decode())

        def _answer(self, text: str) -> None:
            data = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", spans
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_committee__old_batch_through_narrow_provider__found_in_ranges_of_1000(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    narrow_rpc: tuple[str, list[int]],
    tmp_path: Path,
) -> None:
    kit = ready
    url, spans = narrow_rpc
    kit.chain.mine(1_500)  # the seed block well past block 1,000
    tickets = kit.tickets(3)
    posted = kit.post(tickets=tickets)
    kit.chain.mine(1_200)  # the worker (re)starts later, behind a provider
    me = next(iter(accounts_by_address.values()))
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    committee, rpc = ledger_committee(dataclasses.replace(v2_config, rpc_url=url), me, ledger)
    committee._from_block = int(kit.chain.blocks.head.number) - 5  # as run() sets it, later
    try:
        gateway, leaves = loop.run(committee.leaves_of(posted.batch_id), 60)
        assert gateway.lower() == str(kit.gateway.address).lower()
        assert leaves == [Leaf.of(t) for t in tickets]
        assert spans and max(spans) <= MAX_RANGE
    finally:
        loop.run(committee.close(), 30)
        loop.run(rpc.aclose(), 30)
        ledger.close()


#: Blocks mined between a batch's post and its reseed, in chunks anvil mines within a request's
#: timeout: the search from the new seed block back went through three ranges to the post's.
FAR, CHUNK = 2_100, 300


def test_committee__batch_reseeded_far_past_its_post__found_by_its_post_time(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    narrow_rpc: tuple[str, list[int]],
    tmp_path: Path,
) -> None:
    """A batch nobody seated is reseeded long after its post (its seed block's hash left
    BLOCKHASH's reach): a restarted worker finds its post in the blocks of its ``postedAt`` time,
    two ``eth_getLogs`` queries whatever the distance. Before, the search went back from the new
    seed block a range at a time (three here), 10,000 blocks, then on from the worker's first block
    (from block 0 for a worker that had not set it: linear in the chain's length)."""
    kit = ready
    url, spans = narrow_rpc
    tickets = kit.tickets(3)
    posted = kit.post(tickets=tickets)
    post_block = int(kit.chain.blocks.head.number)
    kit.request("evm_increaseTime", [1])  # the post's block alone at its time
    for _ in range(FAR // CHUNK):  # within the seat window's time
        kit.request("anvil_mine", [hex(CHUNK), "0x0"])
    kit.coordinator.reseed(posted.batch_id, sender=kit.gateway)
    assert int(kit.coordinator.getBatch(posted.batch_id).seedBlock) > post_block + FAR
    me = next(iter(accounts_by_address.values()))
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    committee, rpc = ledger_committee(dataclasses.replace(v2_config, rpc_url=url), me, ledger)
    committee._from_block = int(kit.chain.blocks.head.number) - 5  # as run() sets it, later
    try:
        gateway, leaves = loop.run(committee.leaves_of(posted.batch_id), 60)
        assert gateway.lower() == str(kit.gateway.address).lower()
        assert leaves == [Leaf.of(t) for t in tickets]
        assert len(spans) <= 2 and max(spans) <= MAX_RANGE, spans  # the seed's range, the post's
    finally:
        loop.run(committee.close(), 30)
        loop.run(rpc.aclose(), 30)
        ledger.close()
