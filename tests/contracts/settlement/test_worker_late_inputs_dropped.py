"""The leaves a seat queued behind its batch's late input (inputs refused past the input deadline,
obtained one at a time after the commitment) are dropped once the batch leaves its committee
phase: after it settled, the input in flight is seen through (its data-availability challenge
ends) and no queued one starts. Before, each queued leaf still asked the gateway and tried to
challenge its availability after the batch had settled (a transaction and a bond each, for an
input no vote needed). Real
anvil, real contracts and courts, a real HTTP gateway that refuses the inputs."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from ape.exceptions import ContractLogicError

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
    seat = _seat_with_late_queue(
        kit, v2_config, accounts_by_address, loop, refusing_gateway, tmp_path, caplog
    )
    batch_id, others, committee = seat.batch_id, seat.others, seat.committee
    coordinator = kit.coordinator
    try:
        loop.start(committee._duty(batch_id, {}))
        seat.queued()
        for other in others:
            kit.commit(batch_id, other, [GOOD] * 3)
        wait_for(lambda: coordinator.phaseOf(batch_id) == PH_REVEAL, 30, "the reveal phase")
        wait_for(lambda: seat.vote() == vector_hash([ABSTAIN] * 3), 30, "the seat's reveal")
        for other in others:
            kit.reveal(batch_id, other, [GOOD] * 3)
        wait_for(lambda: coordinator.phaseOf(batch_id) >= PH_FINALIZED, 60, "the batch finalized")
        wait_for(lambda: "queued late input(s) dropped" in caplog.text, 10, "the drop")
        # the open challenge ends (voided past its deadline): nothing queued starts after it
        (open_leaf,) = seat.challenged()
        challenge = kit.s.evidence.dataChallengeOf(batch_id, open_leaf)
        kit.request("evm_increaseTime", [max(0, int(challenge.deadline) + 2 - kit.now())])
        kit.request("evm_mine", [])
        # the seat's own input loop voids it too once the deadline passed: either may be first
        # (the other's call then reverts WrongDataState)
        if int(kit.s.evidence.dataChallengeOf(batch_id, open_leaf).state) == DATA_OPEN:
            with contextlib.suppress(ContractLogicError):
                kit.s.evidence.voidTicket(batch_id, open_leaf, sender=kit.gateway)
        wait_for(
            lambda: int(kit.s.evidence.dataChallengeOf(batch_id, open_leaf).state) == DATA_VOIDED,
            10,
            "the challenge voided",
        )
        time.sleep(3.0)  # the in-flight input's loop sees the void within a poll
        assert caplog.text.count(CHALLENGING) == 1, "a queued leaf challenged after settling"
    finally:
        loop.run(committee.close(), 30)
        loop.run(seat.rpc.aclose(), 30)
        seat.ledger.close()


def test_committee__batch_posted_again_in_another_block__queued_late_inputs_dropped(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    refusing_gateway: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """As above, and the batch is seen posted again in another block (a reorg): the old duty is
    cancelled and its queue dropped with it. The open challenge then ends (the gateway publishes
    the input) while the batch is still in its commit phase: no queued leaf starts, no second
    challenge (a bond) is opened. Before, the replaced duty's end skipped the drop: the next
    queued leaf was asked for and challenged."""
    kit = ready
    seat = _seat_with_late_queue(
        kit, v2_config, accounts_by_address, loop, refusing_gateway, tmp_path, caplog
    )
    batch_id, committee = seat.batch_id, seat.committee

    async def posted_in(block: str) -> None:
        committee._posted(batch_id, {"blockHash": block})

    try:
        loop.run(posted_in("0x" + "aa" * 32), 30)
        seat.queued()
        loop.run(posted_in("0x" + "bb" * 32), 30)  # the same batch, another block
        assert "queued late input(s) dropped" in caplog.text
        (open_leaf,) = seat.challenged()
        seq = seat.posted.tickets[open_leaf].seq
        kit.s.evidence.publishInput(batch_id, open_leaf, seq.to_bytes(8, "big"), sender=kit.gateway)
        time.sleep(3.0)  # the in-flight input's loop sees the input within a poll
        assert kit.coordinator.phaseOf(batch_id) == PH_COMMIT
        assert caplog.text.count(CHALLENGING) == 1, "a dropped leaf challenged"
        assert seat.challenged() == []
    finally:
        loop.run(committee.close(), 30)
        loop.run(seat.rpc.aclose(), 30)
        seat.ledger.close()


@dataclasses.dataclass
class _Seat:
    kit: Any
    posted: Any
    batch_id: int
    me: Any
    others: list[Any]
    committee: Committee
    rpc: RpcClient
    ledger: AttestedLedger
    caplog: pytest.LogCaptureFixture

    def vote(self) -> bytes:
        return bytes(self.kit.vote_of(self.batch_id, self.me.address))

    def challenged(self) -> list[int]:
        """The leaves whose data-availability challenge is open."""
        evidence = self.kit.s.evidence
        return [
            i
            for i in range(3)
            if int(evidence.dataChallengeOf(self.batch_id, i).state) == DATA_OPEN
        ]

    def queued(self) -> None:
        """Waits for the seat's commitment and its one open challenge: two leaves queued."""
        wait_for(lambda: self.vote() != bytes(32), 20, "the seat's commitment")
        wait_for(lambda: len(self.challenged()) == 1, 20, "a data challenge")
        assert self.caplog.text.count("obtained after the batch's other late input") == 2


def _seat_with_late_queue(
    kit: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    refusing_gateway: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> _Seat:
    """A seat on a batch of 3 audited leaves whose gateway refuses every input, the chain's
    clock 1 s past the input deadline (its duty not started)."""
    caplog.set_level(logging.INFO, logger="peerhost.worker")
    caplog.set_level(logging.INFO, logger="peerhost.worker.committee")
    posted, holders = seated_two_holders(kit, 3)
    batch_id = posted.batch_id
    assert int(kit.coordinator.getBatch(batch_id).auditMask) & 0b111 == 0b111  # all audited
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
    deadline = int(kit.coordinator.getBatch(batch_id).commitDeadline)
    kit.request("evm_increaseTime", [max(0, int(deadline - input_margin(window) + 1 - kit.now()))])
    kit.request("evm_mine", [])
    others = [accounts_by_address[h] for h in holders[1:]]
    return _Seat(kit, posted, batch_id, me, others, committee, rpc, ledger, caplog)
