"""Each example function called over real HTTP, in both answer modes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_http_stack import Stack

from peerhost.console import PeerHost
from peerhost.sandbox import Limits, RunRequest, Sandbox
from peerhost.storage import cid_from_bytes, open_store
from peerhost.wire import result_hash

MODES = ["fast", "verified"]


def finalized_hash(status: dict[str, str]) -> str:
    """The finalized result hash in a ``/_status/requests/<id>`` document."""
    return status.get("result_hash") or status["resultHash"]


def proof_headers(stack: Stack, response: httpx.Response, mode: str) -> str:
    """Checks the headers that make an answer auditable, and that the answering worker is one of
    the staked workers on-chain; returns the request id."""
    assert response.headers["x-peerhost-mode"] == mode
    request_id = response.headers["x-peerhost-request-id"]
    assert request_id.startswith("0x") and len(request_id) == 66
    assert response.headers["x-peerhost-result-hash"].startswith("0x")
    worker = response.headers["x-peerhost-worker"]
    with stack.ape():
        assert stack.deployment.workers.isActive(worker), f"{worker} answered but is not staked"
    return request_id


def assert_settled(stack: Stack, response: httpx.Response, mode: str) -> None:
    """Verified answers are finalized on-chain with the hash in the headers when they arrive."""
    request_id = proof_headers(stack, response, mode)
    if mode == "verified":
        status = stack.status(request_id)
        assert status["status"] == "finalized"
        assert finalized_hash(status) == response.headers["x-peerhost-result-hash"]


@pytest.mark.parametrize("mode", MODES)
def test_hello__get__greets(stack: Stack, http: httpx.Client, mode: str) -> None:
    response = http.get(stack.example("hello"), headers={"x-peerhost-mode": mode})
    assert response.status_code == 200, response.text
    assert response.text == "Hello from PeerHost!"
    assert response.headers["content-type"].startswith("text/plain")
    assert_settled(stack, response, mode)


@pytest.mark.parametrize("mode", MODES)
def test_echo__post__returns_the_canonical_request(
    stack: Stack, http: httpx.Client, mode: str
) -> None:
    response = http.post(
        stack.example("echo") + "/sub/path?x=1",
        json={"ping": 1},
        headers={"x-peerhost-mode": mode, "authorization": "Bearer never-on-chain"},
    )
    assert response.status_code == 200, response.text
    echoed = response.json()
    assert echoed["method"] == "POST"
    assert echoed["path"] == "/sub/path"
    assert echoed["query"] == {"x": "1"}
    assert json.loads(echoed["body"]) == {"ping": 1}
    assert "authorization" not in echoed["headers"]  # credentials never go on-chain
    assert_settled(stack, response, mode)


@pytest.mark.parametrize("mode", MODES)
def test_orders_create__valid_order__201_with_totals(
    stack: Stack, http: httpx.Client, mode: str
) -> None:
    order = {"customer": "alice", "items": [{"sku": "A-1", "qty": 2, "price_cents": 1250}]}
    response = http.post(
        stack.example("orders-create"), json=order, headers={"x-peerhost-mode": mode}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["subtotal_cents"], body["tax_cents"], body["total_cents"]) == (2500, 206, 2706)
    assert body["order_id"] == response.headers["x-peerhost-request-id"]
    assert_settled(stack, response, mode)


@pytest.mark.parametrize("mode", MODES)
def test_orders_create__invalid_order__the_functions_400(
    stack: Stack, http: httpx.Client, mode: str
) -> None:
    response = http.post(
        stack.example("orders-create"), json={"items": []}, headers={"x-peerhost-mode": mode}
    )
    assert response.status_code == 400, response.text
    assert "customer must be a non-empty string" in response.json()["errors"]
    assert_settled(stack, response, mode)  # a function's 400 is a result like any other


@pytest.mark.parametrize("mode", MODES)
def test_clock_and_dice__get__dice_within_sides(
    stack: Stack, http: httpx.Client, mode: str
) -> None:
    response = http.get(
        stack.example("clock-and-dice"), params={"sides": "20"}, headers={"x-peerhost-mode": mode}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["dice"]) == 3 and all(1 <= d <= 20 for d in body["dice"])
    assert body["now_ms"] > 1_600_000_000_000  # the request's block time, not the epoch
    assert_settled(stack, response, mode)


@pytest.mark.parametrize("mode", MODES)
def test_report__python_function__summary_from_every_worker(
    stack: Stack, http: httpx.Client, mode: str
) -> None:
    response = http.post(
        stack.example("report"),
        json={"xs": [3, 1, 4, 1, 5, 9], "label": "π ≈ 3.14 ✓"},
        headers={"x-peerhost-mode": mode},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["count"], body["sum"], body["median"]) == (6, 23, 3.5)
    assert body["pick"] in (3, 1, 4, 5, 9)
    assert body["generated_at"].startswith("20")  # the request's block time, not the epoch
    assert_settled(stack, response, mode)


def test_report__python_function_bad_body__its_own_400(stack: Stack, http: httpx.Client) -> None:
    response = http.post(
        stack.example("report"), content=b"not json", headers={"x-peerhost-mode": "verified"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("the body is not JSON")
    assert_settled(stack, response, "verified")


def test_js_hello__host_style_url__same_answer(stack: Stack, http: httpx.Client) -> None:
    host = f"{stack.owner.lower()}.{stack.devnet.gateway_settings().domain}"
    response = http.get(
        f"{stack.gateway_url}/e2e/{stack.js_hello}",
        params={"name": "host"},
        headers={"host": host},
    )
    assert response.status_code == 200, response.text
    assert response.text == "hello host"


def test_verified_answer__anyone_can_rerun_it_from_the_chain__same_result_hash(
    stack: Stack, http: httpx.Client, chain: Any, compiled_modules: Path
) -> None:
    """The job on-chain (code CID, input, limits, clock) is enough to re-run the function and get
    the finalized hash: the audit any caller can do with the response headers (in a sandbox of
    its own; the compiled runtimes are the session's)."""
    response = http.get(
        stack.url("e2e", stack.js_hello),
        params={"name": "audit"},
        headers={"x-peerhost-mode": "verified"},
    )
    assert response.status_code == 200
    request_id = proof_headers(stack, response, "verified")
    with stack.ape():
        history = PeerHost(stack.deployment, chain).history(request_id)
    job = next(e for e in history.events if e.name == "ExecutionRequested").args["job"]
    code = open_store(stack.devnet.store_spec).get(cid_from_bytes(bytes(job["codeCid"])))
    result = Sandbox(cache_dir=compiled_modules).run(
        RunRequest(
            runtime=job["runtime"],
            code=code,
            code_id=cid_from_bytes(bytes(job["codeCid"])),
            input=bytes(job["input"]),
            request_id=bytes.fromhex(request_id[2:]),
            block_timestamp=int(job["requestedAt"]),
            limits=Limits(fuel=int(job["fuelLimit"]), memory_bytes=int(job["memoryLimit"])),
        )
    )
    assert "0x" + result_hash(result.envelope).hex() == response.headers["x-peerhost-result-hash"]
    assert finalized_hash(stack.status(request_id)) == response.headers["x-peerhost-result-hash"]
