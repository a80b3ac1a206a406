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
from ticket_stack import TicketStack, wait_for

from peerhost.chain.courts import CourtsView
from peerhost.chain.settlement import SettlementView
from peerhost.deploy import ETHER
from peerhost.devnet.accounts import worker_key
from peerhost.wire.feed import parse_attestations_header

LIAR = 3  # worker index: the three honest workers are 0..2


pytestmark = pytest.mark.usefixtures("automine")


@pytest.fixture(scope="module")
def liar(tickets_stack: TicketStack) -> Iterator[str]:
    devnet = tickets_stack.devnet
    # 4 ETH beside three honest 2 ETH stakes: 40 % of the stake, so a batch's three seats go to
    # the liar in a minority (one seat) or a majority (two or three) often enough to see both
    proc = devnet.launch_worker(LIAR, program=lying_attester.PROGRAM, stake=4 * ETHER)
    address = worker_key(LIAR).address
    settlement = devnet.settlement
    assert settlement is not None
    try:
        with tickets_stack.ape():
            # The examples project has a secret (the webhook example's), sealed to the workers
            # active when it was set: the owner reseals it so the joining worker can run the
            # project's functions at all, as an owner does when a worker joins.
            devnet.set_example_secrets(tickets_stack.developer)
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
    # a batch the liar captured answers its forgery at tier 1 (the captured-committee test
    # below shows the challenge that overturns it): take a call whose committee it did not hold
    response, status = settled_call(tickets_stack, http, liar, "attested", captured=False)
    assert response.text == "Hello from PeerHost!"
    assert response.headers["x-peerhost-mode"] == "verified"
    attesters = {
        w for w, _ in parse_attestations_header(response.headers["x-peerhost-attestations"])
    }
    assert liar not in attesters and attesters
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

    slashes = wait_for(lambda: tickets_stack.view(punished), 150)
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


HONEST = {worker_key(n).address for n in range(3)}


def verified_batch(
    stack: TicketStack, http: httpx.Client, liar: str, captured: bool
) -> tuple[httpx.Response, dict[str, Any]]:
    """A verified call whose batch the liar captured (two or more seats), or did not."""
    return settled_call(stack, http, liar, "verified", captured)


def settled_call(
    stack: TicketStack, http: httpx.Client, liar: str, mode: str, captured: bool, tries: int = 15
) -> tuple[httpx.Response, dict[str, Any]]:
    """A call answered from its batch's settlement (verified, or attested on a disagreement)
    whose committee the liar captured (two or more seats), or did not."""
    for _ in range(tries):
        response = http.get(stack.example("hello"), headers={"x-peerhost-mode": mode})
        assert response.status_code == 200, response.text
        status = stack.status(response.headers["x-peerhost-request-id"])

        async def seats(view: SettlementView, batch_id: int = status["batch"]["id"]) -> int:
            holders, counts = await view.holders_of(batch_id)
            return dict(zip(holders, counts, strict=True)).get(liar, 0)

        if (stack.view(seats) >= 2) == captured:
            return response, status
    raise AssertionError(f"no {'captured' if captured else 'honest'} batch in {tries} calls")


async def slashes_between(
    view: SettlementView, workers: set[str], start: int, end: int
) -> dict[str, int]:
    """Wei the stake registry took from each of ``workers`` in blocks (start, end]."""
    out = {}
    for worker in workers:
        logs = await view.logs("StakeSlashed", start + 1, end, contract="stakes", account=worker)
        out[worker] = sum(int(args["amount"]) for _, args in logs)
    return out


async def held_stake(view: SettlementView, worker: str, block: int) -> int:
    staker = await view.staker(worker, block)
    return int(staker["stake"]) + int(staker["unbonding"])


def test_liar__attestation_contradicts_the_settled_result__presented_slashed_and_paid_out(
    tickets_stack: TicketStack, http: httpx.Client, liar: str
) -> None:
    start = tickets_stack.view(lambda view: view.block_number())
    _, status = verified_batch(tickets_stack, http, liar, captured=False)
    batch_id, index = status["batch"]["id"], status["batch"]["leaf_index"]
    reward = int(status["ticket"]["reward"])
    assert liar in {a["worker"] for a in status["attestations"]}
    # Every earlier batch of the module slashed the liar (each attestation presented, its wrong
    # seats): enough of them drain its stake to nothing, and nothing cannot be slashed
    # (NothingToSlash). It adds stake before this leaf's challenge window ends, as a worker may.
    added = 4 * ETHER
    with tickets_stack.ape():
        settlement = tickets_stack.devnet.settlement
        assert settlement is not None
        settlement.stakes.addStake(sender=liar, value=added)

    # after the leaf's challenge window a seat of the batch presents the liar's attestation
    async def presented(view: SettlementView) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        courts = await CourtsView.load(view)
        return [
            (raw, args)
            for raw, args in await courts.logs("evidence", "AttestationSlashed", start, batch_id)
            if args["worker"] == liar and int(args["index"]) == index
        ]

    [(raw, slashed)] = wait_for(lambda: tickets_stack.view(presented), 150)
    block = int(raw["blockNumber"], 16)
    tx = raw["transactionHash"]

    async def outcome(view: SettlementView) -> dict[str, Any]:
        courts = await CourtsView.load(view)
        end = await view.block_number()

        def in_tx(logs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[dict[str, Any]]:
            return [a for r, a in logs if r["transactionHash"] == tx]

        return {
            "params": await courts.params(),
            "holders": (await view.holders_of(batch_id))[0],
            "stake_before_slash": await held_stake(view, liar, block - 1),
            "drop": await held_stake(view, liar, start) - await held_stake(view, liar, end),
            "taken": (await slashes_between(view, {liar}, start, end))[liar],
            "split": in_tx(await courts.logs("evidence", "EvidenceSplit", block)),
            "credits": in_tx(await courts.logs("evidence", "Credited", block)),
            "refunds": in_tx(await view.logs("Refunded", block, contract="gateways")),
        }

    found = tickets_stack.view(outcome)
    params = found["params"]
    presenter = str(slashed["presenter"])
    assert presenter in HONEST and presenter in found["holders"]
    amount = int(slashed["amount"])
    assert amount == found["stake_before_slash"] * int(params["attestationSlashBps"]) // 10_000
    [split] = found["split"]
    # the presenter's bounty, the project's refund and the burn add up to the slash, in wei
    assert int(split["toPresenter"]) == amount * int(params["presenterBps"]) // 10_000 > 0
    assert int(split["toProject"]) == reward
    assert int(split["toPresenter"]) + int(split["toProject"]) + int(split["burned"]) == amount
    assert [(c["account"], int(c["amount"]), int(c["reason"])) for c in found["credits"]] == [
        (presenter, int(split["toPresenter"]), 0)
    ]
    assert [int(r["amount"]) for r in found["refunds"]] == [reward]
    # the liar's stake dropped by exactly what the stake registry took (this slash included),
    # less what it added
    assert found["drop"] + added == found["taken"] >= amount


def test_captured_committee__forgery_finalized__an_honest_attester_challenges_and_wins(
    tickets_stack: TicketStack, http: httpx.Client, liar: str
) -> None:
    start = tickets_stack.view(lambda view: view.block_number())
    response, status = verified_batch(tickets_stack, http, liar, captured=True)
    assert response.text != "Hello from PeerHost!"  # tier 1 finalized the forgery
    batch_id, index = status["batch"]["id"], status["batch"]["leaf_index"]
    honest_result = {
        a["result_hash"] for a in status["attestations"] if a["worker"] in HONEST
    }.pop()

    async def closed(view: SettlementView) -> list[dict[str, Any]]:
        courts = await CourtsView.load(view)
        logs = await courts.logs("dispute", "CaseClosed", start, batch_id)
        return [args for _, args in logs if int(args["index"]) == index]

    [case] = wait_for(lambda: tickets_stack.view(closed), 150)
    assert "0x" + bytes(case["value"]).hex() == honest_result  # the next tier overturned it

    async def outcome(view: SettlementView) -> dict[str, Any]:
        courts = await CourtsView.load(view)
        end = await view.block_number()

        def mine(logs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[dict[str, Any]]:
            return [a for _, a in logs if int(a["index"]) == index]

        return {
            "escalated": mine(await courts.logs("dispute", "Escalated", start, batch_id)),
            "slashed": mine(await courts.logs("dispute", "VoterSlashed", start, batch_id)),
            "bonds": mine(await courts.logs("dispute", "BondSettled", start, batch_id)),
            "credits": mine(await courts.logs("dispute", "Credited", start, batch_id)),
            "taken": await slashes_between(view, HONEST | {liar}, start, end),
            "drop": await held_stake(view, liar, start) - await held_stake(view, liar, end),
            "attestations": await courts.logs("evidence", "AttestationSlashed", start),
        }

    found = tickets_stack.view(outcome)
    first = found["escalated"][0]
    challenger = str(first["challenger"])
    assert int(first["tier"]) == 2 and challenger in HONEST
    # the adversary's seats lost stake; no honest worker lost anything
    assert found["slashed"] and {str(s["worker"]) for s in found["slashed"]} == {liar}
    assert all(found["taken"][w] == 0 for w in HONEST)
    assert not [a for _, a in found["attestations"] if a["worker"] in HONEST]
    assert found["drop"] == found["taken"][liar] >= sum(int(s["amount"]) for s in found["slashed"])
    # every honest challenger got its bond back, and the first one a winner's share besides
    assert found["bonds"] and all(not b["forfeited"] for b in found["bonds"])
    reasons = {(str(c["account"]), int(c["reason"])) for c in found["credits"]}
    assert {(challenger, 1), (challenger, 0)} <= reasons
