"""Status and health endpoints: on-chain truth, also for requests another replica made."""

from __future__ import annotations

from ape.api import AccountAPI
from ape.contracts import ContractInstance
from gateway_helpers import PROJECT, next_request_id
from starlette.testclient import TestClient

from peerhost.gateway import GatewaySettings, create_app


def test_health__chain_up__200_with_gateway_address(
    settings: GatewaySettings, gateway: AccountAPI
) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/_health")
    assert response.status_code == 200
    body = response.json()
    assert body["gateway"] == gateway.address
    assert body["chain_id"] == settings.chain.chain_id
    assert body["reply_to"] == "http://testserver/_inbox"


def test_status__request_of_a_previous_replica__reported_after_restart(
    settings: GatewaySettings,
    hello: bytes,
    funded_project: int,
    developer: AccountAPI,
    gateway: AccountAPI,
    coordinator: ContractInstance,
) -> None:
    rid = next_request_id(settings.chain, coordinator, gateway.address)
    with TestClient(create_app(settings.replace(fast_timeout=0.2))) as first:
        assert first.get(f"/{developer.address}/{PROJECT}/hello").status_code == 504
    with TestClient(create_app(settings)) as restarted:
        response = restarted.get(f"/_status/requests/0x{rid.hex()}")
    assert response.status_code == 200
    body = response.json()
    assert body["request_id"] == "0x" + rid.hex()
    assert body["status"] == "pending"
    assert body["phase"] == "commit"
    assert body["requester"] == gateway.address
    assert body["functionId"] == "0x" + hello.hex()
    assert body["held_here"] is None


def test_status__unknown_request__404(settings: GatewaySettings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/_status/requests/0x" + "ab" * 32)
    assert response.status_code == 404
    assert response.json()["error"] == "UnknownRequest"


def test_status__malformed_id__400(settings: GatewaySettings) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.get("/_status/requests/42").status_code == 400


def test_app__gateway_paths_and_calls__each_reaches_its_own_route(
    settings: GatewaySettings, developer: AccountAPI
) -> None:
    """Calls are matched first; the gateway's own paths still reach their routes, and a method
    their route does not take still falls through to the call route (a 404, no route)."""
    with TestClient(create_app(settings)) as client:
        assert client.get("/_health").status_code == 200
        assert client.get("/metrics").status_code == 200
        assert client.get("/_status/batches/x").status_code == 400  # its own route's check
        refused = client.post("/_status/batches/1")
        assert refused.status_code == 404 and refused.json()["error"] == "NoRoute"
        missing = client.get(f"/{developer.address}/{PROJECT}/no-such-function")
        assert missing.status_code == 404 and missing.json()["error"] == "FunctionNotFound"
