"""The gateway's HTTP edge: what the HTTP server refuses before the app sees a request.

The gateway runs under uvicorn with its h11 protocol (``server.py`` names the class, so an
installed httptools never replaces it). :func:`edge_protocol` builds an ``H11Protocol`` subclass
that adds, per connection:

- a check of every parsed request head (:func:`refuse_head`): both ``Content-Length`` and
  ``Transfer-Encoding`` (the request-smuggling pattern), a target that is not origin-form
  (absolute-form, ``CONNECT``, ``*``), a path whose percent-decoding is not UTF-8, a version
  other than HTTP/1.0 and 1.1: 400;
- h11's own refusals (malformed lines, a transfer coding other than ``chunked``, a bad or
  conflicting ``Content-Length``, a missing or repeated ``Host``) as the same problem body instead
  of uvicorn's bare text, never echoing the offending bytes (they may hold credentials); a head
  larger than ``max_head_bytes``: 431;
- a head timeout: the whole head must arrive within ``header_timeout`` seconds of the connection
  opening or of the previous response (408);
- a body timeout: the whole body within ``body_timeout`` seconds of its head (408);
- at most ``max_connections_per_client`` open connections per peer address (429). A WebSocket
  upgrade (the job feed) gives its slot back: the feed closes unauthenticated sockets itself.

Every refusal is an RFC 9457 problem (:mod:`~.problems`) written straight to the socket with
``Connection: close``, and the connection is closed: bytes after a refused head are never parsed
as another request, and nothing reaches the app, so nothing is ticketed or paid.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar, cast
from urllib.parse import unquote_to_bytes

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from peerhost.gateway.errors import (
    GatewayError,
    HeadTooLarge,
    RefusedAtEdge,
    RequestTimeout,
    TooManyConnections,
)
from peerhost.gateway.problems import problem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EdgeLimits:
    """The edge's limits (the gateway settings of the same names).

    Attributes:
        header_timeout: Seconds for a request's whole head to arrive.
        body_timeout: Seconds for a request's whole body to arrive after its head.
        max_connections_per_client: Open connections per peer address (0: no cap).
        max_head_bytes: Request line plus headers, as read off the socket.
    """

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections_per_client: int = 32
    max_head_bytes: int = 16 * 1024


_FRAMING = "Send either Content-Length or Transfer-Encoding: chunked, never both."
#: Seconds a refused connection keeps reading (and dropping) what the client still sends, after
#: the refusal is written and the write side shut: closing at once with unread bytes would reset
#: the connection and the client could lose the refusal.
LINGER = 1.0

#: h11's refusal messages (by prefix) → (reason, what to do). Its messages quote the offending
#: line, so they are never passed on as they are.
_H11_REASONS: list[tuple[str, str, str]] = [
    (
        "Only Transfer-Encoding: chunked",
        "the only transfer coding accepted is chunked",
        "Send Transfer-Encoding: chunked or a Content-Length.",
    ),
    (
        "multiple Transfer-Encoding",
        "the request repeats Transfer-Encoding",
        "Send one Transfer-Encoding: chunked header.",
    ),
    (
        "conflicting Content-Length",
        "the request has Content-Length headers that disagree",
        "Send one Content-Length.",
    ),
    ("bad Content-Length", "Content-Length is not a number", "Send the body's length in bytes."),
    ("Found multiple Host", "the request repeats Host", "Send one Host header."),
    ("Missing mandatory Host", "an HTTP/1.1 request needs a Host header", "Add one."),
    (
        "illegal request line",
        "the request line is not METHOD SP target SP HTTP/1.x with a printable-ASCII target",
        "Percent-encode the path (UTF-8) and query.",
    ),
    (
        "illegal header line",
        "a header line is not name: value (a name with spaces or symbols, or a control "
        "character in a value)",
        "Fix the header.",
    ),
    (
        "illegal chunk",
        "the chunked body is malformed",
        "Frame each chunk as hex-size CRLF data CRLF, ending with 0 CRLF CRLF.",
    ),
]


def refusal_of_h11(exc: h11.RemoteProtocolError, max_head_bytes: int) -> GatewayError:
    """The edge's own error for one of h11's refusals (never quoting the request)."""
    text = str(exc)
    if exc.error_status_hint == 431 or text.startswith("Receive buffer too long"):
        return HeadTooLarge(max_head_bytes)
    for prefix, reason, hint in _H11_REASONS:
        if text.startswith(prefix):
            return RefusedAtEdge(reason, hint)
    return RefusedAtEdge("the request is not valid HTTP/1.1", "Check the request line and headers.")


def refuse_head(event: h11.Request, max_head_bytes: int) -> GatewayError | None:
    """What is wrong with a head h11 accepted, or None (module docstring)."""
    size = len(event.method) + len(event.target) + 12
    size += sum(len(name) + len(value) + 4 for name, value in event.headers.raw_items())
    if size > max_head_bytes:  # h11 checks only heads that arrive in pieces
        return HeadTooLarge(max_head_bytes)
    if event.http_version not in (b"1.0", b"1.1"):
        return RefusedAtEdge(
            f"HTTP/{event.http_version.decode('ascii', 'replace')} is not served here",
            "Use HTTP/1.1.",
        )
    names = {name for name, _ in event.headers}
    if b"transfer-encoding" in names and b"content-length" in names:
        return RefusedAtEdge("the request has both Content-Length and Transfer-Encoding", _FRAMING)
    target = event.target
    if event.method == b"CONNECT" or not target.startswith(b"/"):
        return RefusedAtEdge(
            "the request target is not a path (absolute-form, CONNECT and * are for proxies)",
            "Send the path and query, with the host in the Host header.",
        )
    try:
        unquote_to_bytes(target.partition(b"?")[0]).decode("utf-8")
    except UnicodeDecodeError:
        return RefusedAtEdge(
            "the path is not UTF-8 once percent-decoded", "Percent-encode UTF-8 bytes only."
        )
    return None


def problem_bytes(exc: GatewayError) -> bytes:
    """``exc`` as a whole HTTP/1.1 response that closes the connection."""
    response = problem(exc)
    status = response.status_code
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + bytes(response.body)


class ClientSlots:
    """Open connections per peer address, capped at ``limit`` (0: no cap)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: Counter[str] = Counter()

    def take(self, client: str) -> bool:
        if self.limit and self.open[client] >= self.limit:
            return False
        self.open[client] += 1
        return True

    def release(self, client: str) -> None:
        self.open[client] -= 1
        if self.open[client] <= 0:
            del self.open[client]


class _EdgeConnection(h11.Connection):
    """h11's server connection, refusing heads :func:`refuse_head` objects to."""

    def __init__(self, max_head_bytes: int) -> None:
        super().__init__(h11.SERVER, max_incomplete_event_size=max_head_bytes)
        self.max_head_bytes = max_head_bytes
        self.refusal: GatewayError | None = None

    def next_event(self) -> Any:
        try:
            event = super().next_event()
        except h11.RemoteProtocolError as exc:
            self.refusal = refusal_of_h11(exc, self.max_head_bytes)
            raise
        if isinstance(event, h11.Request):
            self.refusal = refuse_head(event, self.max_head_bytes)
            if self.refusal is not None:
                raise h11.RemoteProtocolError(str(self.refusal), 400)
        return event


class EdgeProtocol(H11Protocol):
    """uvicorn's h11 protocol with the edge's checks (module docstring); see :func:`edge_protocol`."""

    limits: ClassVar[EdgeLimits] = EdgeLimits()
    slots: ClassVar[ClientSlots] = ClientSlots(0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn: _EdgeConnection = _EdgeConnection(self.limits.max_head_bytes)
        self._slot: str | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._lingering: asyncio.TimerHandle | None = None
        self._upgraded = False  # the transport now belongs to the WebSocket protocol
        self._head_bytes = False  # bytes of the awaited head arrived
        self._answered = 0  # responses sent on this connection

    # connection life
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        client = self.client[0] if self.client else "unknown"
        if not self.slots.take(client):
            self._refuse(TooManyConnections(client, self.slots.limit))
            return
        self._slot = client
        self._update_timers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._release()
        self._cancel_timers()
        if self._lingering is not None:
            self._lingering.cancel()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._upgraded = True
        self._release()
        self._cancel_timers()
        super().handle_websocket_upgrade(event)

    def data_received(self, data: bytes) -> None:
        if self._lingering is None:  # else: refused, dropping what still comes
            self._head_bytes = self._head_bytes or self._head_timer is not None
            super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        self._update_timers()

    def on_response_complete(self) -> None:
        self._answered += 1
        super().on_response_complete()
        self._update_timers()

    def send_400_response(self, msg: str) -> None:
        self._refuse(self.conn.refusal or RefusedAtEdge("the request is not valid HTTP/1.1", msg))

    # refusals
    def _refuse(self, exc: GatewayError) -> None:
        self._cancel_timers()
        if self.transport.is_closing() or self._lingering is not None:
            return
        log.warning("edge: refused a request from %s: %s", self._peer(), exc)
        if self.cycle is None or self.cycle.response_complete or not self.cycle.response_started:
            self.transport.write(problem_bytes(exc))
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self._lingering = self.loop.call_later(LINGER, self.transport.close)

    def _peer(self) -> str:
        return self.client[0] if self.client else "unknown"

    def _release(self) -> None:
        if self._slot is not None:
            self.slots.release(self._slot)
            self._slot = None

    # timeouts
    def _update_timers(self) -> None:
        if self._upgraded:
            return
        if self.transport is None or self.transport.is_closing() or self._lingering is not None:
            self._cancel_timers()
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            self._cancel_body()
            if self._head_timer is None:
                self._head_bytes = bool(self.conn.trailing_data[0])  # pipelined, already read
                self._head_timer = self.loop.call_later(
                    self.limits.header_timeout, self._head_timed_out
                )
        elif state is h11.SEND_BODY:
            self._cancel_head()
            if self._body_timer is None:
                self._body_timer = self.loop.call_later(
                    self.limits.body_timeout, self._body_timed_out
                )
        else:
            self._cancel_timers()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._upgraded or self.conn.their_state is not h11.IDLE:
            return
        if self._answered and not self._head_bytes:
            self.transport.close()  # an idle keep-alive connection: closed without a word
        else:
            self._refuse(RequestTimeout("head", self.limits.header_timeout))

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if not self._upgraded and self.conn.their_state is h11.SEND_BODY:
            self._refuse(RequestTimeout("body", self.limits.body_timeout))

    def _cancel_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_body(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_head()
        self._cancel_body()


def edge_protocol(limits: EdgeLimits) -> type[EdgeProtocol]:
    """An :class:`EdgeProtocol` class bound to ``limits`` and one per-address connection count
    (uvicorn's ``http=`` takes a class)."""
    attrs = {"limits": limits, "slots": ClientSlots(limits.max_connections_per_client)}
    return cast(type[EdgeProtocol], type("EdgeProtocol", (EdgeProtocol,), attrs))
