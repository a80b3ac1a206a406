"""The example functions answered from tickets and attestations, without a transaction."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from ticket_stack import TicketStack

from peerhost.chain.settlement import SettlementView
from peerhost.stagetrace import TRACE_HEADER, parse_header
from peerhost.wire.feed import parse_attestations_header


def check_answer(response: httpx.Response, mode: str, count: int) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["x-peerhost-mode"] == mode
    rid = response.headers["x-peerhost-request-id"]
    assert rid.startswith("0x") and len(rid) == 66
    assert response.headers["x-peerhost-status-url"].endswith(f"/_status/requests/{rid}")
    pairs = parse_attestations_header(response.headers["x-peerhost-attestations"])
    assert len(pairs) == count
    assert len({worker for worker, _ in pairs}) == count


@pytest.mark.parametrize(("mode", "count"), [("fast", 1), ("attested", 2)])
def test_hello__ticket_mode__answers_with_attestations(
    tickets_stack: TicketStack, http: httpx.Client, mode: str, count: int
) -> None:
    response = http.get(tickets_stack.example("hello"), headers={"x-peerhost-mode": mode})
    check_answer(response, mode, count)
    assert response.text == "Hello from PeerHost!"
    # the ticket names the secrets as of a recent block: every run of it opens the same bundle
    ticket = tickets_stack.status(response.headers["x-peerhost-request-id"])["ticket"]
    head = tickets_stack.view(lambda view: view.block_number())
    assert 0 < int(ticket["secretsVersion"]) <= head


def test_hello__fast_answered_first__the_other_attesters_answer_is_recorded_too(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    """A fast call answers with the first attestation; the second attester ran the ticket too,
    and its attestation (which the batch's opening pays) is recorded after the answer."""
    rids = []
    for _ in range(5):
        response = http.get(tickets_stack.example("hello"), headers={"x-peerhost-mode": "fast"})
        check_answer(response, "fast", 1)
        rids.append(response.headers["x-peerhost-request-id"])
    deadline = time.monotonic() + 30
    while True:
        recorded = [len(tickets_stack.status(rid)["attestations"]) for rid in rids]
        if recorded == [2] * len(rids) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert recorded == [2] * len(rids)
    for rid in rids:
        attestations = tickets_stack.status(rid)["attestations"]
        assert len({a["worker"] for a in attestations}) == 2
        assert len({a["result_hash"] for a in attestations}) == 1


def test_hello__verified__answers_the_result_the_committee_finalized(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    response = http.get(tickets_stack.example("hello"), headers={"x-peerhost-mode": "verified"})
    assert response.status_code == 200, response.text
    assert response.headers["x-peerhost-mode"] == "verified"
    assert response.text == "Hello from PeerHost!"
    status = tickets_stack.status(response.headers["x-peerhost-request-id"])
    assert status["settlement"]["leaf_state"] == "final"
    assert status["batch"]["phase"] in ("finalized", "closed")
    hashes = {a["result_hash"] for a in status["attestations"]}
    assert hashes == {response.headers["x-peerhost-result-hash"]}


def test_batch_status__posted_batch__lists_its_tickets_with_their_attestations(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    response = http.get(tickets_stack.example("hello"), headers={"x-peerhost-mode": "verified"})
    assert response.status_code == 200, response.text
    status = tickets_stack.status(response.headers["x-peerhost-request-id"])
    batch = http.get(f"{tickets_stack.gateway_url}/_status/batches/{status['batch']['id']}")
    assert batch.status_code == 200, batch.text
    [entry] = [t for t in batch.json()["tickets"] if t["ticket"] == status["ticket"]]
    assert entry["leaf_index"] == status["batch"]["leaf_index"]
    assert entry["attestations"] == status["attestations"]
    bad = http.get(f"{tickets_stack.gateway_url}/_status/batches/seven")
    assert bad.status_code == 400 and "decimal" in bad.text


def test_hello__verified_batch_opened__attesters_paid_for_their_signatures(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    """The gateway opens the settled batch with each attester's signature; the contract recovers them
    and credits exactly the attesters (reason 2) of the result that stood."""
    response = http.get(tickets_stack.example("hello"), headers={"x-peerhost-mode": "verified"})
    assert response.status_code == 200, response.text
    rid = response.headers["x-peerhost-request-id"]
    deadline = time.monotonic() + 60
    status = tickets_stack.status(rid)
    while status["batch"]["phase"] != "closed":
        assert time.monotonic() < deadline, f"batch never opened: {status['batch']}"
        time.sleep(0.5)
        status = tickets_stack.status(rid)
    batch_id = int(status["batch"]["id"])
    attesters = {a["worker"].lower() for a in status["attestations"]}

    async def opened(view: SettlementView) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        credits = [args for _, args in await view.logs("Credited", 0, batch_id=batch_id)]
        opens = [args for _, args in await view.logs("ResultsOpened", 0, batch_id=batch_id)]
        return credits, opens

    credits, opens = tickets_stack.view(opened)
    assert len(opens) == 1 and int(opens[0]["paid"]) > 0  # opened, not closed after the window
    paid = {str(c["account"]).lower() for c in credits if int(c["reason"]) == 2}
    assert attesters and attesters <= paid  # every worker that signed the final result


def test_hello__gateway_traces_stages__answer_carries_them_in_call_order(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    """Off by default; on, the answer's trace shows the ticket written before it was pushed."""
    url, fast = tickets_stack.example("hello"), {"x-peerhost-mode": "fast"}
    assert TRACE_HEADER not in http.get(url, headers=fast).headers
    tickets_stack.restart_gateway(trace_stages=True)
    try:
        response = http.get(url, headers=fast)
        assert response.status_code == 200, response.text
        marks = parse_header(response.headers[TRACE_HEADER])
    finally:
        tickets_stack.restart_gateway(trace_stages=False)
    order = ["entry", "issue", "allocated", "signed", "persisted", "pushed1"]
    order += ["frame1", "decoded1", "verified1", "woke", "built", "finished"]
    assert set(order) <= set(marks), marks
    times = [marks[stage] for stage in order]
    assert times == sorted(times), marks
