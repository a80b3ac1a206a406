"""A raw-socket HTTP/1.1 client for the edge corpus (imported by module name, never a conftest).

Nothing between the test and the server rewrites the bytes: each case is sent as written, from a
loopback source address of its own (127.0.0.<n>), so the per-address caps of one case never
touch another, nor the probe that checks the gateway still answers.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent / "http_corpus.json"
#: The probe's own source address (a normal client, never one of the corpus's).
PROBE_SOURCE = "127.0.0.2"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Case:
    """One corpus entry (see ``http_corpus.json``'s ``about``)."""

    name: str
    send: str
    expect: list[int]
    why: str = ""
    slowly: str = ""
    pace: float = 0.0
    hold: int = 0
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def load_cases(path: Path = CORPUS) -> list[Case]:
    doc = json.loads(path.read_text())
    known = {"name", "send", "expect", "why", "slowly", "pace", "hold", "message"}
    return [
        Case(
            **{k: v for k, v in entry.items() if k in known},
            extra={k: v for k, v in entry.items() if k not in known},
        )
        for entry in doc["cases"]
    ]


_REPEAT = re.compile(r"\{repeat:(\d+):([^}]*)\}")


def expand(template: str, values: dict[str, str]) -> bytes:
    """``{function}``, ``{host}`` and ``{repeat:N:text}`` filled in; the rest sent as latin-1 (so
    ``\\u00ff`` in the JSON is the byte 0xff)."""
    text = template
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return _REPEAT.sub(lambda m: m.group(2) * int(m.group(1)), text).encode("latin-1")


def parse_replies(data: bytes, to_head: bool = False) -> list[Reply]:
    """Every whole response in ``data`` (Content-Length or chunked bodies; none when ``to_head``:
    answers to HEAD), in order."""
    replies: list[Reply] = []
    rest = data
    while rest.startswith(b"HTTP/"):
        head, sep, rest = rest.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if to_head or status in (204, 304):
            body = b""
        elif "content-length" in headers:
            size = int(headers["content-length"])
            body, rest = rest[:size], rest[size:]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                line, _, rest = rest.partition(b"\r\n")
                size = int(line.split(b";")[0], 16)
                chunks.append(rest[:size])
                rest = rest[size + 2 :]
                if size == 0:
                    break
            body = b"".join(chunks)
        else:
            body, rest = rest, b""
        replies.append(Reply(status, headers, body))
    return replies


def connect(port: int, source: str, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection(
        ("127.0.0.1", port), timeout=timeout, source_address=(source, 0)
    )
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_all(sock: socket.socket, timeout: float) -> bytes:
    """What the server sends until it closes, or until ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    data = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def send_quietly(sock: socket.socket, data: bytes) -> bool:
    """Sends ``data``; False when the server already closed the connection."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        return False
    return True


def probe(port: int) -> int:
    """A normal request's status (``GET /_health`` from the probe address)."""
    with connect(port, PROBE_SOURCE) as sock:
        sock.sendall(b"GET /_health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        replies = parse_replies(read_all(sock, 10.0))
    return replies[0].status if replies else 0


def run_case(
    case: Case,
    port: int,
    source: str,
    values: dict[str, str],
    during: Callable[[], None],
    read_timeout: float = 6.0,
) -> list[Reply]:
    """Sends ``case`` from ``source``; ``during`` runs while its connection is open."""
    held = [connect(port, source) for _ in range(case.hold)]
    try:
        with connect(port, source) as sock:
            sent = send_quietly(sock, expand(case.send, values))
            during()
            if sent and case.slowly:
                for byte in expand(case.slowly, values):
                    if not send_quietly(sock, bytes([byte])):
                        break
                    time.sleep(case.pace)
            return parse_replies(
                read_all(sock, read_timeout), to_head=case.send.startswith("HEAD ")
            )
    finally:
        for sock in held:
            sock.close()


def check_statuses(case: Case, replies: list[Reply]) -> None:
    statuses = [reply.status for reply in replies]
    if case.expect:
        assert statuses == case.expect, f"{case.name}: {case.why}"
    else:
        assert len(statuses) == case.extra["count"], statuses
        assert set(statuses) <= set(case.extra["each_in"]), statuses
        assert case.extra["must_include"] in statuses, statuses


#: The edge's own refusals: what went wrong, then (a sentence of its own) what to do.
EDGE_PROBLEMS = {"RefusedAtEdge", "HeadTooLarge", "RequestTimeout", "TooManyConnections"}


def check_refusal(case: Case, replies: list[Reply]) -> None:
    refusals = [reply for reply in replies if reply.status >= 400]
    for reply in refusals:
        assert reply.headers["content-type"] == "application/problem+json"
        if not reply.body:  # an answer to HEAD
            continue
        doc = reply.json()
        assert doc["status"] == reply.status
        assert len(doc["detail"]) > 30
        if doc["error"] in EDGE_PROBLEMS:
            assert ". " in doc["detail"], doc["detail"]
    if case.message:
        assert case.message in refusals[0].json()["detail"]
