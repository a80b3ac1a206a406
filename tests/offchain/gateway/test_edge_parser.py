"""The HTTP edge on uvicorn's httptools (llhttp) protocol, under a real server on a real socket:
the cases a change of parser could alter. Pipelined requests around a refused one, requests
split across many packets, heads at the size limit, llhttp's own refusals named as the edge names
them (never quoting the request), and a graceful shutdown with a call in flight."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from gateway_helpers import serve_edge
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from peerhost.gateway.edge import EdgeLimits

LIMITS = EdgeLimits(
    header_timeout=1.0, body_timeout=1.0, max_connections_per_client=8, max_head_bytes=4096
)
SECRET = "sk-live-0123456789"

served: list[str] = []
seen_headers: list[tuple[bytes, bytes]] = []


async def echo(request: Request) -> PlainTextResponse:
    body = await request.body()
    served.append(request.url.path)
    return PlainTextResponse(f"got {len(body)} bytes")


async def headers(request: Request) -> PlainTextResponse:
    seen_headers.extend(request.scope["headers"])
    body = await request.body()
    seen_headers.extend(request.scope["headers"])
    served.append(request.url.path)
    return PlainTextResponse(f"got {len(body)} bytes")


async def slow(request: Request) -> PlainTextResponse:
    await asyncio.sleep(0.3)
    served.append(request.url.path)
    return PlainTextResponse("slow")


def _start(limits: EdgeLimits = LIMITS) -> tuple[uvicorn.Server, threading.Thread, int]:
    app = Starlette(
        routes=[
            Route("/echo", echo, methods=["POST", "GET"]),
            Route("/headers", headers, methods=["POST"]),
            Route("/slow", slow),
        ]
    )
    return serve_edge(app, limits)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server, thread, port = _start()
    yield port
    server.should_exit = True
    thread.join(10)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _statuses(data: bytes) -> list[int]:
    return [int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]


def _head_of(size: int, close: bool = True) -> bytes:
    """A GET /echo head of exactly ``size`` bytes, the blank line included."""
    start = b"GET /echo HTTP/1.1\r\nHost: a\r\n" + (b"Connection: close\r\n" if close else b"")
    pad = size - len(start) - len(b"X-Pad: \r\n\r\n")
    return start + b"X-Pad: " + b"p" * pad + b"\r\n\r\n"


def test_pipelined__normal_then_refused_then_normal__answered_in_order_and_the_last_never_served(
    port: int,
) -> None:
    served.clear()
    with _connect(port) as sock:
        sock.sendall(
            b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"
            b"GET http://evil.example/echo HTTP/1.1\r\nHost: a\r\n\r\n"
            b"GET /echo HTTP/1.1\r\nHost: a\r\n\r\n"
        )
        data = _read_until_closed(sock)
    assert _statuses(data) == [200, 400]
    assert b"target is not a path" in data
    assert served == ["/slow"]


def test_pipelined__two_normal_then_smuggled__both_answered_before_the_refusal(port: int) -> None:
    served.clear()
    with _connect(port) as sock:
        sock.sendall(
            b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\n\r\n"
            b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        )
        data = _read_until_closed(sock)
    assert _statuses(data) == [200, 200, 400]
    assert b"both Content-Length and Transfer-Encoding" in data
    assert served == ["/slow", "/echo"]


def test_pipelined__refused_first__nothing_after_it_is_served(port: int) -> None:
    served.clear()
    with _connect(port) as sock:
        sock.sendall(b"GET /echo HTTP/2.0\r\nHost: a\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
        data = _read_until_closed(sock)
    assert _statuses(data) == [400]
    assert served == []


def test_keep_alive__many_requests_on_one_connection__each_answered(port: int) -> None:
    with _connect(port) as sock:
        for _ in range(50):
            sock.sendall(b"GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
            reply = b""
            while not reply.endswith(b"got 0 bytes"):
                reply += sock.recv(4096)
            assert reply.startswith(b"HTTP/1.1 200 ")


def test_request__split_into_one_byte_packets__served(port: int) -> None:
    body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    request = (
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n" + body
    )
    with _connect(port) as sock:
        for i in range(len(request)):
            sock.sendall(request[i : i + 1])
            time.sleep(0.002)
        data = _read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 200 ")
    assert data.endswith(b"got 11 bytes")


def test_head__exactly_max_head_bytes_in_one_write__served(port: int) -> None:
    head = _head_of(LIMITS.max_head_bytes)
    assert len(head) == LIMITS.max_head_bytes
    with _connect(port) as sock:
        sock.sendall(head)
        assert _read_until_closed(sock).startswith(b"HTTP/1.1 200 ")


def test_head__exactly_max_head_bytes_in_small_packets__served(port: int) -> None:
    head = _head_of(LIMITS.max_head_bytes)
    with _connect(port) as sock:
        for i in range(0, len(head), 512):
            sock.sendall(head[i : i + 512])
            time.sleep(0.01)
        assert _read_until_closed(sock).startswith(b"HTTP/1.1 200 ")


@pytest.mark.parametrize("pieces", [1, 16])
def test_head__one_line_byte_over_the_limit__431(port: int, pieces: int) -> None:
    head = _head_of(LIMITS.max_head_bytes + 3)  # the lines, less the blank line: max + 1
    step = -(-len(head) // pieces)
    with _connect(port) as sock:
        for i in range(0, len(head), step):
            sock.sendall(head[i : i + step])
            time.sleep(0.01)
        data = _read_until_closed(sock)
    assert _statuses(data) == [431]


def test_head__endless_header_in_packets__431_before_it_ends(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(b"GET /echo HTTP/1.1\r\nHost: a\r\nX-Endless: ")
        refused = b""
        for _ in range(4 * LIMITS.max_head_bytes // 256):
            try:
                sock.sendall(b"v" * 256)
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.002)
        sock.settimeout(5)
        refused = _read_until_closed(sock)
    assert _statuses(refused) == [431]


def test_bad_chunk_size__400_without_echoing_the_request(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            + SECRET.encode()
            + b"\r\nhello\r\n0\r\n\r\n"
        )
        data = _read_until_closed(sock)
    assert _statuses(data) == [400]
    assert b"chunked body is malformed" in data
    assert SECRET.encode() not in data


@pytest.mark.parametrize(
    ("line", "phrase"),
    [
        (b"X-Key: " + SECRET.encode() + b"\x00\r\n", b"header line is not name: value"),
        (b"X-" + SECRET.encode() + b"@: 1\r\n", b"header line is not name: value"),
        (b"Content-Length: " + SECRET.encode() + b"\r\n", b"Content-Length is not a number"),
        (b"Transfer-Encoding: gzip, chunked\r\n", b"only transfer coding accepted is chunked"),
        (b"Content-Length: 1\r\nContent-Length: 1\r\nContent-Length: 2\r\n", b"disagree"),
    ],
)
def test_llhttp_refusal__named_as_the_edge_names_it__never_echoed(
    port: int, line: bytes, phrase: bytes
) -> None:
    with _connect(port) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: a\r\n" + line + b"\r\nab")
        data = _read_until_closed(sock)
    assert _statuses(data) == [400]
    assert phrase in data
    assert b"application/problem+json" in data
    assert SECRET.encode() not in data


def test_unknown_method__400_problem_no_app() -> None:
    """llhttp knows the registered methods only; h11 took any token and the app answered 405."""
    served.clear()
    server, thread, port = _start()
    try:
        with _connect(port) as sock:
            sock.sendall(b"BREW /echo HTTP/1.1\r\nHost: a\r\n\r\n")
            data = _read_until_closed(sock)
    finally:
        server.should_exit = True
        thread.join(10)
    assert _statuses(data) == [400]
    assert b"application/problem+json" in data
    assert b'"reason":"the request is not valid HTTP/1.1"' in data
    assert b"Check the request line and headers." in data
    assert served == []


def test_target_with_a_fragment__400_problem_no_app(port: int) -> None:
    served.clear()
    with _connect(port) as sock:
        sock.sendall(b"GET /echo#frag HTTP/1.1\r\nHost: a\r\n\r\n")
        data = _read_until_closed(sock)
    assert _statuses(data) == [400]
    assert b"target has a fragment" in data
    assert served == []


def test_shutdown__call_in_flight__answered_with_connection_close() -> None:
    server, thread, port = _start()
    with _connect(port) as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        time.sleep(0.1)
        server.should_exit = True
        data = _read_until_closed(sock)
    thread.join(10)
    assert data.startswith(b"HTTP/1.1 200 ")
    assert b"connection: close" in data.lower()
    assert data.endswith(b"slow")


def test_pipelined__queued_request_with_a_malformed_body__never_served(port: int) -> None:
    served.clear()
    with _connect(port) as sock:
        sock.sendall(
            b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"
            b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n"
        )
        data = _read_until_closed(sock)
    assert _statuses(data) == [200, 400]
    assert b"chunked body is malformed" in data
    assert served == ["/slow"]


def _flood(sock: socket.socket, start: bytes, limit: int) -> bytes:
    """Sends ``start`` then ``v`` bytes until the edge stops reading (or 16 times ``limit``);
    returns what the edge answered."""
    sock.sendall(start)
    for _ in range(16 * limit // 1024):
        try:
            sock.sendall(b"v" * 1024)
        except (BrokenPipeError, ConnectionResetError):
            break
    sock.settimeout(5)
    return _read_until_closed(sock)


def _get_answered(port: int) -> bytes:
    with _connect(port) as sock:
        sock.sendall(b"GET /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        return _read_until_closed(sock)


CHUNKED = b"POST /headers HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize(
    "start",
    [CHUNKED + b"5\r\nhello\r\n0\r\nX-T: ", CHUNKED + b"5\r\nhello\r\n1;e="],
    ids=["endless-trailer", "endless-chunk-extension"],
)
def test_chunked__endless_trailer_or_extension__refused_and_another_client_served_meanwhile(
    port: int, start: bytes
) -> None:
    served.clear()
    answers: list[bytes] = []
    with _connect(port) as sock:
        flooding = threading.Thread(
            target=lambda: answers.append(_flood(sock, start, LIMITS.max_head_bytes))
        )
        flooding.start()
        time.sleep(0.05)
        other = _get_answered(port)
        flooding.join(20)
    assert not flooding.is_alive()
    assert _statuses(other) == [200]
    assert _statuses(answers[0])[0] in (400, 431)
    assert "/headers" not in served


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        (b"X-Injected", b"trailer fields"),
        (b"Host", b"trailer fields"),
        (b"Authorization", b"trailer fields"),
        (b"Content-Length", b"Content-Length is not a number"),  # llhttp's own refusal
    ],
)
def test_chunked__trailer_field__400_and_never_in_the_scope_headers(
    port: int, name: bytes, phrase: bytes
) -> None:
    served.clear()
    seen_headers.clear()
    with _connect(port) as sock:
        sock.sendall(
            CHUNKED + b"5\r\nhello\r\n0\r\n" + name + b": " + SECRET.encode() + b"\r\n\r\n"
        )
        data = _read_until_closed(sock)
    assert _statuses(data) == [400]
    assert phrase in data
    assert SECRET.encode() not in data
    assert (name.lower(), SECRET.encode()) not in seen_headers
    assert served == []


UPGRADE = b"POST /echo HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: foo\r\n"


@pytest.mark.parametrize(
    ("head", "body"),
    [
        (UPGRADE + b"Content-Length: 36\r\n\r\n", b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"),
        (
            UPGRADE + b"Transfer-Encoding: chunked\r\n\r\n",
            b"24\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n\r\n0\r\n\r\n",
        ),
    ],
    ids=["content-length", "chunked"],
)
def test_upgrade__not_websocket__400_and_its_body_never_served_as_a_request(
    port: int, head: bytes, body: bytes
) -> None:
    served.clear()
    with _connect(port) as sock:
        sock.sendall(head)
        time.sleep(0.2)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(body)
        sock.settimeout(5)
        data = _read_until_closed(sock)
    assert _statuses(data) == [400]
    assert b"Upgrade" in data
    assert served == []


def test_websocket_upgrade__pipelined_behind_a_running_request__answered_then_refused(
    port: int,
) -> None:
    served.clear()
    with _connect(port) as sock:
        sock.sendall(
            b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"
            b"GET /echo HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        data = _read_until_closed(sock)
    assert _statuses(data) == [200, 400]
    assert data.endswith(b"}")
    assert b"WebSocket upgrade" in data
    assert served == ["/slow"]
