"""Prometheus metrics on the ticket path: the gateway's and the workers' ``/metrics`` count the
tickets, batches and attestations of real calls (the devnet's default path)."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families
from ticket_stack import TicketStack, wait_for


def scrape(client: httpx.Client, url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a ``/metrics`` page: (name, sorted labels) -> value."""
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


def test_metrics__ticket_calls__gateway_and_workers_count_tickets_batches_and_attestations(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    gateway = f"{tickets_stack.gateway_url}/metrics"
    workers = [f"{w.metrics_url}/metrics" for w in tickets_stack.devnet.workers]
    before = scrape(http, gateway)
    given_before = sum(
        total(scrape(http, w), "peerhost_worker_attestations_given_total") for w in workers
    )
    for mode in ("fast", "attested"):
        response = http.get(tickets_stack.example("hello"), headers={"x-peerhost-mode": mode})
        assert response.status_code == 200, response.text

    after = scrape(http, gateway)
    label = f"{tickets_stack.owner}/{tickets_stack.examples}/hello"
    for mode in ("fast", "attested"):
        key = (
            "peerhost_gateway_requests_total",
            (("function", label), ("mode", mode), ("status", "200")),
        )
        assert after[key] >= before.get(key, 0) + 1, sorted(k for k in after if "requests" in k[0])
    issued = "peerhost_gateway_tickets_issued_total"
    assert after[(issued, ())] >= before[(issued, ())] + 2
    assert ("peerhost_gateway_tickets_in_flight", ()) in after
    # the poster puts the calls' tickets into a batch on the settlement contract
    posted = ("peerhost_gateway_batches_posted_total", ())
    wait_for(lambda: scrape(http, gateway)[posted] >= 1)

    pages = [scrape(http, w) for w in workers]
    given = sum(total(p, "peerhost_worker_attestations_given_total") for p in pages)
    assert given >= given_before + 3  # one for the fast call, two for the attested one
    assert sum(total(p, "peerhost_worker_sandbox_run_seconds_count") for p in pages) >= 3
    assert sum(total(p, "peerhost_worker_fuel_used_total") for p in pages) > 0
    sandbox = sum(
        v
        for (n, labels), v in (i for p in pages for i in p.items())
        if n == "peerhost_worker_time_seconds_total" and labels == (("part", "sandbox"),)
    )
    assert sandbox > 0
    assert all(("peerhost_worker_tickets_refused_total", ()) in p for p in pages)
    # read from the settlement contracts: bonded stake, and the seats' pay once a batch settled
    bonded = ("peerhost_worker_bonded_stake_wei", ())
    wait_for(lambda: all(scrape(http, w).get(bonded, 0) > 0 for w in workers))
    assert all(("peerhost_worker_settlement_slashed_total", ()) in p for p in pages)
    wait_for(
        lambda: (
            sum(
                total(scrape(http, w), "peerhost_worker_settlement_earned_wei_total")
                for w in workers
            )
            > 0
        )
    )
