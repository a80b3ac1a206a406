"""HTTP edges that are never a paid run: CORS preflights (from the owner's policy) and HEAD."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from ape.api import AccountAPI
from ape.contracts import ContractInstance
from gateway_helpers import PROJECT
from starlette.testclient import TestClient

from peerhost.functionlogs import key_signer, sign_access
from peerhost.functionlogs.access import SET_HTTP
from peerhost.gateway import GatewaySettings, create_app

APP = "https://app.example"
POLICY = {"cors": {"origins": [APP], "methods": ["GET", "POST"], "headers": ["content-type"]}}


@pytest.fixture
def client(settings: GatewaySettings, hello: bytes) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def _put(client: TestClient, wallet: str, signer: AccountAPI, doc: object) -> Any:
    body = json.dumps(doc).encode()
    headers = sign_access(
        key_signer(signer.private_key), wallet, PROJECT, action=SET_HTTP, content=body
    )
    return client.put(f"/_projects/{wallet}/{PROJECT}/http", content=body, headers=headers)


def _preflight(
    client: TestClient, wallet: str, origin: str, method: str = "POST", **extra: str
) -> Any:
    headers = {"Origin": origin, "Access-Control-Request-Method": method, **extra}
    return client.options(f"/{wallet}/{PROJECT}/hello", headers=headers)


def test_preflight__allowed_origin__204_with_policy_and_nothing_submitted(
    client: TestClient, developer: AccountAPI, gateway: AccountAPI, coordinator: ContractInstance
) -> None:
    before = coordinator.requestSequence(gateway.address)
    assert _put(client, developer.address, developer, POLICY).status_code == 200
    response = _preflight(
        client, developer.address, APP, **{"Access-Control-Request-Headers": "Content-Type"}
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == APP
    assert response.headers["access-control-allow-methods"] == "GET, POST"
    assert response.headers["access-control-max-age"] == "600"
    assert coordinator.requestSequence(gateway.address) == before


@pytest.mark.parametrize(
    ("origin", "method", "extra", "rule"),
    [
        ("https://evil.example", "POST", {}, "origin"),
        (APP, "DELETE", {}, "method DELETE"),
        (APP, "POST", {"Access-Control-Request-Headers": "x-api-key"}, "x-api-key"),
    ],
)
def test_preflight__outside_policy__403_problem_naming_the_rule(
    client: TestClient,
    developer: AccountAPI,
    origin: str,
    method: str,
    extra: dict[str, str],
    rule: str,
) -> None:
    assert _put(client, developer.address, developer, POLICY).status_code == 200
    response = _preflight(client, developer.address, origin, method, **extra)
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["content-type"] == "application/problem+json"
    assert rule in response.json()["detail"]


def test_preflight__project_without_policy__403(client: TestClient, developer: AccountAPI) -> None:
    response = _preflight(client, developer.address, APP)
    assert response.status_code == 403
    assert "no CORS policy" in response.json()["detail"]


def test_options__not_a_preflight__204_with_allow(
    client: TestClient, developer: AccountAPI
) -> None:
    response = client.options(f"/{developer.address}/{PROJECT}/hello")
    assert response.status_code == 204
    assert "OPTIONS" in response.headers["allow"] and "HEAD" not in response.headers["allow"]


def test_http_settings__put_by_non_owner__403_and_policy_unchanged(
    client: TestClient, developer: AccountAPI, active_workers: list[AccountAPI]
) -> None:
    response = _put(client, developer.address, active_workers[0], POLICY)
    assert response.status_code == 403
    assert _preflight(client, developer.address, APP).status_code == 403


def test_http_settings__invalid_policy__400_naming_the_key(
    client: TestClient, developer: AccountAPI
) -> None:
    response = _put(client, developer.address, developer, {"cors": {"origins": ["not an origin"]}})
    assert response.status_code == 400
    assert "not an origin" in response.json()["detail"]


def test_head__function_url__405_and_nothing_submitted(
    client: TestClient, developer: AccountAPI, gateway: AccountAPI, coordinator: ContractInstance
) -> None:
    before = coordinator.requestSequence(gateway.address)
    response = client.head(f"/{developer.address}/{PROJECT}/hello")
    assert response.status_code == 405
    assert "HEAD" not in response.headers["allow"]
    assert coordinator.requestSequence(gateway.address) == before


def test_problem__any_gateway_error__rfc9457_members_and_old_fields(
    client: TestClient, developer: AccountAPI
) -> None:
    response = client.get(f"/{developer.address}/{PROJECT}/no-such-function")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    doc = response.json()
    assert doc["type"] == "urn:peerhost:problem:function-not-found"
    assert doc["title"] == "Function not found" and doc["status"] == 404
    assert doc["detail"] == doc["message"] and doc["error"] == "FunctionNotFound"
    assert doc["function"] == "no-such-function"
