"""A seat that cannot run every audited leaf before its batch's commit window closes commits what
it has, the leaves it could not run as abstentions, ``commit_margin`` seconds before the deadline:
an abstention is a valid value and never slashed, a seat that does not commit is a no-show and is
slashed. Real anvil, real contracts; the slow part is a real HTTP gateway that holds a leaf's input
request (as a gateway restarting, or a data-availability challenge outlasting the window, does)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.sender import TxSender
from peerhost.chain.settlement import SettlementView
from peerhost.wire.batch import ABSTAIN, vector_hash
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.committee import Committee, commit_margin

from .worker_harness import (
    QuietHandler,
    ThreadLoop,
    http_server,
    key_of,
    seated_two_holders,
    wait_for,
)

GOOD = b"\x11" * 32
PH_COMMIT, PH_REVEAL, PH_SETTLE, PH_FINALIZED = 2, 3, 4, 5
NO_SHOW = 1  # SeatSlashed reason


@pytest.fixture
def slow_gateway() -> Iterator[str]:
    """A gateway whose input endpoint holds every request until the test ends (then 404)."""
    release = threading.Event()

    class Hold(QuietHandler):
        def do_GET(self) -> None:
            release.wait(120)
            self.send_error(404)

    with http_server(Hold) as url:
        yield url
        release.set()


def test_committee__leaves_not_run_by_commit_margin__commits_abstentions_and_is_not_slashed(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    slow_gateway: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Leaf 0's result is known (the worker attested it); leaf 1's input never comes (the gateway
    holds the request). The chain's clock is moved to 3 s before the seat's cutoff: the seat
    commits [its result, ABSTAIN] in time, reveals it, and loses nothing. Before the cutoff it
    waited for the input (retries, then a data-availability challenge) past the commit deadline
    and was slashed as a no-show."""
    kit = ready
    caplog.set_level(logging.WARNING, logger="peerhost.worker.committee")
    posted, holders = seated_two_holders(kit, 2)
    batch_id = posted.batch_id
    coordinator = kit.coordinator
    assert int(coordinator.getBatch(batch_id).auditMask) & 0b11 == 0b11  # verified: both audited
    me = accounts_by_address[holders[0]]
    others = [accounts_by_address[h] for h in holders[1:]]
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    ledger.claim(posted.tickets[0], b"\x01" * 32, kit.project_id, b"\x02" * 65)
    ledger.attest(posted.tickets[0], GOOD, b"\x03" * 65)  # leaf 0: this worker ran it already
    rpc = RpcClient(v2_config.rpc_url)
    view = SettlementView(v2_config, rpc, TxSender(rpc, key_of(me), v2_config.chain_id))
    committee = Committee(
        view,
        None,  # type: ignore[arg-type]  # never runs a leaf: leaf 1's input never arrives
        ledger,
        key_of(me),
        str(me.address),
        lambda: {str(kit.gateway.address).lower(): slow_gateway},
        challenges=False,
        poll=0.1,
    )
    stake_before = int(kit.s.stakes.getStaker(me.address).stake)
    from_block = int(kit.chain.blocks.head.number)
    # the chain's clock: 3 s before the seat's cutoff (commit deadline less the margin)
    margin = commit_margin(int(kit.params.commit_window))
    deadline = int(coordinator.getBatch(batch_id).commitDeadline)
    kit.request("evm_increaseTime", [max(0, int(deadline - margin - 3 - kit.now()))])
    kit.request("evm_mine", [])
    duty = loop.start(committee._duty(batch_id, {}))

    def vote() -> bytes:
        return bytes(kit.vote_of(batch_id, me.address))

    wait_for(lambda: vote() != bytes(32), margin + 20, "the seat's commitment")
    assert coordinator.phaseOf(batch_id) in (PH_COMMIT, PH_REVEAL)
    # leaf 1's first fetch was in flight at the cutoff: the input deadline (passed already) is
    # for inputs refused once, never for a fetch still waiting for its answer
    assert "committed as abstentions" in caplog.text
    assert "input not in hand" not in caplog.text
    for other in others:
        kit.commit(batch_id, other, [GOOD, GOOD])
    wait_for(lambda: coordinator.phaseOf(batch_id) == PH_REVEAL, 30, "the reveal phase")
    wait_for(lambda: vote() == vector_hash([GOOD, ABSTAIN]), 30, "the seat's reveal")
    for other in others:
        kit.reveal(batch_id, other, [GOOD, GOOD])
    wait_for(lambda: coordinator.phaseOf(batch_id) >= PH_FINALIZED, 60, "the batch finalized")
    slashed = [
        log
        for log in coordinator.SeatSlashed.range(from_block, int(kit.chain.blocks.head.number) + 1)
        if str(log.worker).lower() == str(me.address).lower()
    ]
    assert slashed == []
    assert int(kit.s.stakes.getStaker(me.address).stake) == stake_before
    duty.cancel()
    loop.run(committee.close(), 30)
    loop.run(rpc.aclose(), 30)
    ledger.close()
