"""The gateway's batch poster asking its attesters to co-sign, on the real chain with a real
attester's cosigner: a co-sign request carries every leaf's attested result, so no worker may get
one while a seat could still copy those results into its commitment or its challenge. The poster
asks only once the batch's challenge window has passed, and the attester is still paid."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.gateway.ticketbook import POSTED
from peerhost.wire.feed import CosignRequest
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.cosign import Cosigner

from .test_gateway_reorg import BATCH_CLOSED, BATCH_FINALIZED, GOOD, Gateway, settle_all_agreeing
from .worker_harness import key_of

ATTESTER = 2  # ISettlementCoordinator Credited reason


class Attester:
    """A worker that attested the gateway's tickets: its ledger and its cosigner answer every
    request the poster sends it, and each request is recorded with the batch's state then."""

    def __init__(self, account: Any, gw: Gateway, kit: Any, tmp: Path) -> None:
        self.account, self.gw, self.kit = account, gw, kit
        self.ledger = AttestedLedger(str(tmp / "attested.sqlite3"))
        config = gw.view.config
        self.cosigner = Cosigner(self.ledger, key_of(account), config.chain_id, config.settlement)
        self.asked: list[tuple[str, CosignRequest, int, bool]] = []

    async def ask(self, worker: str, request: CosignRequest) -> bool:
        batch = self.kit.coordinator.getBatch(request.batch_id)
        window = int(self.kit.s.court.courtParams().challengeWindow)
        finalized = int(batch.finalizedAt)
        passed = finalized > 0 and self.kit.now() >= finalized + window
        self.asked.append((worker, request, int(batch.state), passed))
        if worker != str(self.account.address):
            return False
        reply = self.cosigner.handle(request, str(self.gw.sender.address))
        if reply is not None:
            self.gw.poster.cosigned(worker, reply)
        return True


@pytest.fixture
def gw(ready: Any, v2_config: ChainConfig, tmp_path: Path) -> Iterator[Gateway]:
    running = Gateway(v2_config, key_of(ready.gateway), tmp_path)
    yield running
    running.close()


def test_poster__co_sign_requests__none_before_the_challenge_window_passed_and_attester_paid(
    ready: Any, gw: Gateway, accounts_by_address: dict[str, Any], tmp_path: Path
) -> None:
    kit = ready
    # the poster judges the window by the later of the chain's clock and its own (an idle chain's
    # head lags); a shared chain whose clock a snapshot's revert set behind the wall clock would
    # have it ask while the chain still takes a challenge: the chain's clock is put on the wall's
    kit.clock_on_the_wall()
    account = next(iter(accounts_by_address.values()))
    attester = Attester(account, gw, kit, tmp_path)
    gw.poster._ask = attester.ask
    tickets = kit.tickets(2)
    gw.issue(tickets, kit.project_id)
    for t in tickets:
        rid = t.seq.to_bytes(32, "big")
        attester.ledger.claim(t, rid, kit.project_id, b"\x01" * 65)
        attester.ledger.attest(t, GOOD, b"\x05" * 65)
        gw.book.record_attestations(rid, [(str(account.address), GOOD, b"\x05" * 65)], GOOD)
    gw.tick()  # posts the batch
    assert gw.states(tickets) == [POSTED, POSTED]
    batch_id = gw.book.batches("posted")[0].batch_id
    assert batch_id is not None
    gw.tick()
    assert attester.asked == [], "asked right after the post: the seats could copy the results"

    settle_all_agreeing(kit, batch_id, accounts_by_address)
    assert int(kit.coordinator.getBatch(batch_id).state) == BATCH_FINALIZED
    start = int(kit.chain.blocks.head.number) + 1
    for _ in range(3):  # finalized, the challenge window still open: followed, never asked
        gw.tick()
    assert attester.asked == [], "asked while the batch could still be challenged"

    kit.wait_challenge_window(batch_id)
    gw.sender.signer.forget_nonce()  # the kit sent the seat draw from the gateway's account
    for _ in range(10):
        gw.tick()
        if int(kit.coordinator.getBatch(batch_id).state) == BATCH_CLOSED:
            break
    assert int(kit.coordinator.getBatch(batch_id).state) == BATCH_CLOSED, "not opened"
    assert attester.asked, "never asked to co-sign"
    assert all(passed for _, _, _, passed in attester.asked), "asked before the window passed"
    assert attester.cosigner.signed == 1
    head = int(kit.chain.blocks.head.number)
    paid = [
        int(e.amount)
        for e in kit.coordinator.Credited.range(start, head + 1)
        if int(e.reason) == ATTESTER and e.account == account.address
    ]
    assert paid and sum(paid) > 0, "the attester that co-signed was not paid"
