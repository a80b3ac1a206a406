"""Every gateway error provoked by a real HTTP request."""

from __future__ import annotations

import httpx
import pytest
from e2e_http_stack import E2E_PROJECT, Stack

from peerhost.chain import ChainConfig
from peerhost.devnet.accounts import REQUESTER
from peerhost.devnet.processes import free_port

UNKNOWN_WALLET = "0x000000000000000000000000000000000000dEaD"


def test_body_too_large__413(stack: Stack, http: httpx.Client) -> None:
    limit = stack.devnet.gateway_settings().max_body_bytes
    response = http.post(stack.example("echo"), content=b"x" * (limit + 1))
    assert response.status_code == 413
    assert response.json()["limit"] == limit


def test_headers_too_large__413(stack: Stack, http: httpx.Client) -> None:
    limit = stack.devnet.gateway_settings().max_header_bytes
    response = http.get(stack.example("hello"), headers={"x-padding": "p" * (limit + 1)})
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"


def test_unknown_mode_header__400(stack: Stack, http: httpx.Client) -> None:
    response = http.get(stack.example("hello"), headers={"x-peerhost-mode": "eventually"})
    assert response.status_code == 400
    assert "x-peerhost-mode" in response.json()["message"]


def test_malformed_wallet_in_path__404_no_route(stack: Stack, http: httpx.Client) -> None:
    response = http.get(f"{stack.gateway_url}/0xnot-a-wallet/{stack.examples}/hello")
    assert response.status_code == 404
    assert response.json()["error"] == "NoRoute"


@pytest.mark.parametrize(
    ("wallet", "project_name", "function"),
    [
        pytest.param(UNKNOWN_WALLET, "examples", "hello", id="unknown-wallet"),
        pytest.param(None, "no-such-project", "hello", id="unknown-project"),
        pytest.param(None, "examples", "no-such-function", id="unknown-function"),
    ],
)
def test_unknown_function__404_names_what_was_looked_up(
    stack: Stack, http: httpx.Client, wallet: str | None, project_name: str, function: str
) -> None:
    response = http.get(stack.url(project_name, function, wallet))
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "FunctionNotFound"
    assert (body["wallet"].lower(), body["project"], body["function"]) == (
        (wallet or stack.owner).lower(),
        project_name,
        function,
    )


def test_disabled_function__410(stack: Stack, http: httpx.Client) -> None:
    response = http.get(stack.url(E2E_PROJECT, stack.disabled_function))
    assert response.status_code == 410
    assert response.json()["function"] == stack.disabled_function


@pytest.fixture(scope="module")
def strict_gateway(stack: Stack) -> str:
    """A second gateway (its own signer) with short timeouts and a small per-client rate limit;
    clients are told apart by X-Forwarded-For so tests do not share a bucket."""
    proc = stack.start_gateway(
        REQUESTER,
        fast_timeout=4.0,
        verified_timeout=6.0,
        rate_limit=0.5,
        rate_burst=3,
        trust_forwarded_for=True,
    )
    return proc.url


def test_no_worker_can_run_it__504_with_request_id_and_status_url(
    stack: Stack, http: httpx.Client, strict_gateway: str
) -> None:
    """The function's code is in no store, so every worker skips the job."""
    response = http.get(
        f"{strict_gateway}/{stack.owner}/{E2E_PROJECT}/{stack.missing_function}",
        headers={"x-forwarded-for": "10.0.0.1"},
    )
    assert response.status_code == 504, response.text
    body = response.json()
    request_id = response.headers["x-peerhost-request-id"]
    assert body["request_id"] == request_id
    assert body["status_url"].endswith(f"/_status/requests/{request_id}")
    status = http.get(body["status_url"]).json()
    assert status["request_id"] == request_id
    assert status["phase"] in ("commit", "settle", "refunded")


def test_too_many_requests__429_with_retry_after(
    stack: Stack, http: httpx.Client, strict_gateway: str
) -> None:
    url = f"{strict_gateway}/{UNKNOWN_WALLET}/{E2E_PROJECT}/nothing"
    statuses = [
        http.get(url, headers={"x-forwarded-for": "10.0.0.2"}).status_code for _ in range(6)
    ]
    assert statuses[:3] == [404, 404, 404]
    assert 429 in statuses[3:]
    limited = http.get(url, headers={"x-forwarded-for": "10.0.0.2"})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    other_client = http.get(url, headers={"x-forwarded-for": "10.0.0.3"})
    assert other_client.status_code == 404


def test_chain_unreachable__503(stack: Stack, http: httpx.Client) -> None:
    """A gateway whose RPC URL points at nothing."""
    assert stack.devnet.chain_config is not None
    dead = f"http://127.0.0.1:{free_port()}"
    config = ChainConfig(
        **{
            **stack.devnet.chain_config.__dict__,
            "rpc_url": dead,
            "ws_url": dead.replace("http", "ws"),
        }
    )
    proc = stack.start_gateway(REQUESTER, chain=config)
    response = http.get(f"{proc.url}/{stack.owner}/{stack.examples}/hello")
    assert response.status_code == 503
    assert "cannot reach its chain" in response.json()["message"]
    assert http.get(f"{proc.url}/_health").status_code == 503
