"""The metrics endpoint: a tiny HTTP/1.1 server on asyncio streams.

``GET /metrics`` (Prometheus text format), ``/metrics.json`` (the same figures as one JSON
document), ``/health`` and, when the worker traces its tickets' stages, ``/trace.json``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from peerhost.metrics import CONTENT_TYPE


class MetricsServer:
    """Serves ``exposition()`` at ``/metrics``, ``snapshot()`` as JSON at ``/metrics.json`` and
    ``{"ok": true}`` at ``/health``.

    Args:
        snapshot: Returns the metrics document.
        host: Address to bind.
        port: Port to bind (0: any free one; see :attr:`url` after :meth:`start`).
        exposition: Returns the Prometheus text (without it ``/metrics`` serves the JSON).
        trace: Returns the traced tickets' stage marks (``/trace.json``; None: not served).
    """

    def __init__(
        self,
        snapshot: Callable[[], dict[str, Any]],
        host: str,
        port: int,
        exposition: Callable[[], bytes] | None = None,
        trace: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.trace = trace
        self.exposition = exposition
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
            content_type, payload = "application/json", b""
            if method != "GET":
                status, payload = "405 Method Not Allowed", _json({"error": "use GET"})
            elif path == "/metrics" and self.exposition is not None:
                status, content_type, payload = "200 OK", CONTENT_TYPE, self.exposition()
            elif path in ("/metrics", "/metrics.json"):
                status, payload = "200 OK", _json(self.snapshot())
            elif path == "/trace.json" and self.trace is not None:
                status, payload = "200 OK", _json(self.trace())
            elif path == "/health":
                status, payload = "200 OK", _json({"ok": True})
            else:
                status, payload = "404 Not Found", _json({"error": "try /metrics or /metrics.json"})
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True).encode()
