"""``GET /metrics``: the gateway's Prometheus text, counted from real calls on anvil."""

from __future__ import annotations

import asyncio
import time

from ape.api import AccountAPI
from ape.contracts import ContractInstance
from gateway_helpers import (
    FUNCTION,
    PROJECT,
    Background,
    envelope,
    next_request_id,
    post_result,
    wait_requested,
)
from httpx import Response
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from peerhost.gateway import GatewaySettings, create_app
from peerhost.gateway.metrics import LAG_INTERVAL, LoopLag

_Values = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _values(text: str) -> _Values:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _scrape_settled(client: TestClient, timeout: float = 10.0) -> tuple[Response, _Values]:
    """Scrapes until the request's transaction left the in-flight gauge.

    The answer can reach the caller before the gateway's receipt poll has seen the request's
    transaction mined, so the gauge drops to 0 shortly after the call returns.
    """
    deadline = time.monotonic() + timeout
    while True:
        scraped = client.get("/metrics")
        values = _values(scraped.text)
        if values.get(("peerhost_gateway_requests_in_flight", ())) == 0:
            return scraped, values
        if time.monotonic() > deadline:
            return scraped, values
        time.sleep(0.05)


def test_metrics__answered_and_refused_calls__counted_by_function_mode_status(
    settings: GatewaySettings,
    hello: bytes,
    funded_project: int,
    active_workers: list[AccountAPI],
    developer: AccountAPI,
    gateway: AccountAPI,
    coordinator: ContractInstance,
    background: Background,
) -> None:
    rid = next_request_id(settings.chain, coordinator, gateway.address)
    label = f"{developer.address}/{PROJECT}/{FUNCTION}"
    with TestClient(create_app(settings)) as client:
        pending = background.call(client, "POST", f"/{developer.address}/{PROJECT}/{FUNCTION}")
        wait_requested(coordinator, rid)
        accepted = post_result(client, settings.chain, rid, envelope({"ok": 1}), active_workers[0])
        assert accepted.status_code == 202, accepted.text
        assert pending.result(timeout=10).status_code == 200
        missing = client.get(f"/{developer.address}/{PROJECT}/no-such-function")
        assert missing.status_code == 404
        scraped, values = _scrape_settled(client)
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    ok = (("function", label), ("mode", "fast"), ("status", "200"))
    refused = (("function", "-"), ("mode", "-"), ("status", "404"))
    assert values[("peerhost_gateway_requests_total", ok)] == 1
    assert values[("peerhost_gateway_requests_total", refused)] == 1
    assert values[("peerhost_gateway_request_duration_seconds_count", (("mode", "fast"),))] == 1
    assert values[("peerhost_gateway_transactions_sent_total", ())] >= 1
    assert values[("peerhost_gateway_batches_sent_total", ())] >= 1
    assert values[("peerhost_gateway_requests_in_flight", ())] == 0
    assert ("peerhost_gateway_rpc_errors_total", ()) in values
    # the chain calls by method: the start-up's chain id read, the call's transaction sent
    assert values[("peerhost_gateway_rpc_calls_total", (("method", "eth_chainId"),))] >= 1
    assert (
        values[("peerhost_gateway_rpc_calls_total", (("method", "eth_sendRawTransaction"),))] >= 1
    )


def test_metrics__two_gateways_in_one_process__count_apart(settings: GatewaySettings) -> None:
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        assert one.get("/nowhere").status_code == 404
        first, second = _values(one.get("/metrics").text), _values(two.get("/metrics").text)
    refused = (("function", "-"), ("mode", "-"), ("status", "404"))
    assert first[("peerhost_gateway_requests_total", refused)] == 1
    assert ("peerhost_gateway_requests_total", refused) not in second


def test_loop_lag__loop_blocked__counted_late() -> None:
    async def blocked() -> LoopLag:
        lag = LoopLag()
        task = asyncio.create_task(lag.run())
        await asyncio.sleep(LAG_INTERVAL / 2)
        time.sleep(0.1)  # a handler that holds the loop
        await asyncio.sleep(LAG_INTERVAL * 2)
        task.cancel()
        return lag

    lag = asyncio.run(blocked())
    assert lag.late >= 1
    assert lag.worst >= 0.1 - LAG_INTERVAL
    assert lag.total >= lag.worst
