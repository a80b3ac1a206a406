"""The leaves a seat queued behind its batch's late input (inputs refused past the input deadline,
obtained one at a time after the commitment) are dropped once the batch leaves its committee
phase: after it settled, the input in flight is seen through (its data-availability challenge
ends) and no queued one starts. Before, each queued leaf still asked the gateway and tried to
challenge its availability after the batch had settled (a transaction and a bond each, for an
input no vote needed). Real
anvil, real contracts and courts, a real HTTP gateway that refuses the inputs."""

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
PH_REVEAL, PH_FINALIZED = 3, 5
DATA_OPEN, DATA_VOIDED = 1, 3  # IEvidenceCourt.DataChallenge.state
CHALLENGING = "input unavailable; challenging its availability"


def test_committee__batch_settled__queued_late_inputs_dropped_none_asked_or_challenged(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    refusing_gateway: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Leaves 0-2 are audited and all refused, the chain's clock 1 s past the batch's input
    deadline: the seat commits [ABSTAIN] * 3, one leaf's challenge open and two queued. The batch
    settles; the open challenge is voided: no queued leaf is challenged."""
    kit = ready
    caplog.set_level(logging.INFO, logger="peerhost.worker")
    caplog.set_level(logging.INFO, logger="peerhost.worker.committee")
    posted, holders = seated_two_holders(kit, 3)
    batch_id = posted.batch_id
    coordinator = kit.coordinator
    assert int(coordinator.getBatch(batch_id).auditMask) & 0b111 == 0b111  # all audited
    me = accounts_by_address[holders[0]]
    others = [accounts_by_address[h] for h in holders[1:]]
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    rpc = RpcClient(v2_config.rpc_url)
    view = SettlementView(v2_config, rpc, TxSender(rpc, key_of(me), v2_config.chain_id))
    committee = Committee(
        view,
        None,  # type: ignore[arg-type]  # never runs a leaf: no input arrives
        ledger,
        key_of(me),
        str(me.address),
        lambda: {str(kit.gateway.address).lower(): refusing_gateway},
        challenges=False,
        poll=0.1,
        input_retries=0,
    )
    window = int(kit.params.commit_window)
    deadline = int(coordinator.getBatch(batch_id).commitDeadline)
    kit.request("evm_increaseTime", [max(0, int(deadline - input_margin(window) + 1 - kit.now()))])
    kit.request("evm_mine", [])
    duty = loop.start(committee._duty(batch_id, {}))

    def vote() -> bytes:
        return bytes(kit.vote_of(batch_id, me.address))

    def challenged() -> list[int]:
        return [
            i
            for i in range(3)
            if int(kit.s.evidence.dataChallengeOf(batch_id, i).state) == DATA_OPEN
        ]

    try:
        wait_for(lambda: vote() != bytes(32), 20, "the seat's commitment")
        wait_for(lambda: len(challenged()) == 1, 20, "a data challenge")
        assert caplog.text.count("obtained after the batch's other late input") == 2
        for other in others:
            kit.commit(batch_id, other, [GOOD] * 3)
        wait_for(lambda: coordinator.phaseOf(batch_id) == PH_REVEAL, 30, "the reveal phase")
        wait_for(lambda: vote() == vector_hash([ABSTAIN] * 3), 30, "the seat's reveal")
        for other in others:
            kit.reveal(batch_id, other, [GOOD] * 3)
        wait_for(lambda: coordinator.phaseOf(batch_id) >= PH_FINALIZED, 60, "the batch finalized")
        wait_for(lambda: "queued late input(s) dropped" in caplog.text, 10, "the drop")
        # the open challenge ends (voided past its deadline): nothing queued starts after it
        (open_leaf,) = challenged()
        challenge = kit.s.evidence.dataChallengeOf(batch_id, open_leaf)
        kit.request("evm_increaseTime", [max(0, int(challenge.deadline) + 2 - kit.now())])
        kit.request("evm_mine", [])
        kit.s.evidence.voidTicket(batch_id, open_leaf, sender=kit.gateway)
        assert int(kit.s.evidence.dataChallengeOf(batch_id, open_leaf).state) == DATA_VOIDED
        time.sleep(3.0)  # the in-flight input's loop sees the void within a poll
        assert caplog.text.count(CHALLENGING) == 1, "a queued leaf challenged after settling"
    finally:
        duty.cancel()
        loop.run(committee.close(), 30)
        loop.run(rpc.aclose(), 30)
        ledger.close()
