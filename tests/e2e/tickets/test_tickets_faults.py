"""Gateway faults: a gateway killed with unposted tickets posts them after its restart (each once),
and a gateway that withholds its batches loses them to the attesters, who post the tickets
themselves and are paid from its bond."""

from __future__ import annotations

import time
from typing import Any

import httpx
from ticket_stack import TicketStack

from peerhost.chain.settlement import SettlementView
from peerhost.devnet.accounts import GATEWAY, derive, worker_key

GATEWAY_ADDRESS = derive(GATEWAY).address


def calls(stack: TicketStack, http: httpx.Client, n: int) -> list[str]:
    out = []
    for _ in range(n):
        response = http.get(stack.example("hello"), headers={"x-peerhost-mode": "fast"})
        assert response.status_code == 200, response.text
        out.append(response.headers["x-peerhost-request-id"])
    return out


def seqs_of(stack: TicketStack, rids: list[str]) -> list[int]:
    return [int(stack.status(rid)["ticket"]["seq"]) for rid in rids]


def wait_for(predicate: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout} s")


def test_gateway__killed_with_unposted_tickets__posts_each_once_after_restart(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    tickets_stack.restart_gateway(withhold_batches=True)
    try:
        rids = calls(tickets_stack, http, 4)
        assert all(tickets_stack.status(rid)["state"] == "issued" for rid in rids)
    finally:
        tickets_stack.restart_gateway(crash=True, withhold_batches=False)
    wait_for(lambda: all(tickets_stack.status(rid)["batch"] for rid in rids), 90)
    batches = {tickets_stack.status(rid)["batch"]["id"] for rid in rids}
    seqs = seqs_of(tickets_stack, rids)

    async def posted(view: SettlementView) -> tuple[list[bool], list[int]]:
        flags = [await view.is_seq_posted(GATEWAY_ADDRESS, s) for s in seqs]
        counts = []
        for batch_id in batches:
            counts.append(int((await view.get_batch(batch_id))["leafCount"]))
        return flags, counts

    flags, counts = tickets_stack.view(posted)
    assert all(flags)
    assert all(tickets_stack.status(rid)["state"] == "posted" for rid in rids)
    # each ticket is a leaf of exactly one batch: the leaf indices of one batch are distinct
    placed = {(s["batch"]["id"], s["batch"]["leaf_index"]) for s in map(tickets_stack.status, rids)}
    assert len(placed) == len(rids)
    assert sum(counts) >= len(rids)


def test_gateway__withholds_its_batches__attesters_post_the_tickets_and_are_paid(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    async def bond(view: SettlementView) -> int:
        return await view.bond_of(GATEWAY_ADDRESS)

    bond_before = tickets_stack.view(bond)
    start = tickets_stack.view(lambda view: view.block_number())
    tickets_stack.restart_gateway(withhold_batches=True)
    try:
        rids = calls(tickets_stack, http, 3)
        seqs = seqs_of(tickets_stack, rids)

        # Each attester posts the withheld tickets it attested (two attesters per ticket, not
        # always the same two): the tickets may arrive in more than one orphan batch.
        async def all_posted(view: SettlementView) -> bool:
            return all([await view.is_seq_posted(GATEWAY_ADDRESS, s) for s in seqs])

        wait_for(lambda: tickets_stack.view(all_posted), 60)

        async def orphans(view: SettlementView) -> list[tuple[int, str, int]]:
            return [
                (int(args["batchId"]), str(args["poster"]), int(args["refund"]))
                for _, args in await view.logs("OrphansPosted", start)
            ]

        posted = tickets_stack.view(orphans)
        workers = {worker_key(n).address for n in range(3)}
        assert posted and {poster for _, poster, _ in posted} <= workers

        async def credited(view: SettlementView) -> list[dict[str, Any]]:
            out = []
            for batch_id, _, _ in posted:
                for _, args in await view.logs("Credited", start, batch_id=batch_id):
                    out.append(args)
            return out

        refunds = [c for c in tickets_stack.view(credited) if int(c["reason"]) == 5]
        # every poster is paid its batch's orphan refund, and the gateway's bond paid exactly that
        assert sorted((str(c["account"]), int(c["amount"])) for c in refunds) == sorted(
            (poster, refund) for _, poster, refund in posted
        )
        assert all(refund > 0 for _, _, refund in posted)
        assert bond_before - tickets_stack.view(bond) == sum(r for _, _, r in posted)
    finally:
        tickets_stack.restart_gateway(withhold_batches=False)
