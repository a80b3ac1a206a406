"""Sending the worker's transactions through network trouble, and timing every RPC.

A transaction is retried when the node could not be reached, did not take it or did not mine
it in time (the local nonce is resynchronised with the node's pending count); a revert is raised
as TransactionReverted with the decoded custom error, so callers decide what it means
(AlreadyCommitted after a retry is success).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from peerhost.chain import ChainUnavailable, Protocol, RpcError
from peerhost.worker import logs
from peerhost.worker.metrics import Metrics
from peerhost.worker.receipts import ReceiptBatcher

T = TypeVar("T")


class ChainOps:
    """The node's protocol handle with retries and RPC timing."""

    def __init__(self, protocol: Protocol, metrics: Metrics, attempts: int = 30) -> None:
        self.protocol = protocol
        self.metrics = metrics
        self.attempts = attempts
        self.receipts = ReceiptBatcher(protocol.rpc)

    async def read(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        """A view call, retried while the node is unreachable."""
        delay = 0.1
        for attempt in range(self.attempts):
            started = time.perf_counter()
            try:
                return await call()
            except ChainUnavailable:
                if attempt == self.attempts - 1:
                    raise
                logs.debug("rpc_retry", what=what, attempt=attempt + 1)
            finally:
                self.metrics.spent("rpc", time.perf_counter() - started)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")

    async def transact(
        self, send: Callable[[], Awaitable[bytes]], what: str, timeout: float = 60.0
    ) -> dict[str, Any]:
        """Sends a transaction and waits for its receipt; raises TransactionReverted on revert.

        Time spent is booked as ``rpc`` (signing and sending) and ``inclusion`` (waiting for the
        node to mine it)."""
        delay = 0.1
        for attempt in range(self.attempts):
            started = time.perf_counter()
            try:
                tx_hash = await send()
                sent = time.perf_counter()
                self.metrics.spent("rpc", sent - started)
                receipt = await self.receipts.wait(tx_hash, timeout=timeout)
                self.metrics.spent("inclusion", time.perf_counter() - sent)
                return await self.protocol.check_receipt(receipt, what)
            except (ChainUnavailable, RpcError, TimeoutError) as exc:
                if attempt == self.attempts - 1:
                    raise
                logs.warning("tx_retry", what=what, attempt=attempt + 1, reason=str(exc))
                # not taken, or not mined (a reorg dropped it, or it waits behind a nonce that
                # will never mine): the next send re-reads the node's pending count
                if isinstance(exc, RpcError | TimeoutError) and self.protocol.sender is not None:
                    await self.protocol.sender.resync()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")
