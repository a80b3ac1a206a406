"""A lying worker joins the epoch: it attests and reveals a forged result for every ticket.

With ``A = 4`` every ticket reaches it, so ``attested`` answers see a disagreement and fall back
to ``verified``, which answers the result the committee finalized. As a committee member without
a majority of the seats, the liar cannot get its forgery finalized and is slashed for its reveal;
when the draw hands it a majority (a captured committee, what the challenge tiers are for), the
forgery is final, and the test says so. The liar's seat is slashed by DisputeCourt.punish once the
leaf's challenge window passed (called by an agreeing seat), not at settlement.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import lying_attester
import pytest
from ticket_stack import TicketStack

from peerhost.chain.courts import CourtsView
from peerhost.chain.settlement import SettlementView
from peerhost.devnet.accounts import worker_key
from peerhost.wire.feed import parse_attestations_header

LIAR = 3  # worker index: the three honest workers are 0..2


def wait_for(predicate: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout} s")


pytestmark = pytest.mark.usefixtures("automine")


@pytest.fixture(scope="module")
def liar(tickets_stack: TicketStack) -> Iterator[str]:
    devnet = tickets_stack.devnet
    proc = devnet.launch_worker(LIAR, program=lying_attester.PROGRAM)
    address = worker_key(LIAR).address
    settlement = devnet.settlement
    assert settlement is not None
    try:
        with tickets_stack.ape():
            time.sleep(1.1)
            settlement.stakes.advanceEpoch(sender=tickets_stack.developer)
        tickets_stack.restart_gateway(attesters=4)
        devnet.wait_for_feeds(4)
        time.sleep(2.5)  # the gateway re-reads the active set every 2 s
        yield address
    finally:
        proc.stop(timeout=20.0)
        with tickets_stack.ape():
            settlement.stakes.leave(sender=address)
            time.sleep(1.1)
            settlement.stakes.advanceEpoch(sender=tickets_stack.developer)
        tickets_stack.restart_gateway(attesters=2)


def test_attested__a_liar_disagrees__falls_back_to_verified_and_answers_correctly(
    tickets_stack: TicketStack, http: httpx.Client, liar: str
) -> None:
    response = http.get(tickets_stack.example("hello"), headers={"x-peerhost-mode": "attested"})
    assert response.status_code == 200, response.text
    assert response.text == "Hello from PeerHost!"
    assert response.headers["x-peerhost-mode"] == "verified"
    attesters = {
        w for w, _ in parse_attestations_header(response.headers["x-peerhost-attestations"])
    }
    assert liar not in attesters and attesters
    status = tickets_stack.status(response.headers["x-peerhost-request-id"])
    assert liar in {a["worker"] for a in status["attestations"]}  # it did attest: a forgery


def test_sybil__liar_without_a_seat_majority__forgery_not_finalized_and_liar_slashed(
    tickets_stack: TicketStack, http: httpx.Client, liar: str
) -> None:
    start = tickets_stack.view(lambda view: view.block_number())
    minority_batch = None
    for _ in range(15):
        response = http.get(tickets_stack.example("hello"), headers={"x-peerhost-mode": "verified"})
        assert response.status_code == 200, response.text
        status = tickets_stack.status(response.headers["x-peerhost-request-id"])
        batch_id = status["batch"]["id"]

        async def seats(view: SettlementView, batch_id: int = batch_id) -> int:
            holders, counts = await view.holders_of(batch_id)
            return dict(zip(holders, counts, strict=True)).get(liar, 0)

        held = tickets_stack.view(seats)
        if held >= 2:  # a captured committee: the forgery is final unless someone challenges
            assert response.text != "Hello from PeerHost!"
            continue
        assert response.text == "Hello from PeerHost!"
        assert status["settlement"]["leaf_state"] == "final"
        if held == 1:
            minority_batch = batch_id
            break
    assert minority_batch is not None, "the liar never drew exactly one seat in 15 batches"

    # After the leaf's challenge window an agreeing seat calls DisputeCourt.punish: the liar's seat
    # is slashed seatSlash, and its stake drops by exactly what the stake registry says it took.
    async def punished(view: SettlementView) -> list[dict[str, Any]]:
        courts = await CourtsView.load(view)
        return [
            args
            for _, args in await courts.logs("dispute", "VoterSlashed", start, minority_batch)
            if args["worker"] == liar
        ]

    slashes = wait_for(lambda: tickets_stack.view(punished), 60)
    assert [(int(a["tier"]), int(a["reason"])) for a in slashes] == [(1, 0)]  # tier 1, wrong value

    async def stake_drop(view: SettlementView) -> tuple[int, int, int, int]:
        end = await view.block_number()
        before, after = await view.staker(liar, start), await view.staker(liar, end)
        taken = sum(
            int(args["amount"])
            for _, args in await view.logs(
                "StakeSlashed", start + 1, end, contract="stakes", account=liar
            )
        )
        seat_slash = int((await view.params())["seatSlash"])
        held = int(before["stake"]) + int(before["unbonding"])
        left = int(after["stake"]) + int(after["unbonding"])
        return held - left, taken, seat_slash, int(slashes[0]["amount"])

    drop, taken, seat_slash, slashed = tickets_stack.view(stake_drop)
    assert slashed == seat_slash > 0
    assert drop == taken >= slashed  # in wei; other batches' slashes of the liar add to it
