"""The fault stack's chain node behind a loopback TCP proxy, so that the node can "restart".

anvil (1.7.1) cannot restart keeping its chain whole: a chain reloaded from a saved state
(``anvil_dumpState`` with ``--load-state``, ``--state``, ``--dump-state``, with or without
``--preserve-historical-states``) keeps its blocks and their hashes, but the EVM's ``BLOCKHASH``
of a restored block answers ``keccak`` of its decimal number, so no header of a block mined
before the restart can be proven again (``HeaderMismatch`` for a batch not seated by then). A
real node keeps its block hashes across a restart. What the gateway and the workers see of a
restart is their connections: every RPC and WebSocket connection drops, new ones are refused
for a while, then the same chain answers again. :class:`ProxiedDevnet` runs anvil on a port of
its own and gives every process of the stack the proxy's URL instead (RPC and WebSocket share
it); :meth:`NodeProxy.drop` closes every connection and the listening socket (a new connection
is refused: nothing listens on the port), :meth:`NodeProxy.accept` listens again on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

from peerhost.devnet.stack import Devnet

#: Bytes read from one side before they are written to the other.
CHUNK = 65536


class NodeProxy:
    """Forwards every TCP connection to ``127.0.0.1:<target>`` from ``127.0.0.1:<port>`` (a free
    port when 0), on an event loop of its own in a daemon thread."""

    def __init__(self, target: int, port: int = 0) -> None:
        self.target = target
        self.port = port
        self.connections = 0  # accepted since the start (a test can see the processes reconnect)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def accepting(self) -> bool:
        return self._server is not None

    def start(self) -> NodeProxy:
        self._thread.start()
        self.accept()
        return self

    def accept(self) -> None:
        """Listens (again) on the proxy's port."""
        self._call(self._listen())

    def drop(self) -> int:
        """Stops listening (a new connection is refused) and closes every open connection, both
        sides at once; returns how many connections were open."""
        return int(self._call(self._drop()))

    def stop(self) -> None:
        if self._thread.is_alive():
            self._call(self._drop())
            self._call(self._cancel_all())  # connections still forwarding end quietly
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._forward, "127.0.0.1", self.port, reuse_address=True
            )
            self.port = self._server.sockets[0].getsockname()[1]

    async def _drop(self) -> int:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        dropped = len(self._open) // 2
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()
        if server is not None:
            await server.wait_closed()
        return dropped

    async def _cancel_all(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.transport.abort()
            return
        if self._server is None:  # dropped while connecting
            writer.transport.abort()
            upstream.transport.abort()
            return
        self.connections += 1
        self._open.update((writer, upstream))
        try:
            await asyncio.gather(_pipe(reader, upstream), _pipe(upstream_reader, writer))
        finally:
            for side in (writer, upstream):
                self._open.discard(side)
                side.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError, RuntimeError):
        if writer.can_write_eof():
            writer.write_eof()


class ProxiedDevnet(Devnet):
    """A :class:`~peerhost.devnet.stack.Devnet` whose processes reach its anvil through a
    :class:`NodeProxy` (``rpc_url`` is the proxy's; ``node_url`` is anvil's own)."""

    proxy: NodeProxy | None = None

    def start_chain(self) -> str:
        super().start_chain()
        assert self.anvil is not None
        self.proxy = NodeProxy(self.anvil.port).start()
        return self.attach(self.proxy.url)

    @property
    def node_url(self) -> str:
        assert self.anvil is not None
        return self.anvil.url

    def stop_chain(self) -> None:
        try:
            super().stop_chain()
        finally:
            if self.proxy is not None:
                self.proxy.stop()
                self.proxy = None
