"""The committee's log loop outlives what a cheque round meets on a reorganizing chain: an attester
whose clock runs ahead of the chain's, on a node that does not say its clock (no pending block),
posts withheld tickets the contract still finds too young (``OrphanTooEarly``), and a reorg takes the reverted ``postOrphans`` out of the chain between its
receipt and the read of its error. The loop (the one that starts every batch's duty) went on
following blocks after that; it died in silence before, and the worker was a no-show in every
later batch. An error no step foresaw ends one pass of the loop, logged, never the loop (real
anvil, real contracts, the real committee)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path
from typing import Any

import pytest
from hexbytes import HexBytes

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.sender import TxSender
from peerhost.chain.settlement import SettlementView
from peerhost.wire.ticket import sign_ticket
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.committee import Committee

from .worker_harness import GOOD, ThreadLoop, key_of, wait_for


class ReorgBeforeErrorRead(RpcClient):
    """The worker's own RPC client on the real node; once armed, the node drops the last
    ``postOrphans``'s block (``evm_revert`` to a snapshot taken before it: the block and its
    transaction gone, as a reorg leaves them) right before the worker reads that transaction to
    learn why it reverted. Asked for the ``pending`` block it answers the latest, as op-geth and
    other nodes that build no pending block do: the worker cannot tell the chain's clock is
    behind its own (on anvil, which says it, an attester waits for the chain's clock and sends
    no post the contract finds too young)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.fork: str | None = None
        self.dropped = 0

    async def call(self, method: str, params: list[Any] | None = None) -> Any:
        if method == "eth_getBlockByNumber" and params and params[0] == "pending":
            params = ["latest", *params[1:]]
        if method == "eth_getTransactionByHash" and self.fork is not None:
            fork, self.fork = self.fork, None
            assert await super().call("evm_revert", [fork]) is True
            self.dropped += 1
        return await super().call(method, params)


def _attested(kit: Any, ledger: AttestedLedger, issued: int, deadline: int) -> Any:
    [t] = kit.tickets(1)
    t = dataclasses.replace(t, issued_at=issued, deadline=deadline)
    signature = sign_ticket(
        kit.gateway.private_key, kit.chain.chain_id, str(kit.coordinator.address), t
    )
    assert ledger.claim(t, t.seq.to_bytes(32, "big"), kit.project_id, signature)
    ledger.attest(t, GOOD, b"\x05" * 65)
    return t


@pytest.fixture
def attester(
    ready: Any, v2_config: ChainConfig, workers: list[Any], loop: ThreadLoop, tmp_path: Path
) -> Any:
    """A worker's committee on the real chain whose clock runs ``ahead`` seconds before the
    chain's (set it), its RPC client (:class:`ReorgBeforeErrorRead`) and its ledger."""
    rpc = ReorgBeforeErrorRead(v2_config.rpc_url)
    worker = workers[0]
    view = SettlementView(v2_config, rpc, TxSender(rpc, key_of(worker), v2_config.chain_id))
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    committee = Committee(
        view,
        None,  # type: ignore[arg-type]  # never runs a leaf: its results are in the ledger
        ledger,
        key_of(worker),
        str(worker.address),
        dict,
        challenges=False,
        poll=0.1,
    )
    committee.ahead = 0  # type: ignore[attr-defined]
    committee.clock = lambda: float(ready.now() + committee.ahead)  # type: ignore[attr-defined]
    yield committee, rpc, ledger
    loop.run(committee.close())
    loop.run(rpc.aclose())
    ledger.close()


def _loop_follows(kit: Any, committee: Committee, running: Any) -> None:
    """The log loop runs and reads a block mined now."""
    kit.chain.mine()
    block = kit.chain.blocks.head
    head = (int(block.number), HexBytes(block.hash).to_0x_hex())
    wait_for(
        lambda: (
            running.done() or (bool(committee._checkpoints) and committee._checkpoints[-1] == head)
        ),
        30,
        f"the log loop reading block {head[0]}",
    )
    if running.done():
        running.result()  # its error
        pytest.fail("the log loop ended")


def test_log_loop__orphans_revert_and_a_reorg_drops_them_before_the_error_is_read__loop_goes_on(
    ready: Any, attester: Any, loop: ThreadLoop
) -> None:
    kit = ready
    committee, rpc, ledger = attester
    delay = int(kit.params.orphan_delay)
    issued = kit.now()
    ticket = _attested(kit, ledger, issued, issued + 3000)
    # the attester's clock past the grace while the chain's is not: the contract refuses the post
    committee.ahead = delay + 60
    running = loop.start(committee.run())
    try:
        _loop_follows(kit, committee, running)
        rpc.fork = kit.request("evm_snapshot", [])
        wait_for(lambda: rpc.dropped or running.done(), 30, "a cheque round's postOrphans")
        # the round's error read with its transaction gone: the loop still follows blocks
        _loop_follows(kit, committee, running)
        _loop_follows(kit, committee, running)
        assert not kit.coordinator.isSeqPosted(kit.gateway, ticket.seq)
        # the chain's clock past the delay: the next round posts the withheld ticket (the
        # attester is paid for it; it was never posted while the loop was dead)
        kit.chain.mine(deltatime=delay + 30)
        # the post mined, and its receipt read by the round (the chain says posted first: on a
        # loaded machine the round's receipt wait ends a poll later)
        wait_for(
            lambda: (
                running.done()
                or (
                    kit.coordinator.isSeqPosted(kit.gateway, ticket.seq)
                    and committee.cheques_posted >= 1
                )
            ),
            30,
            "the withheld ticket posted by a later cheque round",
        )
        assert not running.done(), "the log loop ended"
        assert committee.cheques_posted == 1
        assert committee.loop_errors == 0, "the dropped revert was not read as a failed post"
    finally:
        running.cancel()


def test_log_loop__a_pass_fails_with_an_error_no_step_foresaw__logged_and_the_loop_goes_on(
    ready: Any, attester: Any, loop: ThreadLoop, caplog: pytest.LogCaptureFixture
) -> None:
    kit = ready
    committee, rpc, ledger = attester
    issued = kit.now()
    # a ticket no post can carry (a deadline past uint64): its post cannot even be encoded
    [odd] = kit.tickets(1)
    odd = dataclasses.replace(odd, issued_at=issued, deadline=2**64 + 5)
    assert ledger.claim(odd, b"\x07" * 32, kit.project_id, b"\x02" * 65)
    ledger.attest(odd, GOOD, b"\x05" * 65)
    committee.ahead = int(kit.params.orphan_delay) + 60
    caplog.set_level(logging.ERROR, logger="peerhost.worker.committee")
    running = loop.start(committee.run())
    try:
        wait_for(lambda: committee.loop_errors or running.done(), 30, "a cheque round")
        _loop_follows(kit, committee, running)
        # the cheque round runs beside the loop: its failure logged, the loop not held by it
        failed = [r for r in caplog.records if "failed; going on" in r.getMessage()]
        assert failed and failed[0].exc_info is not None, "the failed round was not logged"
    finally:
        running.cancel()


def test_cheques__a_reorg_drops_the_orphan_post__the_tickets_posted_again(
    ready: Any, attester: Any, loop: ThreadLoop
) -> None:
    """An attester's own ``postOrphans`` marked its tickets posted; a reorg that drops that post
    undoes the marks, and a later cheque round posts them again (they stayed posted in the
    attester's ledger, and in the gateway's book that recorded the orphans, with no post on the
    chain: never posted again, never paid; a deep reorg in the fault campaign left ten so)."""
    kit = ready
    committee, rpc, ledger = attester
    issued = kit.now()
    ticket = _attested(kit, ledger, issued, issued + 3000)
    kit.chain.mine(deltatime=int(kit.params.orphan_delay) + 10)  # the gateway withheld it
    fork = kit.request("evm_snapshot", [])
    running = loop.start(committee.run())
    try:
        wait_for(
            lambda: running.done() or committee.cheques_posted == 1,
            30,
            "the withheld ticket posted as an orphan",
        )
        _loop_follows(kit, committee, running)  # the post's block read
        assert committee.cheques_posted == 1
        assert kit.request("evm_revert", [fork])  # the orphan post's block gone
        assert not kit.coordinator.isSeqPosted(kit.gateway, ticket.seq)
        kit.chain.mine(num_blocks=2)
        wait_for(
            lambda: running.done() or committee.cheques_posted == 2,
            30,
            "the ticket posted again once the reorg dropped its orphan post",
        )
        assert not running.done(), "the log loop ended"
        assert kit.coordinator.isSeqPosted(kit.gateway, ticket.seq)
    finally:
        running.cancel()


class _StuckWithdrawal(Committee):
    """A committee whose withdrawal waits for a receipt that does not come (a loaded node)."""

    stuck = 0

    async def withdraw(self) -> None:
        self.stuck += 1
        await asyncio.sleep(3600)


def test_log_loop__a_withdrawal_waits_for_its_receipt__blocks_still_read(
    ready: Any, v2_config: ChainConfig, workers: list[Any], loop: ThreadLoop, tmp_path: Path
) -> None:
    """The loop started every batch's and every case's duty; it awaited its withdrawal's and
    cheque round's receipts inline, and a worker whose receipts waited 29-40 s under load read no
    escalation meanwhile: its tier votes came after their window (a fault run, seed 2403). The
    rounds run beside it now: a withdrawal that never ends leaves the loop reading blocks."""
    kit = ready
    rpc = RpcClient(v2_config.rpc_url)
    worker = workers[0]
    view = SettlementView(v2_config, rpc, TxSender(rpc, key_of(worker), v2_config.chain_id))
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    committee = _StuckWithdrawal(
        view,
        None,  # type: ignore[arg-type]  # never runs a leaf
        ledger,
        key_of(worker),
        str(worker.address),
        dict,
        challenges=False,
        poll=0.1,
        credits_every=0.0,
    )
    running = loop.start(committee.run())
    try:
        wait_for(lambda: committee.stuck or running.done(), 30, "the withdrawal round")
        for _ in range(3):
            _loop_follows(kit, committee, running)
        assert committee.stuck == 1  # one at a time: not started again while it waits
    finally:
        running.cancel()
        loop.run(committee.close())
        loop.run(rpc.aclose())
        ledger.close()
