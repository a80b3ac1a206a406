"""A seat whose gateway refuses a leaf's input commits in time whatever the input does: it opens the
leaf's data-availability challenge and, once its batch's input deadline (``input_margin`` seconds
before the commit deadline) passes without the input, commits the leaf as an abstention while the
challenge goes on (an abstention is never slashed). Before, the leaf waited for the challenge's
outcome until the commit cutoff, ``commit_margin`` before the deadline: on a loaded machine the
commitment then landed after the deadline (fault campaign seed 901: an honest seat's input
challenged at +4.4 s, its commitment reverted ``WrongPhase`` at +15 s, a no-show slash). Real anvil,
real contracts and courts, a real HTTP gateway that refuses the input."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.sender import TxSender
from peerhost.chain.settlement import SettlementView
from peerhost.wire.batch import ABSTAIN, vector_hash
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.committee import Committee
from peerhost.worker.duties import input_margin

from .worker_harness import ThreadLoop, key_of, seated_two_holders, wait_for

GOOD = b"\x11" * 32
PH_COMMIT, PH_REVEAL, PH_FINALIZED = 2, 3, 5
DATA_OPEN = 1  # IEvidenceCourt.DataChallenge.state
#: Seconds this worker's clock runs ahead of the chain's (as the wall clock does of a devnet's once
#: a revert set it back), beyond the 2 s left to the input deadline and the 15 % of the commit
#: window between it and the cutoff (18 s of 120 s)
LAG = 5.0


def test_committee__input_withheld__abstains_by_input_deadline_challenge_goes_on_not_slashed(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    refusing_gateway: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Leaf 0's result is known (attested); leaf 1's input is refused. The chain's clock runs
    some seconds behind the worker's and is moved to 2 s before the batch's input deadline: the seat
    challenges leaf 1's availability and commits [its result, ABSTAIN] by the input deadline (the
    chain's), with the challenge still open (it did not wait for it); it reveals and loses
    nothing. (Judged by the worker's own clock, both deadlines had passed at its first look: the
    cutoff's line, not the input deadline's.)"""
    kit = ready
    caplog.set_level(logging.INFO, logger="peerhost.worker")
    # its own logger too: a level an earlier test in this process left on it wins over its
    # parent's (the committee's lines went missing in a full run, the courts' were there)
    caplog.set_level(logging.INFO, logger="peerhost.worker.committee")
    posted, holders = seated_two_holders(kit, 2)
    batch_id = posted.batch_id
    coordinator = kit.coordinator
    assert int(coordinator.getBatch(batch_id).auditMask) & 0b11 == 0b11  # both audited
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
        lambda: {str(kit.gateway.address).lower(): refusing_gateway},
        challenges=False,
        poll=0.1,
        input_retries=0,
    )
    stake_before = int(kit.s.stakes.getStaker(me.address).stake)
    from_block = int(kit.chain.blocks.head.number)
    window = int(kit.params.commit_window)
    early = input_margin(window)
    deadline = int(coordinator.getBatch(batch_id).commitDeadline)
    kit.request("evm_increaseTime", [max(0, int(deadline - early - 2 - kit.now()))])
    kit.request("evm_mine", [])
    # the worker's clock: past both deadlines (the chain's) at its first look
    chain_lead = kit.now() - time.time()
    behind = 2 + window * 0.15 + LAG
    committee.clock = lambda: time.time() + chain_lead + behind
    duty = loop.start(committee._duty(batch_id, {}))

    def vote() -> bytes:
        return bytes(kit.vote_of(batch_id, me.address))

    # by the input deadline and some seconds for the transaction, well before the cutoff
    wait_for(lambda: vote() != bytes(32), 12, "the seat's commitment")
    committed_at = int(kit.chain.blocks.head.timestamp)
    assert committed_at < deadline - early + 8 < deadline - (early - window * 0.15)
    assert int(kit.s.evidence.dataChallengeOf(batch_id, 1).state) == DATA_OPEN  # goes on
    assert "input not in hand" in caplog.text
    assert coordinator.phaseOf(batch_id) == PH_COMMIT
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
