"""A small asynchronous JSON-RPC client over httpx: one HTTP round trip per call."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter
from typing import Any

import httpx

from peerhost.chain.errors import ChainUnavailable, RpcError, shown_url

#: RPC URLs that carry more than scheme://host:port (a provider's key, maybe), as shown
_HIDDEN: dict[str, str] = {}


class _HideRpcUrls(logging.Filter):
    """Shows an RPC URL in httpx's request lines (INFO) as :func:`shown_url` does."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _HIDDEN and isinstance(record.args, tuple):
            record.args = tuple(
                _HIDDEN.get(str(arg), arg) if isinstance(arg, httpx.URL) else arg
                for arg in record.args
            )
        return True


def _hide(url: str) -> None:
    shown = shown_url(url)
    if shown != url and url not in _HIDDEN:
        if not _HIDDEN:
            logging.getLogger("httpx").addFilter(_HideRpcUrls())
        _HIDDEN[url] = _HIDDEN[str(httpx.URL(url))] = shown  # (as given, and as httpx prints it)


class RpcClient:
    """JSON-RPC over HTTP with a pooled keep-alive connection.

    At most ``max_connections`` calls are in flight; further callers wait on a semaphore
    rather than in httpcore's pool queue, whose bookkeeping grows with the square of the queue
    (a worker with hundreds of jobs in flight spent most of its CPU there).

    Args:
        url: The node's HTTP endpoint.
        timeout: Seconds per call.
        max_connections: Concurrent calls (and pooled connections).
    """

    def __init__(self, url: str, timeout: float = 10.0, max_connections: int = 32) -> None:
        self.url = url
        _hide(url)  # httpx logs each request's URL
        self.errors = 0  # calls that failed (node unreachable or an error answer), for metrics
        self.requests = 0  # HTTP round trips (a JSON-RPC batch is one), for metrics
        self.calls: Counter[str] = Counter()  # JSON-RPC calls by method, for metrics
        self._ids = itertools.count(1)
        self._slots = asyncio.Semaphore(max_connections)
        self._client = httpx.AsyncClient(
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    async def _post(self, payload: Any) -> httpx.Response:
        self.requests += 1
        async with self._slots:
            try:
                return await self._client.post(self.url, json=payload)
            except httpx.TransportError as exc:
                self.errors += 1
                raise ChainUnavailable(self.url, type(exc).__name__) from exc

    async def call(self, method: str, params: list[Any] | None = None) -> Any:
        """Calls ``method`` and returns its result; raises RpcError or ChainUnavailable."""
        self.calls[method] += 1
        payload = {
            "jsonrpc": "2.0",
            "id": next(self._ids),
            "method": method,
            "params": params or [],
        }
        response = await self._post(payload)
        if response.status_code != 200:
            self.errors += 1
            raise ChainUnavailable(self.url, f"HTTP {response.status_code}")
        body = response.json()
        if "error" in body:
            self.errors += 1
            raise _rpc_error(method, body["error"])
        return body["result"]

    async def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Sends several calls in one HTTP request; returns results (or RpcError instances) in order."""
        self.calls.update(m for m, _ in calls)
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)
        ]
        response = await self._post(payload)
        by_id = {item["id"]: item for item in response.json()}
        out: list[Any] = []
        for i, (method, _) in enumerate(calls):
            item = by_id[i]
            if "error" in item:
                out.append(_rpc_error(method, item["error"]))
            else:
                out.append(item["result"])
        return out

    async def aclose(self) -> None:
        await self._client.aclose()


def _rpc_error(method: str, err: dict[str, Any]) -> RpcError:
    """The node's JSON-RPC error, with its revert data when it gave any (a batch's entries too:
    a reverted ``eth_call`` in a batch names its custom error like a lone one)."""
    data = err.get("data")
    if isinstance(data, dict):
        data = data.get("data")
    return RpcError(method, int(err.get("code", 0)), str(err.get("message", "")), data)
