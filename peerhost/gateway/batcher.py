"""Local signing with local nonces, and sends in JSON-RPC batches.

:class:`~peerhost.chain.sender.TxSender` holds its lock for the whole send round trip, so one
account sends one transaction per round trip (about 20 rps against a tracing anvil). The gateway
signs under its own lock (a millisecond) and hands the signed bytes to a flusher that sends
everything queued meanwhile as one JSON-RPC batch: under load many requests share a round trip,
and with nothing queued a transaction goes out at once, alone.

Transactions reach the node in nonce order (one batch at a time, in queue order).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hexbytes import HexBytes

from peerhost.chain.errors import RpcError
from peerhost.chain.rpc import RpcClient

log = logging.getLogger(__name__)

_FEE_REFRESH_SECONDS = 15.0


class BatchSender:
    """Signs for one account and sends queued transactions in batches.

    Call :meth:`prepare` then :meth:`sign` under the caller's lock (that lock orders nonces),
    then await the future :meth:`sign` returned for the node's verdict.

    Args:
        rpc: The JSON-RPC client.
        private_key: The account's key (never logged).
        chain_id: The chain id to sign for.
        max_batch: Most transactions per batch.
    """

    def __init__(
        self, rpc: RpcClient, private_key: bytes | str, chain_id: int, max_batch: int = 256
    ) -> None:
        self.rpc = rpc
        self._account: LocalAccount = Account.from_key(private_key)
        self.chain_id = chain_id
        self.max_batch = max_batch
        self._nonce: int | None = None
        self._fees: tuple[int, int] | None = None
        self._fees_at = 0.0
        self._queue: list[tuple[bytes, asyncio.Future[bytes]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stale = False
        self.batches = 0
        self.sent = 0

    @property
    def address(self) -> str:
        return str(self._account.address)

    def __repr__(self) -> str:  # never show the key
        return f"BatchSender({self.address})"

    def start(self) -> None:
        self._task = asyncio.create_task(self._flush_loop(), name="gateway-tx-batches")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for _, future in self._queue:
            future.cancel()
        self._queue.clear()

    async def prepare(self) -> None:
        """Makes sure the nonce and fees are known (reads the node only when they are not)."""
        if self._stale and not self._queue:
            self._nonce = None  # a send failed: re-read the node's count once the queue drained
            self._stale = False
        if self._nonce is None:
            self._nonce = int(
                await self.rpc.call("eth_getTransactionCount", [self.address, "pending"]), 16
            )
        now = time.monotonic()
        if self._fees is None or now - self._fees_at > _FEE_REFRESH_SECONDS:
            block = await self.rpc.call("eth_getBlockByNumber", ["latest", False])
            base = int(block.get("baseFeePerGas") or "0x0", 16)
            tip = 10**9 if base else 0
            self._fees = (2 * base + tip, tip)
            self._fees_at = now

    def sign(
        self, to: str, data: bytes, *, gas: int, value: int = 0
    ) -> tuple[bytes, asyncio.Future[bytes]]:
        """Signs with the next nonce and queues it; returns (tx hash, future of the send)."""
        assert self._nonce is not None and self._fees is not None, "prepare() first"
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": self._nonce,
            "to": to_checksum_address(to),
            "value": value,
            "data": data,
            "gas": gas,
            "maxFeePerGas": self._fees[0],
            "maxPriorityFeePerGas": self._fees[1],
        }
        signed = self._account.sign_transaction(tx)
        self._nonce += 1
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._queue.append((bytes(signed.raw_transaction), future))
        self._wake.set()
        return bytes(signed.hash), future

    async def _flush_loop(self) -> None:
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                await self._send(batch)
            except Exception as exc:  # never let the flusher die: fail this batch, go on
                log.exception("sending a batch failed")
                self._failed(f"batch of {len(batch)}", exc)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)

    async def _send(self, batch: list[tuple[bytes, asyncio.Future[bytes]]]) -> None:
        calls = [("eth_sendRawTransaction", [HexBytes(raw).to_0x_hex()]) for raw, _ in batch]
        try:
            results = await self.rpc.batch(calls)
        except Exception as exc:  # ChainUnavailable, or a node that mangled the batch
            self._failed(f"batch of {len(batch)}", exc)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.batches += 1
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, RpcError):
                self._failed("transaction", result)
                future.set_exception(result)
            else:
                self.sent += 1
                future.set_result(bytes(HexBytes(result)))

    def _failed(self, what: str, exc: BaseException) -> None:
        log.warning("send of %s failed (%s); the nonce will be re-read", what, exc)
        self._stale = True
        self._fees = None
