"""The gateway's record of its workers (attester choice: reputation and latency) survives a
restart of the real gateway process: counts learned from the chain's final results and each
worker's answer latency are read back from the gateway's data directory."""

from __future__ import annotations

from typing import Any

import httpx
from ticket_stack import TicketStack

from peerhost.wire.feed import parse_attestations_header


def workers(stack: TicketStack, http: httpx.Client) -> dict[str, dict[str, Any]]:
    response = http.get(f"{stack.gateway_url}/_status/workers")
    assert response.status_code == 200, response.text
    return {row["worker"]: row for row in response.json()["workers"]}


def test_gateway__restarted__keeps_its_workers_reputation_and_latency(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    response = http.get(tickets_stack.example("hello"), headers={"x-peerhost-mode": "verified"})
    assert response.status_code == 200, response.text
    attesters = [
        w.lower() for w, _ in parse_attestations_header(response.headers["x-peerhost-attestations"])
    ]
    before = workers(tickets_stack, http)
    assert attesters and all(before[w]["good"] >= 1 for w in attesters)  # the chain agreed
    assert all(before[w]["linked"] and before[w]["latency_ms"] > 0 for w in attesters)

    tickets_stack.restart_gateway()

    after = workers(tickets_stack, http)
    for worker, row in before.items():
        assert after[worker]["good"] >= row["good"] and after[worker]["bad"] >= row["bad"]
    for worker in attesters:  # linked again, starting from the latency it had
        assert after[worker]["linked"]
        assert after[worker]["latency_ms"] == before[worker]["latency_ms"]
