"""A restarted worker follows the chain from a recent block, yet a court case (a tier vote, a
challenge) can name a batch posted before that: the worker finds the batch's post near its seed
block and reads its leaves. Before, ``leaves_of`` searched only from the worker's first block and
raised ``LookupError`` ("batch 10 was not posted after block 236", fault campaign seed 901, a
restarted worker's fifteen case duties dropped at once): a drawn voter that drops its case is a
no-show. Real anvil, real contracts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peerhost.chain.config import ChainConfig
from peerhost.wire.batch import Leaf
from peerhost.worker.attested import AttestedLedger

from .worker_harness import ThreadLoop, ledger_committee


def test_committee__batch_posted_before_first_followed_block__leaves_found(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    kit = ready
    tickets = kit.tickets(3)
    posted = kit.post(tickets=tickets)
    kit.chain.mine(40)  # the worker (re)starts later
    me = next(iter(accounts_by_address.values()))
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    committee, rpc = ledger_committee(v2_config, me, ledger)
    committee._from_block = int(kit.chain.blocks.head.number) - 5  # as run() sets it, later
    try:
        gateway, leaves = loop.run(committee.leaves_of(posted.batch_id), 30)
        assert gateway.lower() == str(kit.gateway.address).lower()
        assert leaves == [Leaf.of(t) for t in tickets]
    finally:
        loop.run(committee.close(), 30)
        loop.run(rpc.aclose(), 30)
        ledger.close()
