"""The scenarios' placement reader counts a ``BatchPosted`` log only when the chain holds that
batch with the log's root: anvil 1.7.1 keeps the receipt and the log of a post mined as
``anvil_reorg`` ran while its state has no such batch (``reorg-deep`` seed 5209: the check's
``getBatch(200)`` reverted ``UnknownBatch`` and the run ended in an error, not a verdict). Its
tickets then wait to be posted again, as unposted ones. A pure function of what the view reads;
no stack: the view answers as the chain did in that run."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from fault_scenarios import placements

GATEWAY = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
ROOT, OTHER_ROOT = b"\x01" * 32, b"\x02" * 32


@dataclass
class _Leaf:
    seq: int


class _Rpc:
    async def call(self, method: str, params: list[Any]) -> dict[str, str]:
        assert method == "eth_getTransactionByHash"
        return {"from": GATEWAY}


class _View:
    """Two posts logged (batches 199 and 200); the chain's state as given."""

    def __init__(self, batches: dict[int, dict[str, Any]]) -> None:
        self.batches = batches
        self.rpc = _Rpc()

    async def logs(
        self, event: str, from_block: int
    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        assert event == "BatchPosted"
        return [
            ({"transactionHash": "0x99"}, {"batchId": 199, "gateway": GATEWAY, "root": ROOT}),
            ({"transactionHash": "0xaa"}, {"batchId": 200, "gateway": GATEWAY, "root": ROOT}),
        ]

    async def get_batches(self, ids: list[int], *, missing: bool = False) -> list[dict[str, Any]]:
        assert missing
        return [self.batches.get(i, {}) for i in ids]

    async def posted_leaves(self, tx_hash: str) -> list[_Leaf]:
        return [_Leaf(2509), _Leaf(2510)] if tx_hash == "0x99" else [_Leaf(2511)]


def test_placements__log_of_a_post_the_state_does_not_hold__not_counted() -> None:
    view = _View({199: {"root": ROOT}})  # batch 200: UnknownBatch
    placed = asyncio.run(placements(view, GATEWAY, 0))  # type: ignore[arg-type]
    assert placed == {2509: [(199, 0, True)], 2510: [(199, 1, True)]}


def test_placements__id_held_by_another_post__not_counted() -> None:
    view = _View({199: {"root": ROOT}, 200: {"root": OTHER_ROOT}})
    placed = asyncio.run(placements(view, GATEWAY, 0))  # type: ignore[arg-type]
    assert 2511 not in placed


def test_placements__every_logged_post_on_the_chain__all_counted() -> None:
    view = _View({199: {"root": ROOT}, 200: {"root": ROOT}})
    placed = asyncio.run(placements(view, GATEWAY, 0))  # type: ignore[arg-type]
    assert placed[2511] == [(200, 0, True)] and len(placed) == 3
