"""Function calls through the gateway against the real contracts on anvil."""

from __future__ import annotations

import json
from typing import Any

from ape.api import AccountAPI
from ape.contracts import ContractInstance
from gateway_helpers import (
    DOMAIN,
    FUNCTION,
    PROJECT,
    Background,
    envelope,
    next_request_id,
    post_result,
    wait_requested,
)
from starlette.testclient import TestClient

from peerhost.gateway import GatewaySettings, create_app
from peerhost.wire import result_hash


def _url(developer: AccountAPI, name: str = FUNCTION, rest: str = "") -> str:
    return f"/{developer.address}/{PROJECT}/{name}{rest}"


def test_call__fast__first_signed_output_answers_with_audit_headers(
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
    out = envelope({"hi": "there"}, status=201, headers={"x-fn": "1", "content-length": "999"})
    with TestClient(create_app(settings)) as client:
        pending = background.call(client, "POST", _url(developer, rest="/a?x=1"), content=b"ping")
        wait_requested(coordinator, rid)
        accepted = post_result(client, settings.chain, rid, out, active_workers[0])
        assert accepted.status_code == 202, accepted.text
        response = pending.result(timeout=10)
        late = post_result(client, settings.chain, rid, out, active_workers[1])
    assert late.status_code == 200
    assert late.json()["reason"] == "already answered"
    assert response.status_code == 201
    assert response.json() == {"hi": "there"}
    assert response.headers["x-fn"] == "1"
    assert response.headers["x-peerhost-request-id"] == "0x" + rid.hex()
    assert response.headers["x-peerhost-result-hash"] == "0x" + result_hash(out).hex()
    assert response.headers["x-peerhost-mode"] == "fast"
    assert response.headers["x-peerhost-worker"] == active_workers[0].address
    stored = coordinator.getRequest(rid)
    assert stored.functionId == hello
    assert stored.reward == funded_project  # paid from the project's prepaid balance


def test_call__canonical_input__on_chain_with_allow_listed_headers_only(
    settings: GatewaySettings,
    hello: bytes,
    funded_project: int,
    developer: AccountAPI,
    gateway: AccountAPI,
    coordinator: ContractInstance,
    background: Background,
) -> None:
    rid = next_request_id(settings.chain, coordinator, gateway.address)
    with TestClient(create_app(settings.replace(fast_timeout=0.5))) as client:
        response = client.put(
            f"/{PROJECT}/{FUNCTION}/items/7?b=2&a=1&a=3",
            content=b"\xff\x00",
            headers={
                "Host": f"{developer.address.lower()}.{DOMAIN}",
                "Content-Type": "application/octet-stream",
                "Authorization": "Bearer secret",
                "X-Fn-Trace": "t1",
            },
        )
    assert response.status_code == 504
    logs = list(coordinator.ExecutionRequested.range(0, None, search_topics={"requestId": rid}))
    job = logs[0].job  # the Job tuple: input is field 6, replyTo field 13
    doc = json.loads(bytes(job[6]))
    assert doc["method"] == "PUT"
    assert doc["path"] == "/items/7"
    assert doc["query"] == {"a": ["1", "3"], "b": "2"}
    assert doc["body_encoding"] == "base64"
    assert doc["headers"]["x-fn-trace"] == "t1"
    assert "authorization" not in doc["headers"]
    assert doc["metadata"]["request_id"] == "0x" + rid.hex()
    assert doc["metadata"]["function"] == {
        "wallet": developer.address.lower(),
        "project": PROJECT,
        "name": FUNCTION,
    }
    assert bytes(job[13]) == b"http://testserver/_inbox"


def test_call__no_result__504_with_request_id_and_status_url(
    settings: GatewaySettings,
    hello: bytes,
    funded_project: int,
    developer: AccountAPI,
    gateway: AccountAPI,
    coordinator: ContractInstance,
) -> None:
    rid = next_request_id(settings.chain, coordinator, gateway.address)
    with TestClient(create_app(settings.replace(fast_timeout=0.3))) as client:
        response = client.get(_url(developer))
        assert response.status_code == 504
        body = response.json()
        assert body["request_id"] == "0x" + rid.hex()
        assert body["status_url"] == f"http://testserver/_status/requests/0x{rid.hex()}"
        assert response.headers["x-peerhost-request-id"] == "0x" + rid.hex()
        status = client.get(f"/_status/requests/0x{rid.hex()}")
    assert status.status_code == 200
    assert status.json()["status"] == "pending"


def test_call__unknown_function__404_naming_what_was_looked_up(
    settings: GatewaySettings, developer: AccountAPI
) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get(_url(developer, "nope"))
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "FunctionNotFound"
    assert (body["wallet"], body["project"], body["function"]) == (
        developer.address,
        PROJECT,
        "nope",
    )


def test_call__foreign_host__no_route(settings: GatewaySettings, developer: AccountAPI) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get(
            f"/{PROJECT}/{FUNCTION}", headers={"Host": f"{developer.address}.other.test"}
        )
    assert response.status_code == 404
    assert response.json()["error"] == "NoRoute"


def test_call__disabled_after_cached__410_via_registry_event(
    settings: GatewaySettings,
    hello: bytes,
    funded_project: int,
    registry: ContractInstance,
    developer: AccountAPI,
) -> None:
    with TestClient(create_app(settings.replace(fast_timeout=0.2))) as client:
        assert client.get(_url(developer)).status_code == 504  # resolved and cached
        registry.setDisabled(hello, True, sender=developer)
        gateway_state: Any = client.app.state.gateway  # type: ignore[attr-defined]
        for _ in range(200):  # the log follower drops the cached entry
            if gateway_state.events.handled and not gateway_state.functions._entries:
                break
            __import__("time").sleep(0.01)
        response = client.get(_url(developer))
    assert response.status_code == 410
    assert response.json()["error"] == "FunctionDisabled"


def test_call__body_over_cap__413(settings: GatewaySettings, developer: AccountAPI) -> None:
    with TestClient(create_app(settings.replace(max_body_bytes=10))) as client:
        response = client.post(_url(developer), content=b"x" * 11)
    assert response.status_code == 413


def test_call__headers_over_cap__413(settings: GatewaySettings, developer: AccountAPI) -> None:
    with TestClient(create_app(settings.replace(max_header_bytes=200))) as client:
        response = client.get(_url(developer), headers={"x-big": "y" * 300})
    assert response.status_code == 413


def test_call__input_over_coordinator_cap__413(
    settings: GatewaySettings, hello: bytes, funded_project: int, developer: AccountAPI
) -> None:
    with TestClient(create_app(settings.replace(max_body_bytes=10**6))) as client:
        response = client.post(_url(developer), content=b"x" * 20_000)
    assert response.status_code == 413
    assert "canonical request" in response.json()["message"]


def test_call__input_near_coordinator_cap__lands_on_chain(
    settings: GatewaySettings,
    hello: bytes,
    funded_project: int,
    developer: AccountAPI,
    gateway: AccountAPI,
    coordinator: ContractInstance,
) -> None:
    rid = next_request_id(settings.chain, coordinator, gateway.address)
    changes = {"max_body_bytes": 10**6, "fast_timeout": 0.3}
    with TestClient(create_app(settings.replace(**changes))) as client:
        response = client.post(_url(developer), content=b"a" * 15_800)
    assert response.status_code == 504  # no worker here; the request itself is on-chain
    assert coordinator.getRequest(rid).functionId == hello


def test_call__bad_mode_header__400(
    settings: GatewaySettings, hello: bytes, developer: AccountAPI
) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get(_url(developer), headers={"X-PeerHost-Mode": "eventually"})
    assert response.status_code == 400


def test_call__over_rate_limit__429_with_retry_after(
    settings: GatewaySettings, developer: AccountAPI
) -> None:
    with TestClient(create_app(settings.replace(rate_limit=1.0, rate_burst=2))) as client:
        statuses = [client.get(_url(developer, "nope")).status_code for _ in range(3)]
        last = client.get(_url(developer, "nope"))
    assert statuses[:2] == [404, 404]
    assert last.status_code == 429
    assert int(last.headers["retry-after"]) >= 1


def test_call__project_not_authorized_and_no_reward__503_says_what_to_do(
    settings: GatewaySettings, hello: bytes, developer: AccountAPI
) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get(_url(developer))
    assert response.status_code == 503
    assert "setGatewayAuthorization" in response.json()["message"]


def test_call__gateway_reward__pays_with_the_call(
    settings: GatewaySettings,
    hello: bytes,
    developer: AccountAPI,
    gateway: AccountAPI,
    coordinator: ContractInstance,
    deploy_params: Any,
) -> None:
    rid = next_request_id(settings.chain, coordinator, gateway.address)
    reward = 3 * deploy_params.min_reward
    with TestClient(create_app(settings.replace(reward_wei=reward, fast_timeout=0.2))) as client:
        assert client.get(_url(developer)).status_code == 504
    assert coordinator.getRequest(rid).reward == reward


def test_call__chain_unreachable__503(settings: GatewaySettings, developer: AccountAPI) -> None:
    dead = settings.chain.__class__(
        **{**settings.chain.__dict__, "rpc_url": "http://127.0.0.1:9", "ws_url": "ws://127.0.0.1:9"}
    )
    with TestClient(create_app(settings.replace(chain=dead))) as client:
        call = client.get(_url(developer))
        health = client.get("/_health")
    assert call.status_code == 503
    assert "retry" in call.json()["message"]
    assert health.status_code == 503


def test_call__node_refuses_the_transaction__503_and_next_call_still_served(
    settings: GatewaySettings,
    hello: bytes,
    developer: AccountAPI,
    coordinator: ContractInstance,
    deploy_params: Any,
) -> None:
    from eth_account import Account

    broke = Account.create()  # no ETH: cannot attach a reward
    changes = {
        "private_key": broke.key.hex(),
        "reward_wei": deploy_params.min_reward,
        "fast_timeout": 0.2,
    }
    with TestClient(create_app(settings.replace(**changes))) as client:
        first = client.get(_url(developer))
        second = client.get(_url(developer))
    assert first.status_code == 503
    assert first.json()["error"] == "RpcError"
    assert second.status_code == 503
    assert coordinator.requestSequence(broke.address) == 0
