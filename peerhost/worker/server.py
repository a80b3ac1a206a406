"""The metrics endpoint: a tiny HTTP/1.1 server on asyncio streams (``GET /metrics``, ``/health``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any


class MetricsServer:
    """Serves ``snapshot()`` as JSON at ``/metrics`` and ``{"ok": true}`` at ``/health``.

    Args:
        snapshot: Returns the metrics document.
        host: Address to bind.
        port: Port to bind (0: any free one; see :attr:`url` after :meth:`start`).
    """

    def __init__(self, snapshot: Callable[[], dict[str, Any]], host: str, port: int) -> None:
        self.snapshot = snapshot
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass
            parts = request_line.decode("latin-1").split()
            method, path = (parts[0], parts[1].split("?")[0]) if len(parts) >= 2 else ("", "")
            body: dict[str, Any]
            if method != "GET":
                status, body = "405 Method Not Allowed", {"error": "use GET"}
            elif path == "/metrics":
                status, body = "200 OK", self.snapshot()
            elif path == "/health":
                status, body = "200 OK", {"ok": True}
            else:
                status, body = "404 Not Found", {"error": "try /metrics"}
            payload = json.dumps(body, sort_keys=True).encode()
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
