"""How long a slow client holds a connection to the gateway's HTTP server, with and without the
edge (``peerhost.gateway.edge``), and how many connections one address can hold.

    python bench/edge_slowloris.py            # the edge with its default limits
    python bench/edge_slowloris.py --plain    # uvicorn's h11 protocol as it was

A tiny Starlette app stands in for the gateway (the edge sits in front of the app, so the app does
not matter). The slow client sends ``GET / HTTP/1.1`` and headers one byte every ``--pace``
seconds, up to ``--limit`` seconds; then ``--connections`` idle connections are opened from one
address and the refused ones counted.
"""

from __future__ import annotations

import argparse
import logging
import socket
import threading
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from peerhost.gateway.edge import EdgeLimits, edge_protocol


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


def serve(plain: bool) -> tuple[uvicorn.Server, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    app = Starlette(routes=[Route("/", hello)])
    http = "h11" if plain else edge_protocol(EdgeLimits())
    server = uvicorn.Server(uvicorn.Config(app, http=http, lifespan="off", log_level="error"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, sock.getsockname()[1]


def slow_client(port: int, pace: float, limit: float) -> tuple[float, str]:
    """Seconds the connection stayed open and how it ended."""
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: " + b"x" * 400 + b"\r\n\r\n"
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(pace)
        for byte in head:
            if time.monotonic() - start > limit:
                return time.monotonic() - start, f"still open at the {limit:.0f} s limit"
            try:
                sock.sendall(bytes([byte]))
                reply = sock.recv(4096)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - start, "reset"
            status = reply.split(b"\r\n", 1)[0].decode() if reply else "closed"
            return time.monotonic() - start, status
    return time.monotonic() - start, "sent the whole head"


def hold(port: int, count: int) -> int:
    """Of ``count`` idle connections from one address, how many the server kept open."""
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    time.sleep(0.5)
    kept = 0
    for sock in socks:
        sock.setblocking(False)
        try:
            sock.recv(1)  # a refusal, or b"": closed
        except BlockingIOError:
            kept += 1  # nothing to read: still open
        sock.close()
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plain", action="store_true", help="uvicorn's h11, no edge")
    parser.add_argument("--pace", type=float, default=0.5, help="seconds between bytes")
    parser.add_argument("--limit", type=float, default=60.0, help="stop the slow client here")
    parser.add_argument("--connections", type=int, default=100)
    args = parser.parse_args()
    logging.getLogger("peerhost.gateway.edge").setLevel(logging.ERROR)  # one line per refusal
    server, port = serve(args.plain)
    try:
        took, ending = slow_client(port, args.pace, args.limit)
        print(f"slow head ({args.pace} s per byte): connection held {took:.1f} s, {ending}")
        kept = hold(port, args.connections)
        print(f"idle connections from one address: {kept} of {args.connections} kept open")
    finally:
        server.should_exit = True


if __name__ == "__main__":
    main()
