"""Prewarm on publish, end to end: every worker follows the FunctionRegistry and, when a new wasi
version is published, fetches and compiles its module before anyone calls it (its ``prewarmed``
log line, one compilation on the shared cache); the first call then answers from it."""

from __future__ import annotations

import secrets

import httpx
import pytest
from ticket_stack import TicketStack, wait_for

from peerhost.devnet.accounts import GATEWAY, derive
from peerhost.storage import cid_to_bytes, open_store

pytestmark = pytest.mark.usefixtures("automine")

PROJECT = "prewarmed"


def _fresh_hello(code: bytes) -> bytes:
    """``code`` with a custom section of random bytes: the same function, a module no cache saw."""
    name = b"nonce"
    payload = bytes([len(name)]) + name + secrets.token_bytes(16)
    return code + b"\x00" + bytes([len(payload)]) + payload


def test_publish__new_wasi_version__workers_compile_it_before_the_first_call(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    devnet = tickets_stack.devnet
    assert devnet.deployment is not None and devnet.settlement is not None
    code = _fresh_hello((devnet.config.examples / "functions" / "hello.wasm").read_bytes())
    cid = open_store(devnet.store_spec).put(code)
    developer = tickets_stack.developer
    with tickets_stack.ape():
        registry = devnet.deployment.registry
        registry.publish(
            PROJECT, "hello", "wasi", cid_to_bytes(cid), 100_000_000, 64 * 2**20, 0,
            sender=developer,
        )  # fmt: skip
        gateways = devnet.settlement.gateways
        gateways.fundReserve(
            registry.projectIdOf(developer, PROJECT), value=10**18, sender=developer
        )
        gateways.setGatewayAuthorization(PROJECT, derive(GATEWAY).address, True, sender=developer)

    def prewarmed() -> list[dict[str, object]]:
        found = [
            [e for e in worker.events("prewarmed") if e.get("code_cid") == cid]
            for worker in devnet.workers
        ]
        return [lines[0] for lines in found] if all(found) else []

    lines = wait_for(prewarmed)
    assert [line["runtime"] for line in lines] == ["wasi"] * len(devnet.workers)
    assert sum(bool(line["compiled"]) for line in lines) == 1  # once, on the shared cache
    answer = http.get(f"{tickets_stack.gateway_url}/{tickets_stack.owner}/{PROJECT}/hello")
    assert answer.status_code == 200, answer.text
    assert "Hello" in answer.text
