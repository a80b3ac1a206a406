"""A hostile job-feed server for the worker-side corpus: it speaks the feed's framing (a challenge,
then the worker's hello) and then sends whatever a test tells it to, recording what the worker
sends back and how each connection ended. It runs its own event loop on a thread, so the tests
drive it with plain calls."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
import time
from typing import Any

import websockets
from websockets.asyncio.server import Server, ServerConnection, serve

from peerhost.wire.feed import (
    Challenge,
    FeedMessageError,
    Hello,
    Message,
    address_of,
    decode_message,
    encode_message,
    hello_digest,
    recover_digest,
)


class HostileGateway:
    """A feed server signing its challenge as ``key``'s address.

    Args:
        key: The private key whose address the challenge names (the address tickets must name).
        chain_id: Put in the challenge.
    """

    def __init__(self, key: bytes, chain_id: int) -> None:
        self.key = key
        self.address = address_of(key)
        self.chain_id = chain_id
        self.replies: queue.Queue[Message | str] = queue.Queue()
        self.sessions = 0  # hellos verified
        self.closes: list[int | None] = []  # close codes of ended sessions, in order
        self.first: str | None = None  # sent instead of the challenge on the next connection
        self._socket: ServerConnection | None = None
        self._loop = asyncio.new_event_loop()
        self._server: Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._changed = threading.Condition()

    def start(self) -> str:
        """Starts serving on a free loopback port; returns its base URL."""
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(10)
        port: int = next(iter(self._server.sockets)).getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _serve(self) -> Server:
        return await serve(self._session, "127.0.0.1", 0, max_size=None, compression=None)

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._server.wait_closed(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _session(self, socket: ServerConnection) -> None:
        first, self.first = self.first, None
        try:
            if first is not None:
                await socket.send(first)
            nonce = os.urandom(32)
            await socket.send(encode_message(Challenge(self.address, self.chain_id, nonce)))
            hello = decode_message(await asyncio.wait_for(socket.recv(), 30))
            if not isinstance(hello, Hello) or hello.nonce != nonce:
                return
            if recover_digest(hello_digest(self.address, nonce), hello.signature) != hello.worker:
                return
            with self._changed:
                self._socket = socket
                self.sessions += 1
                self._changed.notify_all()
            async for text in socket:
                try:
                    self.replies.put(decode_message(text))
                except FeedMessageError as exc:
                    self.replies.put(f"undecodable: {exc}")
        except (websockets.ConnectionClosed, TimeoutError, FeedMessageError):
            pass
        finally:
            with self._changed:
                if self._socket is socket:
                    self._socket = None
                self.closes.append(socket.close_code)
                self._changed.notify_all()

    def wait_session(self, count: int, timeout: float = 60.0) -> None:
        """Waits until ``count`` sessions were opened in all and one is open now."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.sessions < count or self._socket is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no feed session {count} after {timeout:.0f} s")
                self._changed.wait(left)

    def drop(self) -> None:
        """Closes the open session from this end (the worker links again)."""
        socket = self._socket
        assert socket is not None, "no worker is connected"
        asyncio.run_coroutine_threadsafe(socket.close(1001, "going away"), self._loop).result(30)

    def send(self, data: str | bytes) -> None:
        """Sends one message (text or binary) on the open session."""
        socket = self._socket
        assert socket is not None, "no worker is connected"
        with contextlib.suppress(websockets.ConnectionClosed):
            asyncio.run_coroutine_threadsafe(socket.send(data), self._loop).result(30)

    def collect(self, count: int, timeout: float) -> list[Message | str]:
        """The next ``count`` replies (fewer when ``timeout`` passes first)."""
        got: list[Message | str] = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                got.append(self.replies.get(timeout=left))
            except queue.Empty:
                break
        return got

    def drain(self) -> list[Any]:
        """Replies received so far and not collected."""
        got: list[Any] = []
        while True:
            try:
                got.append(self.replies.get_nowait())
            except queue.Empty:
                return got
