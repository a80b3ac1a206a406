"""The status page against the real contracts on anvil: public view, owner view behind a signed
link, and the registry transactions it prepares for the owner's wallet."""

from __future__ import annotations

import time

import pytest
from ape import networks
from ape.api import AccountAPI
from ape.contracts import ContractInstance
from gateway_helpers import (
    FUNCTION,
    PROJECT,
    Background,
    envelope,
    next_request_id,
    wait_requested,
)
from starlette.testclient import TestClient

from peerhost.functionlogs import LOG_HEADER, encode_log
from peerhost.functionlogs.access import AccessDenied, key_signer
from peerhost.gateway import GatewaySettings, create_app
from peerhost.gateway.dashboard.access import owner_link, verify_link
from peerhost.wire import result_hash, sign_result


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_dashboard__public__lists_registered_workers_and_latency(
    settings: GatewaySettings, active_workers: list[AccountAPI]
) -> None:
    with TestClient(create_app(settings)) as client:
        page = client.get("/_dashboard")
        data = client.get("/_dashboard/data").json()
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for worker in active_workers:
        assert worker.address in page.text
    listed = {w["address"] for w in data["workers"]}
    assert {w.address for w in active_workers} <= listed
    assert all(w["stake"] > 0 for w in data["workers"])
    assert data["block"] > 0 and page.text.count("<svg") == 1


def test_dashboard__owner_link__shows_functions_requests_logs_and_balance(
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
    link = owner_link("http://testserver", developer.address, key_signer(developer.private_key))
    with TestClient(create_app(settings)) as client:
        pending = background.call(client, "GET", f"/{developer.address}/{PROJECT}/{FUNCTION}")
        wait_requested(coordinator, rid)
        body, worker = envelope({"ok": 1}), active_workers[0]
        signature = sign_result(
            worker.private_key,
            settings.chain.chain_id,
            settings.chain.coordinator,
            rid,
            result_hash(body),
        )
        posted = client.post(
            f"/_inbox/0x{rid.hex()}",
            content=body,
            headers={
                "X-PeerHost-Worker": worker.address,
                "X-PeerHost-Signature": "0x" + signature.hex(),
                LOG_HEADER: encode_log("hello from the function"),
            },
        )
        assert posted.status_code == 202, posted.text
        assert pending.result(timeout=10).status_code == 200
        page = client.get(_path(link))
        data = client.get(_path(link).replace("?", "/data?")).json()
    assert page.status_code == 200, page.text
    assert f"Project {PROJECT}" in page.text and FUNCTION in page.text
    assert "0x" + rid.hex()[:6] in page.text
    assert "hello from the function" in page.text
    (project,) = data["projects"]
    assert project["price"] == funded_project
    assert project["spent"] == funded_project  # one request's escrow
    assert project["balance"] == 10**18 - funded_project
    (request,) = data["requests"]
    assert request["request_id"] == "0x" + rid.hex() and request["mode"] == "fast"


def test_dashboard__owner_view__without_or_with_a_foreign_signature__refused(
    settings: GatewaySettings, hello: bytes, developer: AccountAPI, stranger: AccountAPI
) -> None:
    forged = owner_link("http://testserver", developer.address, key_signer(stranger.private_key))
    with TestClient(create_app(settings)) as client:
        bare = client.get(f"/_dashboard/owner/{developer.address}")
        foreign = client.get(_path(forged))
        foreign_data = client.get(_path(forged).replace("?", "/data?"))
    assert bare.status_code == 403 and "signed link" in bare.text
    assert foreign.status_code == 403 and stranger.address in foreign.text
    assert foreign_data.status_code == 403
    with pytest.raises(AccessDenied, match="expired"):
        verify_link(developer.address, str(int(time.time()) - 1), "0x" + "00" * 65)


def test_dashboard__prepare_disable__transaction_signed_by_owner_disables_the_function(
    settings: GatewaySettings,
    hello: bytes,
    developer: AccountAPI,
    registry: ContractInstance,
) -> None:
    link = _path(
        owner_link("http://testserver", developer.address, key_signer(developer.private_key))
    )
    prepare = link.replace("?", "/prepare?")
    fid = "0x" + hello.hex()
    with TestClient(create_app(settings)) as client:
        unknown = client.post(
            prepare, json={"action": "rollback", "function_id": fid, "version": 9}
        )
        prepared = client.post(prepare, json={"action": "disable", "function_id": fid})
    assert unknown.status_code == 400 and "[1]" in unknown.text
    assert prepared.status_code == 200, prepared.text
    tx = prepared.json()["transaction"]
    assert tx["to"] == registry.address and tx["from"] == developer.address
    assert not registry.getFunction(hello).disabled
    txn = networks.provider.network.ecosystem.create_transaction(
        receiver=tx["to"], data=bytes.fromhex(tx["data"][2:]), sender=developer.address
    )
    developer.call(txn)
    assert registry.getFunction(hello).disabled
