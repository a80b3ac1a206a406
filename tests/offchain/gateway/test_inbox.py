"""The result inbox and the two response modes, with outputs signed by registered workers' keys."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
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
from peerhost.wire import ErrorKind, commitment, failure, result_hash


@pytest.fixture
def waiting(
    settings: GatewaySettings,
    hello: bytes,
    funded_project: int,
    developer: AccountAPI,
    gateway: AccountAPI,
    coordinator: ContractInstance,
    background: Background,
) -> Iterator[tuple[TestClient, bytes, Future[Any]]]:
    """A gateway with one fast call in flight (answered or timed out at teardown)."""
    rid = next_request_id(settings.chain, coordinator, gateway.address)
    with TestClient(create_app(settings.replace(fast_timeout=2.0))) as client:
        call = background.call(client, "GET", f"/{developer.address}/{PROJECT}/hello")
        wait_requested(coordinator, rid)
        yield client, rid, call
        call.result(timeout=10)  # let the call end before the app stops


def test_inbox__valid_post__202(
    waiting: tuple[TestClient, bytes, Future[Any]],
    settings: GatewaySettings,
    active_workers: list[AccountAPI],
) -> None:
    client, rid, _ = waiting
    response = post_result(client, settings.chain, rid, envelope(), active_workers[0])
    assert response.status_code == 202
    assert response.json()["result_hash"] == "0x" + result_hash(envelope()).hex()


def test_inbox__signed_by_someone_else__401(
    waiting: tuple[TestClient, bytes, Future[Any]],
    settings: GatewaySettings,
    active_workers: list[AccountAPI],
) -> None:
    client, rid, _ = waiting
    response = post_result(
        client, settings.chain, rid, envelope(), active_workers[0], signer=active_workers[1]
    )
    assert response.status_code == 401


def test_inbox__body_differs_from_signed_hash__401(
    waiting: tuple[TestClient, bytes, Future[Any]],
    settings: GatewaySettings,
    active_workers: list[AccountAPI],
) -> None:
    client, rid, _ = waiting
    response = post_result(
        client,
        settings.chain,
        rid,
        envelope("tampered"),
        active_workers[0],
        signed_body=envelope("original"),
    )
    assert response.status_code == 401


def test_inbox__signer_not_a_worker__403(
    waiting: tuple[TestClient, bytes, Future[Any]], settings: GatewaySettings, stranger: AccountAPI
) -> None:
    client, rid, _ = waiting
    response = post_result(client, settings.chain, rid, envelope(), stranger)
    assert response.status_code == 403


def test_inbox__same_worker_twice__409(
    settings: GatewaySettings,
    hello_verified: bytes,
    funded_project: int,
    developer: AccountAPI,
    gateway: AccountAPI,
    coordinator: ContractInstance,
    active_workers: list[AccountAPI],
    background: Background,
) -> None:
    rid = next_request_id(settings.chain, coordinator, gateway.address)
    with TestClient(create_app(settings.replace(verified_timeout=1.0))) as client:
        call = background.call(client, "GET", f"/{developer.address}/{PROJECT}/hello-verified")
        wait_requested(coordinator, rid)
        first = post_result(client, settings.chain, rid, envelope("a"), active_workers[0])
        again = post_result(client, settings.chain, rid, envelope("b"), active_workers[0])
        # the call ends before the app stops (a call still in flight at the TestClient's exit
        # can hang it for good); never finalized, it times out
        assert call.result(timeout=10).status_code == 504
    assert first.status_code == 202
    assert again.status_code == 409


def test_inbox__unknown_request__404(
    settings: GatewaySettings, active_workers: list[AccountAPI]
) -> None:
    with TestClient(create_app(settings)) as client:
        response = post_result(client, settings.chain, b"\x07" * 32, envelope(), active_workers[0])
    assert response.status_code == 404


def test_inbox__oversize__413(
    waiting: tuple[TestClient, bytes, Future[Any]],
    settings: GatewaySettings,
    active_workers: list[AccountAPI],
) -> None:
    client, rid, _ = waiting
    big = envelope("x" * 2_000_000)
    response = post_result(client, settings.chain, rid, big, active_workers[0])
    assert response.status_code == 413


def test_inbox__not_an_envelope__400(
    waiting: tuple[TestClient, bytes, Future[Any]],
    settings: GatewaySettings,
    active_workers: list[AccountAPI],
) -> None:
    client, rid, _ = waiting
    response = post_result(client, settings.chain, rid, b"not json", active_workers[0])
    assert response.status_code == 400


def test_inbox__wall_clock_timeout_envelope__400(
    waiting: tuple[TestClient, bytes, Future[Any]],
    settings: GatewaySettings,
    active_workers: list[AccountAPI],
) -> None:
    client, rid, _ = waiting
    body = failure(ErrorKind.TIMEOUT, "wall clock").encode()
    assert post_result(client, settings.chain, rid, body, active_workers[0]).status_code == 400


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-PeerHost-Worker": "0x1234", "X-PeerHost-Signature": "0x" + "00" * 65},
        {"X-PeerHost-Worker": "0x" + "11" * 20, "X-PeerHost-Signature": "0xzz"},
    ],
)
def test_inbox__malformed_headers__400(
    waiting: tuple[TestClient, bytes, Future[Any]], headers: dict[str, str]
) -> None:
    client, rid, _ = waiting
    assert (
        client.post(f"/_inbox/0x{rid.hex()}", content=envelope(), headers=headers).status_code
        == 400
    )


def test_inbox__malformed_request_id__400(settings: GatewaySettings) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.post("/_inbox/0x1234", content=b"{}").status_code == 400


def test_call__verified__answers_with_finalized_output_not_the_first(
    settings: GatewaySettings,
    hello_verified: bytes,
    funded_project: int,
    developer: AccountAPI,
    gateway: AccountAPI,
    coordinator: ContractInstance,
    active_workers: list[AccountAPI],
    background: Background,
) -> None:
    liar, *honest = active_workers
    lie, truth = envelope("lie"), envelope("truth")
    rid = next_request_id(settings.chain, coordinator, gateway.address)
    with TestClient(create_app(settings)) as client:
        pending = background.call(client, "GET", f"/{developer.address}/{PROJECT}/hello-verified")
        wait_requested(coordinator, rid)
        assert post_result(client, settings.chain, rid, lie, liar).status_code == 202
        for w in honest:
            assert post_result(client, settings.chain, rid, truth, w).status_code == 202
        salts = {w.address: bytes([i + 1]) * 32 for i, w in enumerate(active_workers)}
        outputs = {liar.address: lie, **{w.address: truth for w in honest}}
        cid = settings.chain
        for w in active_workers:
            c = commitment(
                cid.chain_id,
                cid.coordinator,
                rid,
                w.address,
                result_hash(outputs[w.address]),
                salts[w.address],
            )
            coordinator.commit(rid, c, sender=w)
        for w in active_workers:
            coordinator.reveal(rid, result_hash(outputs[w.address]), salts[w.address], sender=w)
        coordinator.finalize(rid, sender=honest[0])
        response = pending.result(timeout=15)
    assert response.status_code == 200
    assert response.text == "truth"
    assert response.headers["x-peerhost-mode"] == "verified"
    assert response.headers["x-peerhost-result-hash"] == "0x" + result_hash(truth).hex()
    assert response.headers["x-peerhost-worker"] in {w.address for w in honest}


def test_call__mode_header_fast__overrides_verified_default(
    settings: GatewaySettings,
    hello_verified: bytes,
    funded_project: int,
    developer: AccountAPI,
    gateway: AccountAPI,
    coordinator: ContractInstance,
    active_workers: list[AccountAPI],
    background: Background,
) -> None:
    rid = next_request_id(settings.chain, coordinator, gateway.address)
    with TestClient(create_app(settings)) as client:
        pending = background.call(
            client,
            "GET",
            f"/{developer.address}/{PROJECT}/hello-verified",
            headers={"X-PeerHost-Mode": "fast"},
        )
        wait_requested(coordinator, rid)
        post_result(client, settings.chain, rid, envelope("quick"), active_workers[0])
        response = pending.result(timeout=10)
    assert response.status_code == 200
    assert response.headers["x-peerhost-mode"] == "fast"


def test_call__deterministic_failure_envelope__502_problem_with_kind_and_detail(
    waiting: tuple[TestClient, bytes, Future[Any]],
    settings: GatewaySettings,
    active_workers: list[AccountAPI],
) -> None:
    client, rid, call = waiting
    body = failure(ErrorKind.OUT_OF_FUEL, "fuel exhausted", fuel_used=100).encode()
    assert post_result(client, settings.chain, rid, body, active_workers[0]).status_code == 202
    response = call.result(timeout=10)
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    doc = response.json()
    assert (doc["error"], doc["detail"], doc["status"]) == ("out_of_fuel", "fuel exhausted", 502)
    assert doc["type"] == "urn:peerhost:problem:function-failed" and doc["title"]
    assert response.headers["x-peerhost-result-hash"] == "0x" + result_hash(body).hex()
