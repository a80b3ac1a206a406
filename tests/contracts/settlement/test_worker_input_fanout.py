"""A seat whose gateway refuses several leaves' inputs past its batch's input deadline commits them
as abstentions and obtains their inputs one at a time in the background: at most one
data-availability challenge (a bond each) open at once for the batch. Before, every leaf refused
past the deadline started its own fetch and challenge at once (one bond per leaf). Real anvil, real
contracts and courts, a real HTTP gateway that refuses the inputs."""

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
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.committee import Committee
from peerhost.worker.duties import input_margin

from .worker_harness import ThreadLoop, key_of, seated_two_holders, wait_for

DATA_OPEN = 1  # IEvidenceCourt.DataChallenge.state


def test_committee__inputs_refused_past_input_deadline__one_challenge_at_a_time(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    refusing_gateway: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Leaves 0-2 are audited and all refused; the chain's clock is 1 s past the batch's input
    deadline: the seat commits [ABSTAIN] * 3 with one data challenge open, not three."""
    kit = ready
    caplog.set_level(logging.INFO, logger="peerhost.worker")
    # its own logger too: a level an earlier test in this process left on it wins over its
    # parent's (the committee's lines went missing in a full run, the courts' were there)
    caplog.set_level(logging.INFO, logger="peerhost.worker.committee")
    posted, holders = seated_two_holders(kit, 3)
    batch_id = posted.batch_id
    coordinator = kit.coordinator
    assert int(coordinator.getBatch(batch_id).auditMask) & 0b111 == 0b111  # all audited
    me = accounts_by_address[holders[0]]
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
    early = input_margin(window)
    deadline = int(coordinator.getBatch(batch_id).commitDeadline)
    kit.request("evm_increaseTime", [max(0, int(deadline - early + 1 - kit.now()))])
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
        wait_for(lambda: len(challenged()) >= 1, 20, "a data challenge")
        for _ in range(10):  # the others' challenges, had they started, land within seconds
            assert len(challenged()) == 1, challenged()
            kit.request("evm_mine", [])
            time.sleep(0.3)
        assert caplog.text.count("obtained after the batch's other late input") == 2
    finally:
        duty.cancel()
        loop.run(committee.close(), 30)
        loop.run(rpc.aclose(), 30)
        ledger.close()
