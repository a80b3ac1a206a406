"""A deep reorg drops a batch's seed block and its seats' commitments while the post survives, and
the node serves the new branch's blocks in that range no more: the batch must still settle.

anvil 1.7.1 loses the blocks ``anvil_reorg`` makes when an ``anvil_mine`` runs beside it (a seat
mining a seed's blocks on a devnet that mines on transactions): their numbers and hashes answer
nothing while the chain goes on above them and its ``BLOCKHASH`` still gives their hashes
(reorg-deep-6 seed 1102: blocks 5131-5136 of the new branch, the seed block among them; about one
deep reorg in twenty of the fault campaign). No header can seat the batch then, and the contract
takes a reseed only once the seed block's hash left ``BLOCKHASH``'s reach: 256 blocks, six minutes
of that devnet, past the fault check's four. The race is anvil's and cannot be set up on demand,
so the node here is the test's anvil behind a JSON-RPC relay that serves those blocks as anvil
served them: every other answer is anvil's own, the reorg is anvil's, the contracts and the
seats' committee duties are the real ones."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from eth_utils import keccak

from peerhost.chain.config import ChainConfig

from .worker_harness import QuietHandler, Seats, ThreadLoop, http_server, wait_for

PH_AWAITING, PH_FINALIZED = 1, 5
L_FINAL, L_UNAUDITED = 2, 3
SEAT_SLASHED = "0x" + keccak(b"SeatSlashed(uint256,address,uint256,uint8)").hex()
RESEEDED = "0x" + keccak(b"Reseeded(uint256,uint256)").hex()


class LosingNode:
    """anvil behind a relay that answers ``null`` for the blocks of ``lost`` (by number, and by
    hash for a block of such a number), as anvil 1.7.1 answered for the blocks it lost."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.lost: set[int] = set()
        self.hidden = 0  # answers replaced by null (the duties asked for a lost block)
        self.url = ""

    def answer(self, request: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
        method = request.get("method")
        block = reply.get("result")
        if (
            method in ("eth_getBlockByNumber", "eth_getBlockByHash")
            and isinstance(block, dict)
            and int(str(block["number"]), 16) in self.lost
            and request["params"][0] != "latest"
        ):
            self.hidden += 1
            return {**reply, "result": None}
        return reply

    @contextlib.contextmanager
    def serving(self) -> Iterator[LosingNode]:
        node = self
        client = httpx.Client(timeout=30.0)

        class Relay(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                reply = client.post(
                    node.upstream, content=body, headers={"Content-Type": "application/json"}
                ).json()
                asked = json.loads(body)
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


def test_seat__deep_reorg_loses_the_seed_block__batch_reseeded_and_settled_no_slash(
    ready: Any, v2_config: ChainConfig, workers: list[Any], loop: ThreadLoop, tmp_path: Path
) -> None:
    kit = ready
    tickets = kit.tickets(2)
    with LosingNode(v2_config.rpc_url).serving() as node:
        # polling heads: the relay speaks HTTP only
        config = replace(v2_config, rpc_url=node.url, ws_url="")
        running = Seats(config, workers[:3], kit, loop, tmp_path, tickets, mine_blocks=True)
        try:
            start = int(kit.chain.blocks.head.number)
            running.read_to(start)
            posted = kit.post(tickets=tickets)
            batch_id = posted.batch_id
            seed_block = int(kit.coordinator.getBatch(batch_id).seedBlock)
            # the seats mine the seed's blocks and seat the batch with a holder's commitment
            wait_for(
                lambda: int(kit.coordinator.phaseOf(batch_id)) != PH_AWAITING,
                30,
                "the batch seated by a holder's commitment",
            )
            proven = kit.request("eth_getBlockByNumber", [hex(seed_block), False])["hash"]
            # a transfer in the new seed block: another block than the one the seats proved
            transfer = {
                "from": str(kit.developer.address),
                "to": str(kit.gateway.address),
                "value": "0x1",
                "gas": hex(21_000),
            }
            for _ in range(3):  # a seat may mine a block between the head read and the reorg
                head = int(kit.request("eth_blockNumber", []), 16)
                node.lost = set(range(seed_block, head + 1))  # the new branch's, as anvil lost them
                kit.request("anvil_reorg", [head - seed_block + 1, [[transfer, 0]]])
                now = kit.request("eth_getBlockByNumber", [hex(seed_block), False])["hash"]
                if now != proven:
                    break
            assert now != proven, "the reorg never replaced the seed block"
            assert int(kit.coordinator.getBatch(batch_id).seedBlock) == seed_block, "post dropped"
            assert int(kit.coordinator.phaseOf(batch_id)) == PH_AWAITING, "seating not dropped"
            kit.request("evm_mine", [])  # the chain goes on above the lost blocks
            wait_for(
                lambda: int(kit.coordinator.phaseOf(batch_id)) >= PH_FINALIZED,
                90,
                f"batch {batch_id} settled after its seed block {seed_block} was lost",
            )
            assert node.hidden > 0, "no duty asked for the lost seed block"
            reseeds = kit.request(
                "eth_getLogs",
                [
                    {
                        "address": str(kit.coordinator.address),
                        "fromBlock": hex(start),
                        "topics": [RESEEDED, "0x" + batch_id.to_bytes(32, "big").hex()],
                    }
                ],
            )
            assert reseeds, "settled without a reseed: the lost seed block was proven?"
            for index in range(len(tickets)):  # every ticket terminal, once
                assert int(kit.coordinator.leafState(batch_id, index)) in (L_FINAL, L_UNAUDITED)
            slashed = kit.request(
                "eth_getLogs",
                [
                    {
                        "address": str(kit.coordinator.address),
                        "fromBlock": hex(start),
                        "topics": [SEAT_SLASHED],
                    }
                ],
            )
            assert slashed == [], "an honest seat was slashed"
        finally:
            running.close()
