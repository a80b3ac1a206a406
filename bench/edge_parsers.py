"""What uvicorn's HTTP protocol costs per request: the same Starlette app served by each protocol
in turn, called by a lean keep-alive client (one connection, a head built once, the response read
by its Content-Length), server CPU µs per request (read from ``/proc``) and latency percentiles.

    python bench/edge_parsers.py                          # every protocol, 3 rounds of 3 s
    python bench/edge_parsers.py --protocols h11,edge --rounds 5 --seconds 4
    python bench/edge_parsers.py --protocols edge@/work/main,edge   # another checkout's edge

Protocols: ``h11`` and ``httptools`` (uvicorn's own), ``edge`` (the gateway's HTTP edge,
``peerhost.gateway.edge``); ``NAME@PATH`` serves NAME with ``PYTHONPATH=PATH`` (another checkout's
package). Each server is its own process on uvloop, as the gateway runs; the
rounds alternate the protocols so the machine's load falls on each alike, and the figures are the
medians over rounds.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

PROTOCOLS = ("h11", "httptools", "edge")
TICKS = os.sysconf("SC_CLK_TCK")


def serve(protocol: str, fd: int) -> None:
    """The server process: the app under ``protocol`` on the inherited listening socket."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from peerhost import eventloop
    from peerhost.gateway.edge import EdgeLimits, edge_protocol

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    app = Starlette(routes=[Route("/hello", hello)])
    http = edge_protocol(EdgeLimits()) if protocol == "edge" else protocol
    config = uvicorn.Config(
        app,
        http=http,
        loop=eventloop.loop_name(),
        lifespan="off",
        log_level="error",
        access_log=False,
        server_header=False,
    )
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=fd)])


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        raw = f.read()
    fields = raw[raw.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def call(sock: socket.socket, head: bytes) -> None:
    sock.sendall(head)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    top, _, body = data.partition(b"\r\n\r\n")
    length = int(top.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
    while len(body) < length:
        body += sock.recv(65536)
    assert top.startswith(b"HTTP/1.1 200 "), top


def measure(protocol: str, seconds: float) -> tuple[float, float, float, float]:
    """(server CPU µs per request, p50 µs, p99 µs, requests) for one round."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    name, _, path = protocol.partition("@")
    env = dict(os.environ, PYTHONPATH=path) if path else None
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", name, "--fd", str(listener.fileno())],
        pass_fds=[listener.fileno()],
        env=env,
    )
    try:
        head = f"GET /hello HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
        deadline = time.monotonic() + 20
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                call(sock, head)
                break
            except (OSError, IndexError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(300):  # warm up
            call(sock, head)
        latencies: list[float] = []
        start_cpu = cpu_s(proc.pid)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t0 = time.perf_counter_ns()
            call(sock, head)
            latencies.append((time.perf_counter_ns() - t0) / 1000)
        used = cpu_s(proc.pid) - start_cpu
        sock.close()
    finally:
        proc.terminate()
        proc.wait(10)
        listener.close()
    latencies.sort()
    n = len(latencies)
    return 1e6 * used / n, latencies[n // 2], latencies[int(n * 0.99)], n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--protocols", default=",".join(PROTOCOLS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.fd)
        return
    protocols = args.protocols.split(",")
    results: dict[str, list[tuple[float, float, float, float]]] = {p: [] for p in protocols}
    for _ in range(args.rounds):
        for protocol in protocols:
            results[protocol].append(measure(protocol, args.seconds))
    print(f"load {os.getloadavg()[0]:.1f}; medians of {args.rounds} rounds of {args.seconds} s")
    for protocol, rows in results.items():
        cpu, p50, p99, n = (statistics.median(col) for col in zip(*rows, strict=True))
        print(
            f"{protocol:16s} server CPU {cpu:6.1f} µs/request | latency p50 {p50:6.1f} µs"
            f" p99 {p99:7.1f} µs | {n / args.seconds:6.0f} req/s"
        )


if __name__ == "__main__":
    main()
