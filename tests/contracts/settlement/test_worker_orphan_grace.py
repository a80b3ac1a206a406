"""An attester posts the tickets a gateway withheld (cheques), but not in the first moments after
the chain answers again following an outage: the gateway's poster was cut off too, and every
orphan's refund comes out of an honest gateway's bond. A ticket whose deadline is near is posted
at once all the same (real anvil, real contracts, the real committee duty)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from peerhost.chain.config import ChainConfig
from peerhost.wire.ticket import sign_ticket
from peerhost.worker.attested import AttestedLedger

from .worker_harness import GOOD, ThreadLoop, ledger_committee


def _attested_ticket(kit: Any, ledger: AttestedLedger, issued: int, deadline: int) -> Any:
    """A ticket of the kit's gateway, attested by the ledger's worker."""
    [t] = kit.tickets(1)
    t = dataclasses.replace(t, issued_at=issued, deadline=deadline)
    signature = sign_ticket(
        kit.gateway.private_key, kit.chain.chain_id, str(kit.coordinator.address), t
    )
    assert ledger.claim(t, t.seq.to_bytes(32, "big"), kit.project_id, signature)
    ledger.attest(t, GOOD, b"\x05" * 65)
    return t


def test_cheques__chain_just_back__gateway_posts_first__then_the_attester_posts(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    kit = ready
    worker = next(iter(accounts_by_address.values()))
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    committee, rpc = ledger_committee(v2_config, worker, ledger, orphan_grace=60.0)
    # the worker's clock is the chain's (the test chain runs ahead of the wall clock; on a live
    # chain block times follow the wall clock)
    committee.clock = lambda: float(kit.now())
    try:
        issued = int(kit.now())
        far = _attested_ticket(kit, ledger, issued, issued + 3000)
        near = _attested_ticket(kit, ledger, issued, issued + int(kit.params.orphan_delay) + 60)
        kit.chain.mine(deltatime=int(kit.params.orphan_delay) + 10)  # the gateway withheld both
        committee.reached_again = kit.now()  # the chain answered again just now
        loop.run(committee.post_cheques())
        assert not kit.coordinator.isSeqPosted(kit.gateway, far.seq), "posted before the gateway"
        assert kit.coordinator.isSeqPosted(kit.gateway, near.seq), "near its deadline: posted"

        grace = max(60, int(kit.params.orphan_delay))  # the contract's delay is the floor
        committee.reached_again = kit.now() - grace - 1  # the grace after the outage passed
        loop.run(committee.post_cheques())
        assert kit.coordinator.isSeqPosted(kit.gateway, far.seq), "withheld, never posted"
        assert committee.cheques_posted == 2
    finally:
        loop.run(rpc.aclose())
        ledger.close()


def test_cheques__chain_clock_behind_the_worker__posted_once_old_on_the_chain_no_gas_before(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    tmp_path: Path,
) -> None:
    """The contract judges an orphan's age by its own clock. A chain 40 s behind the worker's
    (anvil's after a reorg, a node whose clock lags) refused the worker's cheques as too early
    (``OrphanTooEarly``) each round, the worker paying their gas; they wait for the chain now."""
    kit = ready
    worker = next(iter(accounts_by_address.values()))
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    committee, rpc = ledger_committee(v2_config, worker, ledger, orphan_grace=1.0)
    committee.clock = lambda: float(kit.now()) + 40  # the worker's clock ahead of the chain's
    try:
        delay = int(kit.params.orphan_delay)
        issued = int(kit.now())
        t = _attested_ticket(kit, ledger, issued, issued + 3000)
        kit.chain.mine(deltatime=delay - 10)  # old enough by the worker's clock, not the chain's
        committee.reached_again = 0.0
        nonce = int(kit.chain.provider.get_nonce(worker.address))
        loop.run(committee.post_cheques())
        assert int(kit.chain.provider.get_nonce(worker.address)) == nonce, "sent too early"
        assert not kit.coordinator.isSeqPosted(kit.gateway, t.seq)
        kit.chain.mine(deltatime=15)  # the chain's clock passes the ticket's orphan delay
        loop.run(committee.post_cheques())
        assert kit.coordinator.isSeqPosted(kit.gateway, t.seq), "due on the chain: not posted"
        assert (
            int(kit.chain.provider.get_nonce(worker.address)) == nonce + 1
        )  # one post, no refusal
        assert committee.cheques_posted == 1
    finally:
        loop.run(rpc.aclose())
        ledger.close()
