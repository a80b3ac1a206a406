"""Receipts of many transactions in flight, fetched with one batched JSON-RPC call per tick.

Polling each receipt on its own costs one request per transaction every tick; with dozens of
jobs committing and revealing at once that floods the node. The batcher polls every pending hash
in a single request and wakes each waiter when its receipt appears.

Given the process's :class:`~peerhost.chain.heads.HeadWatcher` (:attr:`ReceiptBatcher.heads`)
while the node pushes heads, the receipts are read again only once a new block came (a receipt
exists only from the block that mined it), at least every ``idle`` seconds; else every
``interval`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from hexbytes import HexBytes

from peerhost.chain import ChainUnavailable, RpcClient, RpcError
from peerhost.chain.heads import HeadWatcher


class ReceiptBatcher:
    """Waits for receipts, reading all pending ones together once per new head (module
    docstring), or every ``interval`` seconds where no head is pushed."""

    def __init__(
        self,
        rpc: RpcClient,
        interval: float = 0.02,
        *,
        heads: HeadWatcher | None = None,
        idle: float = 1.0,
    ) -> None:
        self.rpc = rpc
        self.interval = interval
        self.heads = heads
        self.idle = idle
        self.reads = 0  # batched receipt reads (for tests and metrics)
        self._waiting: dict[str, list[asyncio.Future[dict[str, Any]]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def wait(self, tx_hash: bytes, timeout: float = 60.0) -> dict[str, Any]:
        """The receipt of ``tx_hash``; raises TimeoutError after ``timeout`` seconds."""
        key = HexBytes(tx_hash).to_0x_hex()
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll(), name="receipts")
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(f"transaction {key} not mined after {timeout:.0f} s") from None
        finally:
            waiters = self._waiting.get(key)
            if waiters is not None and future in waiters:
                waiters.remove(future)
                if not waiters:
                    del self._waiting[key]

    async def _poll(self) -> None:
        while self._waiting:
            heads = self.heads if self.heads is not None and self.heads.live else None
            seen = heads.head.hash if heads is not None and heads.head is not None else None
            hashes = list(self._waiting)
            self.reads += 1
            try:
                results = await self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
            except (ChainUnavailable, ValueError, KeyError):
                results = [None] * len(hashes)
            for key, receipt in zip(hashes, results, strict=True):
                if receipt is None or isinstance(receipt, RpcError):
                    continue
                for future in self._waiting.pop(key, []):
                    if not future.done():
                        future.set_result(dict(receipt))
            if not self._waiting:
                break
            if heads is not None and seen is not None:  # the head before this read: a block since?
                try:
                    await heads.next(seen, self.idle)
                except (ChainUnavailable, RpcError, OSError, ValueError, KeyError):
                    # a failed head read must not end the loop: the waiters would hang
                    await asyncio.sleep(self.interval)
            else:
                await asyncio.sleep(self.interval)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
