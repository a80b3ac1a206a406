"""The node serves a batch's seed block, but with a header whose hash is not the chain's
``BLOCKHASH`` of it: every seating is refused (``HeaderMismatch``), and the batch must still
settle, its seats' duties following it to a reseed and the new draw's holders committing.

anvil 1.7.1 did this after an ``anvil_reorg`` raced a seat's ``anvil_mine`` (fault campaign on
2aa9f90, reorg-shallow-1 seed 1145, batch 228): it lost block 13818 and served 13819, the seed
block, with a hash its EVM did not hold. The race cannot be set up on demand, so the node here is
the test's anvil behind a JSON-RPC relay that serves the seed block with one header field changed
and its ``hash`` the keccak of that header (the next block's parent stays anvil's: a break the
head watcher reads through). Every other answer is anvil's own; the contracts, the seats'
committee duties and their transactions are the real ones."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from eth_utils import keccak

from peerhost.chain.config import ChainConfig
from peerhost.chain.headers import encode_header
from peerhost.worker import committee as committee_module

from .test_committee_lost_seed import RESEEDED, SEAT_SLASHED
from .worker_harness import QuietHandler, Seats, ThreadLoop, http_server, wait_for

PH_AWAITING, PH_FINALIZED = 1, 5
L_FINAL, L_UNAUDITED = 2, 3
_NONCE = "0x00000000000000ff"  # the changed field: same length, so the header keeps its size


class ReheadedNode:
    """anvil behind a relay that serves block ``seed`` with another header (its nonce changed,
    its hash that header's keccak); a block asked for by that hash is anvil's block, served so.

    ``calls_see_anvil``: an ``eth_call`` carrying the changed header is run with anvil's header
    instead (a provider whose calls reach a replica that holds the right block while the
    transactions land where the wrong one is): the seats' check of the header passes, and only
    their seatings are refused."""

    def __init__(self, upstream: str, *, calls_see_anvil: bool = False) -> None:
        self.upstream = upstream
        self.calls_see_anvil = calls_see_anvil
        self.seed = -1
        self.served = 0  # answers that carried the changed header
        self.url = ""
        self._true: tuple[str, str] | None = None  # anvil's (hash, header hex) of ``seed``
        self._fake: tuple[str, str] | None = None  # the served (hash, header hex)

    def _reheaded(self, block: dict[str, Any]) -> dict[str, Any]:
        fake = {**block, "nonce": _NONCE}
        header = encode_header(fake)
        fake["hash"] = "0x" + keccak(header).hex()
        self._true = (str(block["hash"]), encode_header(block).hex())
        self._fake = (fake["hash"], header.hex())
        return fake

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        if self._fake is None or self._true is None:
            return request
        text = json.dumps(request)
        text = text.replace(self._fake[0], self._true[0])  # by hash, logs by block hash
        if self.calls_see_anvil and request.get("method") == "eth_call":
            text = text.replace(self._fake[1], self._true[1])
        return dict(json.loads(text))

    def answer(self, request: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
        block = reply.get("result")
        if (
            request.get("method") in ("eth_getBlockByNumber", "eth_getBlockByHash")
            and isinstance(block, dict)
            and int(str(block["number"]), 16) == self.seed
        ):
            self.served += 1
            return {**reply, "result": self._reheaded(block)}
        return reply

    @contextlib.contextmanager
    def serving(self) -> Iterator[ReheadedNode]:
        node = self
        client = httpx.Client(timeout=30.0)

        class Relay(QuietHandler):
            def do_POST(self) -> None:
                asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                many = isinstance(asked, list)
                asked = [node.ask(r) for r in asked] if many else node.ask(asked)
                reply = client.post(node.upstream, json=asked).json()
                if isinstance(asked, list):
                    by_id = {str(r.get("id")): r for r in asked}
                    reply = [node.answer(by_id.get(str(r.get("id")), {}), r) for r in reply]
                else:
                    reply = node.answer(asked, reply)
                out = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        with http_server(Relay) as url:
            self.url = url
            try:
                yield self
            finally:
                client.close()


def _logs(kit: Any, start: int, *topics: str) -> list[Any]:
    query = {"address": str(kit.coordinator.address), "fromBlock": hex(start), "topics": [*topics]}
    return list(kit.request("eth_getLogs", [query]))


def _settled_unslashed(kit: Any, batch_id: int, start: int, leaves: int) -> None:
    reseeds = _logs(kit, start, RESEEDED, "0x" + batch_id.to_bytes(32, "big").hex())
    assert reseeds, "settled without a reseed: the refused header was proven?"
    for index in range(leaves):  # every ticket terminal, once
        assert int(kit.coordinator.leafState(batch_id, index)) in (L_FINAL, L_UNAUDITED)
    assert _logs(kit, start, SEAT_SLASHED) == [], "an honest seat was slashed"


def test_seat__node_serves_a_seed_header_blockhash_refuses__batch_reseeded_and_settled_no_slash(
    ready: Any, v2_config: ChainConfig, workers: list[Any], loop: ThreadLoop, tmp_path: Path
) -> None:
    kit = ready
    tickets = kit.tickets(2)
    delay = int(kit.coordinator.params().beaconDelay)
    with ReheadedNode(v2_config.rpc_url).serving() as node:
        config = replace(v2_config, rpc_url=node.url, ws_url="")  # the relay speaks HTTP only
        running = Seats(config, workers[:3], kit, loop, tmp_path, tickets, mine_blocks=True)
        try:
            start = int(kit.chain.blocks.head.number)
            running.read_to(start)
            node.seed = start + 1 + delay  # the post's block, then the beacon's delay
            batch_id = kit.post(tickets=tickets).batch_id
            assert int(kit.coordinator.getBatch(batch_id).seedBlock) == node.seed
            # the seats mine the seed's blocks, find its header refused, take the block for lost
            # and mine it out of BLOCKHASH's reach; one reseeds, the new draw seats and settles
            wait_for(
                lambda: int(kit.coordinator.phaseOf(batch_id)) >= PH_FINALIZED,
                60,
                f"batch {batch_id} settled though its seed block {node.seed}'s header is refused",
            )
            assert node.served > 0, "no duty read the seed block"
            _settled_unslashed(kit, batch_id, start, len(tickets))
            # the header was checked before any seating was sent: no seat paid for a refusal
            # (one seating may go out while the seed block is the head, the check not yet able)
            assert sum(c.reverted.get("commit", 0) for c in running.committees) <= 3
        finally:
            running.close()


LIMIT = committee_module._AGAIN + 1  # a duty's seatings refused in a row (the first, then redraws)


def _refused_past_the_limit(kit: Any, running: Seats, node: ReheadedNode, tickets: Any) -> int:
    """Posts a batch whose seed block ``node`` reheads (the seats' check of the header passes)
    and mines to it; returns its id once a holder's seatings were refused ``LIMIT`` times."""
    delay = int(kit.coordinator.params().beaconDelay)
    running.read_to(int(kit.chain.blocks.head.number))
    node.seed = int(kit.chain.blocks.head.number) + 1 + delay
    batch_id = int(kit.post(tickets=tickets).batch_id)
    assert int(kit.coordinator.getBatch(batch_id).seedBlock) == node.seed
    kit.request("anvil_mine", [hex(delay + 1)])  # no mining by the seats: the test mines
    wait_for(
        lambda: any(c.reverted.get("commit", 0) >= LIMIT for c in running.committees),
        60,
        f"a holder's seatings refused {LIMIT} times",
    )
    return batch_id


def test_seat__seatings_refused_past_the_limit__duty_still_follows_the_batch(
    ready: Any, v2_config: ChainConfig, workers: list[Any], loop: ThreadLoop, tmp_path: Path
) -> None:
    kit = ready
    tickets = kit.tickets(2)
    with ReheadedNode(v2_config.rpc_url, calls_see_anvil=True).serving() as node:
        config = replace(v2_config, rpc_url=node.url, ws_url="")
        running = Seats(config, workers[:3], kit, loop, tmp_path, tickets, mine_blocks=False)
        try:
            batch_id = _refused_past_the_limit(kit, running, node, tickets)
            time.sleep(3.0)  # a duty that ends at its limit has ended by now
            assert int(kit.coordinator.phaseOf(batch_id)) == PH_AWAITING
            holders = [c for c in running.committees if c.reverted.get("commit", 0)]
            for c in holders:
                refused = c.reverted["commit"]
                assert not c.tasks[batch_id].done(), f"the duty ended after {refused} refusals"
        finally:
            running.close()


def test_seat__seatings_refused_past_the_limit_then_reseeded__new_holders_commit_no_slash(
    ready: Any, v2_config: ChainConfig, workers: list[Any], loop: ThreadLoop, tmp_path: Path
) -> None:
    kit = ready
    tickets = kit.tickets(2)
    with ReheadedNode(v2_config.rpc_url, calls_see_anvil=True).serving() as node:
        config = replace(v2_config, rpc_url=node.url, ws_url="")
        running = Seats(
            config, workers[:3], kit, loop, tmp_path, tickets, mine_blocks=False, seat_grace=10.0
        )
        try:
            start = int(kit.chain.blocks.head.number)
            running.read_to(start)
            batch_id = _refused_past_the_limit(kit, running, node, tickets)
            # the seed block's hash out of BLOCKHASH's reach: a worker reseeds, and the new
            # draw's holders seat it with their commitments and reveal before a non-holder's
            # grace runs out (else they are no-shows: slashed)
            kit.request("anvil_mine", [hex(256)])
            polls = iter(range(1_000_000))

            def settled() -> bool:
                if next(polls) % 5 == 0:
                    kit.request("evm_mine", [])  # the chain goes on, as traffic makes it
                return int(kit.coordinator.phaseOf(batch_id)) >= PH_FINALIZED

            wait_for(settled, 60, f"batch {batch_id} settled after its reseed")
            _settled_unslashed(kit, batch_id, start, len(tickets))
        finally:
            running.close()
