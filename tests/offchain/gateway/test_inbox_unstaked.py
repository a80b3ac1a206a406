"""A worker the gateway cached as active, that has since lost its stake, has its next answer
refused: the WorkerRegistry event drops it from the cache long before the cache's own TTL."""

from __future__ import annotations

import time
from typing import Any

from ape.api import AccountAPI
from ape.contracts import ContractInstance
from gateway_helpers import (
    PROJECT,
    Background,
    envelope,
    next_request_id,
    post_result,
    wait_requested,
)
from starlette.testclient import TestClient

from peerhost.gateway import GatewaySettings, create_app


def test_inbox__worker_cached_active_then_unbonded__next_answer_403(
    settings: GatewaySettings,
    hello: bytes,
    funded_project: int,
    developer: AccountAPI,
    gateway: AccountAPI,
    coordinator: ContractInstance,
    worker_registry: ContractInstance,
    active_workers: list[AccountAPI],
    background: Background,
) -> None:
    worker = active_workers[0]
    url = f"/{developer.address}/{PROJECT}/hello"
    # an hour of caching: only the registry's event can drop the worker in time
    app = create_app(settings.replace(fast_timeout=3.0, worker_cache_ttl=3600.0))
    with TestClient(app) as client:
        gw: Any = client.app.state.gateway  # type: ignore[attr-defined]
        rid = next_request_id(settings.chain, coordinator, gateway.address)
        first = background.call(client, "GET", url)
        wait_requested(coordinator, rid)
        assert post_result(client, settings.chain, rid, envelope(), worker).status_code == 202
        first.result(timeout=10)

        handled = gw.events.handled
        free = int(worker_registry.freeStake(worker))
        worker_registry.requestUnbonding(free, sender=worker)
        assert not worker_registry.isActive(worker)
        deadline = time.monotonic() + 30
        while gw.events.handled == handled and time.monotonic() < deadline:
            time.sleep(0.05)  # the gateway reads the UnbondingRequested log

        rid = next_request_id(settings.chain, coordinator, gateway.address)
        second = background.call(client, "GET", url)
        wait_requested(coordinator, rid)
        response = post_result(client, settings.chain, rid, envelope(), worker)
        second.result(timeout=10)

    assert response.status_code == 403, response.text
    assert worker.address.lower() in response.text.lower()
