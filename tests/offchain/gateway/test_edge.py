"""The HTTP edge (:mod:`peerhost.gateway.edge`) under a real uvicorn server on a real socket, in
front of a small Starlette app (no chain): what it refuses, what it must leave alone (WebSocket
connections past its timeouts, idle keep-alive connections), and its per-address slots."""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Iterator

import h11
import pytest
from gateway_helpers import serve_edge
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from peerhost.gateway.edge import EdgeLimits, refuse_head
from peerhost.gateway.errors import HeadTooLarge, RefusedAtEdge

LIMITS = EdgeLimits(
    header_timeout=0.5, body_timeout=0.5, max_connections_per_client=2, max_head_bytes=4096
)


async def echo(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"got {len(await request.body())} bytes")


async def chat(socket: WebSocket) -> None:
    await socket.accept()
    while True:
        await socket.send_text("echo " + await socket.receive_text())


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    app = Starlette(
        routes=[Route("/echo", echo, methods=["POST", "GET"]), WebSocketRoute("/ws", chat)]
    )
    server, thread, port = serve_edge(app, LIMITS)
    yield port
    server.should_exit = True
    thread.join(10)


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def _read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _head(raw: bytes) -> h11.Request:
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(raw)
    event = conn.next_event()
    assert isinstance(event, h11.Request)
    return event


def test_refuse_head__content_length_and_transfer_encoding__refused() -> None:
    head = _head(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    refusal = refuse_head(head, 4096)
    assert isinstance(refusal, RefusedAtEdge)
    assert "both Content-Length and Transfer-Encoding" in str(refusal)


def test_refuse_head__head_over_the_limit_in_one_piece__too_large() -> None:
    head = _head(b"GET /?" + b"a" * 5000 + b" HTTP/1.1\r\nHost: a\r\n\r\n")
    assert isinstance(refuse_head(head, 4096), HeadTooLarge)


def test_refuse_head__plain_get__passes() -> None:
    assert refuse_head(_head(b"GET /x%C3%A9?q=1 HTTP/1.1\r\nHost: a\r\n\r\n"), 4096) is None


def test_request__cl_and_te__400_and_the_smuggled_request_never_served(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 38\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\n\r\n"
        )
        data = _read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 400 ")
    assert data.count(b"HTTP/1.1") == 1
    assert b"application/problem+json" in data


def test_websocket__open_past_both_timeouts__keeps_working(port: int) -> None:
    with _connect(port) as sock:
        key = base64.b64encode(os.urandom(16))
        sock.sendall(
            b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        assert sock.recv(4096).startswith(b"HTTP/1.1 101")
        time.sleep(3 * LIMITS.body_timeout)
        mask = os.urandom(4)
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"hi"))
        sock.sendall(bytes([0x81, 0x80 | 2]) + mask + payload)
        assert sock.recv(4096) == bytes([0x81, 7]) + b"echo hi"


def test_keep_alive__idle_past_the_head_timeout__closed_without_a_response(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(b"GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
        data = _read_until_closed(sock)
    assert data.count(b"HTTP/1.1 ") == 1
    assert data.startswith(b"HTTP/1.1 200 ")


def test_keep_alive__next_head_stalls__408(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(b"GET /echo HTTP/1.1\r\nHost: a\r\n\r\nGET /echo HT")
        data = _read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 200 ")
    assert b"HTTP/1.1 408 " in data


def test_connections__over_the_cap__429_then_a_slot_frees_on_close(port: int) -> None:
    held = [_connect(port) for _ in range(LIMITS.max_connections_per_client)]
    time.sleep(0.1)  # both accepted before the next one
    with _connect(port) as sock:
        assert _read_until_closed(sock).startswith(b"HTTP/1.1 429 ")
    for sock in held:
        sock.close()
    time.sleep(0.1)
    with _connect(port) as sock:
        sock.sendall(b"GET /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        assert _read_until_closed(sock).startswith(b"HTTP/1.1 200 ")
