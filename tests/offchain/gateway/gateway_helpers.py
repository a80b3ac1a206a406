"""Helpers for gateway tests: envelopes, signed inbox posts, background calls, the next id, an app
served behind the HTTP edge."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import uvicorn
from ape.api import AccountAPI
from ape.contracts import ContractInstance
from starlette.testclient import TestClient

from peerhost.chain.config import ChainConfig
from peerhost.gateway.edge import EdgeLimits, edge_protocol
from peerhost.wire import Envelope, request_id_of, result_hash, sign_result

PROJECT = "shop"
FUNCTION = "hello"
DOMAIN = "peerhost.test"


def envelope(
    body: Any = "hello", status: int = 200, headers: dict[str, str] | None = None
) -> bytes:
    return Envelope(ok=True, status=status, headers=headers or {}, body=body, fuel_used=7).encode()


def next_request_id(config: ChainConfig, coordinator: ContractInstance, gateway: str) -> bytes:
    return request_id_of(
        config.chain_id, config.coordinator, gateway, coordinator.requestSequence(gateway)
    )


def wait_requested(coordinator: ContractInstance, rid: bytes, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while coordinator.phase(rid) == 0:
        if time.monotonic() > deadline:
            raise TimeoutError(f"request 0x{rid.hex()} never appeared on-chain")
        time.sleep(0.02)


def post_result(
    client: TestClient,
    config: ChainConfig,
    rid: bytes,
    body: bytes,
    worker: AccountAPI,
    *,
    signer: AccountAPI | None = None,
    signed_body: bytes | None = None,
) -> Any:
    """Posts ``body`` for ``rid`` as ``worker``, signed by ``signer`` over ``signed_body``."""
    key = (signer or worker).private_key
    digest = result_hash(body if signed_body is None else signed_body)
    signature = sign_result(key, config.chain_id, config.coordinator, rid, digest)
    return client.post(
        f"/_inbox/0x{rid.hex()}",
        content=body,
        headers={
            "X-PeerHost-Worker": worker.address,
            "X-PeerHost-Signature": "0x" + signature.hex(),
        },
    )


class Background:
    """Runs blocking TestClient calls on other threads (the app serves them concurrently)."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=8)

    def call(self, client: TestClient, method: str, url: str, **kwargs: Any) -> Future[Any]:
        return self.pool.submit(client.request, method, url, **kwargs)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def serve_edge(app: Any, limits: EdgeLimits) -> tuple[uvicorn.Server, threading.Thread, int]:
    """``app`` under uvicorn behind the gateway's HTTP edge on a free loopback port, on a thread
    of its own: the server, its thread and the port (set ``server.should_exit`` to stop it)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    config = uvicorn.Config(
        app, http=edge_protocol(limits), lifespan="off", log_level="warning", timeout_keep_alive=30
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return server, thread, sock.getsockname()[1]
