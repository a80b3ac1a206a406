"""Function logs through the real gateway: posted beside a signed output, read back by the owner."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from ape.api import AccountAPI
from ape.contracts import ContractInstance
from gateway_helpers import PROJECT, Background, envelope, next_request_id, wait_requested
from starlette.testclient import TestClient

from peerhost.functionlogs import LOG_HEADER, encode_log, key_signer, sign_access
from peerhost.gateway import GatewaySettings, create_app
from peerhost.wire import result_hash, sign_result


def _post(
    client: TestClient, settings: GatewaySettings, rid: bytes, worker: AccountAPI, log: str | None
) -> Any:
    body = envelope("hi")
    signature = sign_result(
        worker.private_key,
        settings.chain.chain_id,
        settings.chain.coordinator,
        rid,
        result_hash(body),
    )
    headers = {"X-PeerHost-Worker": worker.address, "X-PeerHost-Signature": "0x" + signature.hex()}
    if log is not None:
        headers[LOG_HEADER] = log
    return client.post(f"/_inbox/0x{rid.hex()}", content=body, headers=headers)


@pytest.fixture
def answered(
    settings: GatewaySettings,
    hello: bytes,
    funded_project: int,
    developer: AccountAPI,
    gateway: AccountAPI,
    coordinator: ContractInstance,
    background: Background,
    active_workers: list[AccountAPI],
) -> Iterator[tuple[TestClient, bytes, Future[Any]]]:
    """One fast call answered by a worker whose post carried a two-line log."""
    rid = next_request_id(settings.chain, coordinator, gateway.address)
    with TestClient(create_app(settings)) as client:
        call = background.call(client, "GET", f"/{developer.address}/{PROJECT}/hello")
        wait_requested(coordinator, rid)
        posted = _post(client, settings, rid, active_workers[0], encode_log("line one\nline two"))
        assert posted.status_code == 202, posted.text
        assert call.result(timeout=10).status_code == 200
        yield client, rid, call


def _read(client: TestClient, wallet: str, signer: AccountAPI | None, **params: str) -> Any:
    headers = sign_access(key_signer(signer.private_key), wallet, PROJECT) if signer else {}
    return client.get(f"/_logs/{wallet}/{PROJECT}", params=params, headers=headers)


def test_logs__owner_reads__entry_with_the_workers_log_lines(
    answered: tuple[TestClient, bytes, Future[Any]], developer: AccountAPI
) -> None:
    client, rid, _ = answered
    response = _read(client, developer.address, developer)
    assert response.status_code == 200, response.text
    [entry] = response.json()["entries"]
    assert entry["request_id"] == "0x" + rid.hex()
    assert entry["function"] == "hello" and entry["status"] == 200 and entry["mode"] == "fast"
    assert entry["lines"] == ["line one", "line two"]
    assert _read(client, developer.address, developer, request="0x" + rid.hex()).json()[
        "entries"
    ] == [entry]
    assert _read(client, developer.address, developer, function="other").json()["entries"] == []


def test_logs__signed_by_non_owner__403_and_no_entries(
    answered: tuple[TestClient, bytes, Future[Any]],
    developer: AccountAPI,
    active_workers: list[AccountAPI],
) -> None:
    client, _, _ = answered
    response = _read(client, developer.address, active_workers[1])
    assert response.status_code == 403
    assert "line one" not in response.text and "entries" not in response.json()


def test_logs__unsigned__401(
    answered: tuple[TestClient, bytes, Future[Any]], developer: AccountAPI
) -> None:
    client, _, _ = answered
    assert _read(client, developer.address, None).status_code == 401


def test_logs__malformed_log_header__output_accepted_with_a_note(
    settings: GatewaySettings,
    hello: bytes,
    funded_project: int,
    developer: AccountAPI,
    gateway: AccountAPI,
    coordinator: ContractInstance,
    background: Background,
    active_workers: list[AccountAPI],
) -> None:
    rid = next_request_id(settings.chain, coordinator, gateway.address)
    with TestClient(create_app(settings)) as client:
        call = background.call(client, "GET", f"/{developer.address}/{PROJECT}/hello")
        wait_requested(coordinator, rid)
        assert _post(client, settings, rid, active_workers[0], "%%%").status_code == 202
        assert call.result(timeout=10).status_code == 200
        [entry] = _read(client, developer.address, developer).json()["entries"]
    assert entry["lines"][0].startswith("[the worker sent a log the gateway could not read")
