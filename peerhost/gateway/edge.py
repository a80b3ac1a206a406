"""The gateway's HTTP edge: what the HTTP server refuses before the app sees a request.

The gateway runs under uvicorn with its httptools protocol (llhttp, in C; ``server.py`` names the
class). :func:`edge_protocol` builds an ``HttpToolsProtocol`` subclass that adds, per connection:

- a check of every parsed request head (:meth:`EdgeProtocol._check_head`, then
  :func:`check_head`): both ``Content-Length`` and ``Transfer-Encoding`` (the request-smuggling
  pattern), a target that is not origin-form (absolute-form, ``CONNECT``, ``*``) or not printable
  ASCII, a path whose percent-decoding is not UTF-8, a version other than HTTP/1.0 and 1.1, a
  transfer coding other than ``chunked``, conflicting ``Content-Length`` values, a missing or
  repeated ``Host``, a fragment in the target, an ``Upgrade`` other than ``websocket`` (llhttp
  would pass the body on as the new protocol's) or a WebSocket upgrade pipelined behind a request
  still being answered: 400; a head larger than ``max_head_bytes``: 431 (checked as the head's
  lines arrive, so an endless head is refused before it ends);
- in a chunked body: trailer fields (400; never added to the headers the app was given), and a
  chunk-size line or trailer running on past ``max_head_bytes`` with no chunk data arriving (431);
- llhttp's own refusals (malformed lines, bad chunk framing, bad ``Content-Length``, an unknown
  method) named by the rule the bytes break: the request is read again by h11
  (:func:`replay_refusal`, on the refusal's path only) and refused exactly as the h11 edge did,
  never echoing the offending bytes (they may hold credentials);
- a head timeout: the whole head must arrive within ``header_timeout`` seconds of the connection
  opening or of the previous response (408);
- a body timeout: the whole body within ``body_timeout`` seconds of its head (408);
- at most ``max_connections_per_client`` open connections per peer address (429). A WebSocket
  upgrade (the job feed, the inbox) gives its slot back: the feed closes unauthenticated sockets
  itself.

Every refusal is an RFC 9457 problem (:mod:`~.problems`) written straight to the socket with
``Connection: close``, and the connection is closed: bytes after a refused head are never parsed
as another request, and nothing reaches the app, so nothing is ticketed or paid. Pipelined
requests read before a refused one are answered first, in order; a queued one whose body is
malformed is never served.

Why llhttp: h11 parses and builds each request and response in Python. With the same edge checks,
server CPU per keep-alive GET 161 -> 70 µs and its round trip's p50 172 -> 91 µs
(``python bench/edge_parsers.py``; docs/performance.md, "uvicorn with httptools instead of h11").
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
import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

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
_INVALID_HINT = "Check the request line and headers."
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
    version = event.http_version.decode("ascii", "replace")
    names = [name for name, _ in event.headers]
    return check_head(event.method, event.target, version, names, size, max_head_bytes)


def check_head(
    method: bytes, target: bytes, version: str, names: list[bytes], size: int, max_head_bytes: int
) -> GatewayError | None:
    """The edge's own checks of a parsed head, or None: its size (``size``: the request line and
    header lines as sent, without the blank line), its version, both framings, the target's form
    and its percent-decoded path. ``names`` are the lower-case names of the framing headers
    (``content-length``, ``transfer-encoding``; others may be there too)."""
    if size > max_head_bytes:  # h11 checks only heads that arrive in pieces
        return HeadTooLarge(max_head_bytes)
    if version not in ("1.0", "1.1"):
        return RefusedAtEdge(f"HTTP/{version} is not served here", "Use HTTP/1.1.")
    if b"transfer-encoding" in names and b"content-length" in names:
        return RefusedAtEdge("the request has both Content-Length and Transfer-Encoding", _FRAMING)
    if method == b"CONNECT" or not target.startswith(b"/"):
        return RefusedAtEdge(
            "the request target is not a path (absolute-form, CONNECT and * are for proxies)",
            "Send the path and query, with the host in the Host header.",
        )
    if b"#" in target:  # never sent by a conforming client (RFC 9112 3.2)
        return RefusedAtEdge(
            "the request target has a fragment (#)", "Send the path and query only."
        )
    if b"%" in target:
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


def _as_h11_would(prefix: str) -> GatewayError:
    """The refusal :func:`refusal_of_h11` gives for h11's message starting with ``prefix``."""
    for known, reason, hint in _H11_REASONS:
        if known == prefix:
            return RefusedAtEdge(reason, hint)
    raise KeyError(prefix)


def replay_refusal(raw: bytes, max_head_bytes: int) -> GatewayError | None:
    """What the h11 edge refused first in ``raw`` (a connection's bytes from a request's start),
    or None when it refuses nothing there.

    llhttp's own refusals name the rule more coarsely than h11's (one message for a repeated and
    for an unknown ``Transfer-Encoding``, none for an unknown method, which h11 accepts as a token
    and refuses for its missing ``Host``): the bytes are parsed again by h11, each request that
    passes answered with an empty 204 in its state machine so that the next one is read. Only on a
    refusal's path, never a served request's."""
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=max_head_bytes)
    conn.receive_data(raw)
    try:
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Request):
                refusal = refuse_head(event, max_head_bytes)
                if refusal is not None:
                    return refusal
            elif isinstance(event, h11.EndOfMessage):
                conn.send(h11.Response(status_code=204, headers=[]))
                conn.send(h11.EndOfMessage())
                conn.start_next_cycle()
            elif not isinstance(event, h11.Data):
                return None  # NEED_DATA, PAUSED, ConnectionClosed
    except h11.RemoteProtocolError as exc:
        return refusal_of_h11(exc, max_head_bytes)
    except h11.LocalProtocolError:
        return None


#: Header names the head check counts (lower case, as uvicorn's ``on_header`` makes them).
_FRAMING_NAMES = frozenset((b"host", b"transfer-encoding", b"content-length"))
#: The request line's printable ASCII (h11's rule for the target; llhttp lets some bytes past).
_TARGET_BYTES = frozenset(range(0x21, 0x7F))


class EdgeProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the edge's checks (module docstring); see
    :func:`edge_protocol`."""

    limits: ClassVar[EdgeLimits] = EdgeLimits()
    slots: ClassVar[ClientSlots] = ClientSlots(0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slot: str | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._lingering: asyncio.TimerHandle | None = None
        self._refusal: GatewayError | None = None  # refused: written once the answers are out
        self._upgraded = False  # the transport now belongs to the WebSocket protocol
        self._head_bytes = False  # bytes of the awaited head arrived
        self._answered = 0  # responses sent on this connection
        self._in_message = False  # between a message's first byte and its end
        self._in_body = False  # between a message's head and its end
        self._begun = 0  # messages begun on this connection
        self._head_size = 0  # the current head's header lines, as sent (name: value CRLF)
        self._head_raw = 0  # bytes of whole reads that fell inside the current, unfinished head
        self._framing: list[tuple[bytes, bytes]] = []  # the current head's _FRAMING_NAMES
        self._body_moved = False  # a body callback fired during the current read
        self._body_stalled = 0  # body bytes read since a body callback last fired
        self._since_start: bytes | None = b""  # read since a request began (None: too many)

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

    def handle_websocket_upgrade(self) -> None:
        self._upgraded = True
        self._release()
        self._cancel_timers()
        super().handle_websocket_upgrade()

    def data_received(self, data: bytes) -> None:
        if self._lingering is not None or self._refusal is not None:
            return  # refused: dropping what still comes
        self._head_bytes = self._head_bytes or self._head_timer is not None
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None
        raw = self._since_start
        if raw is not None:
            raw = raw + data if raw else data
            if len(raw) > self.limits.max_head_bytes + 65536:
                raw = None  # a long body: a refusal there is named by llhttp's message alone
        in_head = self._in_message and not self._in_body
        begun = self._begun
        self._body_moved = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
                return
            self._unsupported_upgrade_warning()
        except httptools.HttpParserError:
            refusal = self._refusal
            if refusal is None and raw is not None:
                refusal = replay_refusal(raw, self.limits.max_head_bytes)
            self._refuse_in_turn(
                refusal or RefusedAtEdge("the request is not valid HTTP/1.1", _INVALID_HINT)
            )
            return
        self._since_start = raw if self._in_message else b""
        if self._in_body and self._begun == begun:  # a chunk line or a trailer still arriving?
            self._body_stalled = 0 if self._body_moved else self._body_stalled + len(data)
            if self._body_stalled > self.limits.max_head_bytes:
                self._refuse_in_turn(HeadTooLarge(self.limits.max_head_bytes))
                return
        if self._in_message and not self._in_body:  # a head still arriving
            if in_head and self._begun == begun:
                self._head_raw += len(data)
            if max(self._head_raw, len(self.url) + self._head_size) > self.limits.max_head_bytes:
                self._refuse_in_turn(HeadTooLarge(self.limits.max_head_bytes))
                return
        self._update_timers()

    # parser callbacks (uvicorn's, with the edge's counts)
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_message = True
        self._begun += 1
        self._head_size = 0
        self._head_raw = 0
        self._framing = []
        self._body_stalled = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._in_body:  # a trailer field: never added to the head the app was given
            self._refusal = RefusedAtEdge(
                "the chunked body has trailer fields", "Send the body without trailer fields."
            )
            raise self._refusal
        name = name.lower()
        self._head_size += len(name) + len(value) + 4
        if name in _FRAMING_NAMES:
            self._framing.append((name, value))
        elif name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._refusal = self._check_head()
        if self._refusal is not None:
            raise self._refusal  # feed_data stops here and raises HttpParserCallbackError
        self._in_body = True
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body_moved = True
        super().on_body(body)

    def on_chunk_header(self) -> None:
        self._body_moved = True

    def on_chunk_complete(self) -> None:
        self._body_moved = True

    def on_message_complete(self) -> None:
        self._in_message = self._in_body = False
        super().on_message_complete()

    def on_response_complete(self) -> None:
        self._answered += 1
        last = not self.pipeline
        super().on_response_complete()
        if self._refusal is not None and last:
            self._refuse(self._refusal)  # the answers before the refused request are out
        self._update_timers()

    def send_400_response(self, msg: str) -> None:
        self._refuse(self._refusal or RefusedAtEdge("the request is not valid HTTP/1.1", msg))

    def _check_head(self) -> GatewayError | None:
        """h11's rules that llhttp does not apply, then :func:`check_head`."""
        target = self.url
        version = self.parser.get_http_version()
        if version == "0.9" or not _TARGET_BYTES.issuperset(target):
            return _as_h11_would("illegal request line")
        hosts = 0
        names = []
        lengths = set()
        for name, value in self._framing:
            names.append(name)
            if name == b"host":
                hosts += 1
            elif name == b"transfer-encoding":
                if names.count(name) > 1:
                    return _as_h11_would("multiple Transfer-Encoding")
                if value.strip(b" \t").lower() != b"chunked":
                    return _as_h11_would("Only Transfer-Encoding: chunked")
            else:
                lengths.add(value.strip(b" \t"))
        if len(lengths) > 1:
            return _as_h11_would("conflicting Content-Length")
        if hosts > 1:
            return _as_h11_would("Found multiple Host")
        if hosts == 0 and version == "1.1":
            return _as_h11_would("Missing mandatory Host")
        method = self.parser.get_method()
        size = len(method) + len(target) + 12 + self._head_size
        refusal = check_head(method, target, version, names, size, self.limits.max_head_bytes)
        # llhttp passes what follows an upgrade's head on as the new protocol's (its body too)
        if refusal is None and self.parser.should_upgrade() and not self._should_upgrade():
            return RefusedAtEdge(
                "the request asks for an Upgrade other than websocket",
                "Send the request without Connection: Upgrade.",
            )
        if refusal is None and self.parser.should_upgrade() and self._responding():
            return RefusedAtEdge(
                "a WebSocket upgrade was pipelined behind a request still being answered",
                "Send the upgrade once the responses before it are read.",
            )
        return refusal

    # refusals
    def _refuse_in_turn(self, exc: GatewayError) -> None:
        """Refuses once the responses to the requests before this one are written (pipelined
        requests are answered in order); nothing read after it is parsed."""
        self._refusal = exc
        self._cancel_timers()
        if self._in_body and self.pipeline and self.pipeline[0][0] is self.cycle:
            self.pipeline.popleft()  # a queued request whose body is malformed: never served
        elif self._in_body or not self._responding():
            self._refuse(exc)  # the request being served (its body), or none in flight

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
    def _responding(self) -> bool:
        """A response of this connection is still to be written (the app is on it)."""
        return bool(self.pipeline) or (self.cycle is not None and not self.cycle.response_complete)

    def _update_timers(self) -> None:
        if self._upgraded:
            return
        if self.transport is None or self.transport.is_closing() or self._lingering is not None:
            self._cancel_timers()
            return
        if self._in_body:
            self._cancel_head()
            if self.pipeline:  # a queued request: its body is read once its turn comes
                self._cancel_body()
            elif self._body_timer is None:
                self._body_timer = self.loop.call_later(
                    self.limits.body_timeout, self._body_timed_out
                )
        elif not self._responding():  # the next head: its clock runs from the last response
            self._cancel_body()
            if self._head_timer is None:
                self._head_bytes = self._in_message  # pipelined, already read
                self._head_timer = self.loop.call_later(
                    self.limits.header_timeout, self._head_timed_out
                )
        else:
            self._cancel_timers()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._upgraded or self._in_body:
            return
        if self._answered and not self._head_bytes:
            self.transport.close()  # an idle keep-alive connection: closed without a word
        else:
            self._refuse_in_turn(RequestTimeout("head", self.limits.header_timeout))

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if not self._upgraded and self._in_body:
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
