"""The job feed's worker end: one WebSocket per gateway this worker serves.

Each connection answers the gateway's challenge with a signed hello, then runs every job offer it
receives (concurrently, bounded by ``concurrency``) and sends back an answer or a refusal. A
connection that drops, or cannot be opened, is retried with exponential backoff (0.2 s doubling
to 5 s, reset once a connection was accepted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed  # not websockets.X: a lazy import per use

from peerhost.stagetrace import StageTrace
from peerhost.wire.feed import (
    FEED_PATH,
    Answer,
    Challenge,
    Cosignature,
    CosignRequest,
    FeedMessageError,
    Hello,
    JobOffer,
    Refusal,
    decode_message,
    encode_message,
    hello_digest,
    sign_digest,
)
from peerhost.wire.ticket import ticket_hash

log = logging.getLogger(__name__)

Handler = Callable[[JobOffer, str], Awaitable[Answer | Refusal]]
CosignHandler = Callable[[CosignRequest, str], Cosignature | None]

_BACKOFF_START = 0.2
_BACKOFF_MAX = 5.0


def trace_key(offer: JobOffer) -> bytes:
    """How a traced ticket is known on this worker: its hash (the gateway's response names it)."""
    return ticket_hash(offer.ticket)


def feed_url(gateway_url: str) -> str:
    """``ws://host:port/_feed`` from a gateway's base URL (http, https, ws or wss)."""
    url = gateway_url.rstrip("/")
    for http, ws in (("http://", "ws://"), ("https://", "wss://")):
        if url.startswith(http):
            url = ws + url[len(http) :]
    return url if url.endswith(FEED_PATH) else url + FEED_PATH


class FeedClient:
    """Holds the feed to one gateway until :meth:`stop`.

    Args:
        url: The gateway's base or feed URL.
        address: This worker's address.
        private_key: Signs the hello.
        handler: Runs an offer; gets the gateway address the connection authenticated.
        concurrency: Offers run at once on this connection.
        expect_gateway: Refuse the session unless the gateway's challenge names this address
            (a discovered URL must lead to the gateway that announced it).
        cosign: Answers the gateway's requests to co-sign a posted batch (None: never co-signs).
        trace: Marks each offer's arrival and its reply's departure (keyed by the ticket's
            hash; None: not traced).
    """

    def __init__(
        self,
        url: str,
        address: str,
        private_key: bytes,
        handler: Handler,
        concurrency: int = 4,
        expect_gateway: str | None = None,
        cosign: CosignHandler | None = None,
        trace: StageTrace | None = None,
    ) -> None:
        self.cosign = cosign
        self.trace = trace
        self.base_url = url.rstrip("/")
        self.url = feed_url(url)
        self.expect_gateway = expect_gateway
        self.address = address
        self._key = private_key
        self.handler = handler
        self.concurrency = concurrency
        self.connected = asyncio.Event()
        self.connections = 0
        self.gateway = ""
        self._stopping = False
        self._socket: ClientConnection | None = None

    async def run(self) -> None:
        backoff = _BACKOFF_START
        while not self._stopping:
            try:
                # no permessage-deflate: offers and answers are small, and compressing each
                # costs both ends CPU on every ticket's critical path
                async with connect(
                    self.url, max_size=2**22, open_timeout=5, compression=None
                ) as socket:
                    self._socket = socket
                    await self._session(socket)
                    backoff = _BACKOFF_START
            except (OSError, TimeoutError, websockets.WebSocketException, FeedMessageError) as exc:
                if not self._stopping:
                    log.info("feed %s: %s; retrying in %.1f s", self.url, exc, backoff)
            finally:
                self._socket = None
                self.connected.clear()
            if self._stopping:
                return
            await asyncio.sleep(backoff)
            backoff = min(_BACKOFF_MAX, backoff * 2)

    async def _session(self, socket: ClientConnection) -> None:
        challenge = decode_message(await asyncio.wait_for(socket.recv(), 10))
        if not isinstance(challenge, Challenge):
            raise FeedMessageError("expected the gateway's challenge first")
        if self.expect_gateway and challenge.gateway.lower() != self.expect_gateway.lower():
            raise FeedMessageError(
                f"gateway {challenge.gateway} answered, not {self.expect_gateway} that announced"
                " this URL"
            )
        signature = sign_digest(self._key, hello_digest(challenge.gateway, challenge.nonce))
        await socket.send(encode_message(Hello(self.address, challenge.nonce, signature)))
        self.gateway = challenge.gateway
        self.connections += 1
        self.connected.set()
        log.info("feed %s: connected to gateway %s", self.url, challenge.gateway)
        limit = asyncio.Semaphore(self.concurrency)
        tasks: set[asyncio.Task[None]] = set()
        trace = self.trace

        async def work(offer: JobOffer) -> None:
            async with limit:
                reply = await self.handler(offer, challenge.gateway)
            with contextlib.suppress(ConnectionClosed):
                await socket.send(encode_message(reply))
            if trace is not None:
                trace.mark(trace_key(offer), "sent")

        try:
            async for text in socket:
                arrived = time.monotonic_ns() if trace is not None else 0
                try:
                    message = decode_message(text)
                except FeedMessageError as exc:
                    log.warning("feed %s: bad message: %s", self.url, exc)
                    continue
                if isinstance(message, JobOffer):
                    if trace is not None:
                        trace.mark(trace_key(message), "frame", arrived)
                        trace.mark(trace_key(message), "decoded")
                    task = asyncio.create_task(work(message))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                elif isinstance(message, CosignRequest) and self.cosign is not None:
                    cosigned = self.cosign(message, challenge.gateway)
                    if cosigned is not None:
                        with contextlib.suppress(ConnectionClosed):
                            await socket.send(encode_message(cosigned))
        finally:
            for task in tasks:
                task.cancel()

    async def stop(self) -> None:
        self._stopping = True
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close()
