"""Sends in JSON-RPC batches, signed locally (see :mod:`peerhost.chain.signer`).

:class:`~peerhost.chain.sender.TxSender` holds its lock for the whole send round trip, so one
account sends one transaction per round trip (about 20 rps against a tracing anvil). The gateway
signs under its own lock (a millisecond) and hands the signed bytes to a flusher that sends
everything queued meanwhile as one JSON-RPC batch: under load many requests share a round trip,
and with nothing queued a transaction goes out at once, alone.

Transactions reach the node in nonce order (one batch at a time, in queue order).

The last signed transactions are kept (by nonce): :meth:`BatchSender.heal` sends again, byte for
byte, those the chain and the node's pool lost (a reorg dropped their block). The same bytes carry
the same nonce, so a transaction sent again can be mined at most once, and the ones signed after it
are no longer stuck behind its nonce.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hexbytes import HexBytes

from peerhost.chain.errors import RpcError
from peerhost.chain.rpc import RpcClient
from peerhost.chain.signer import TxSigner

log = logging.getLogger(__name__)

_KEPT = 256  # signed transactions kept to be sent again if a reorg drops them


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
        self.signer = TxSigner(rpc, private_key, chain_id)
        self.chain_id = chain_id
        self.max_batch = max_batch
        self._queue: list[tuple[bytes, asyncio.Future[bytes]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stale = False
        self._kept: dict[int, tuple[bytes, bytes]] = {}  # nonce -> (hash, raw): sent again if lost
        self.resent = 0
        self.batches = 0
        self.sent = 0

    @property
    def address(self) -> str:
        return self.signer.address

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
            self.signer.forget_nonce()  # a send failed: re-read the node's count once drained
            self._stale = False
        await self.signer.load_nonce()
        await self.signer.fees()

    def sign(
        self, to: str, data: bytes, *, gas: int, value: int = 0
    ) -> tuple[bytes, asyncio.Future[bytes]]:
        """Signs with the next nonce and queues it; returns (tx hash, future of the send)."""
        signed = self.signer.sign(to, data, gas=gas, value=value)
        self._kept[signed.nonce] = (signed.hash, signed.raw)
        if len(self._kept) > _KEPT:
            del self._kept[min(self._kept)]
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._queue.append((signed.raw, future))
        self._wake.set()
        return signed.hash, future

    async def heal(self) -> list[bytes]:
        """Sends again the kept transactions the node no longer holds (module docstring): every
        kept one at or past the account's pending count, lowest nonce first (the node answers
        "already known" for one it still queues). Returns the hashes sent again."""
        if not self._kept or self._queue:
            return []
        pending = int(await self.rpc.call("eth_getTransactionCount", [self.address, "pending"]), 16)
        if max(self._kept) < pending:
            return []
        out = []
        for nonce in sorted(n for n in self._kept if n >= pending):
            tx_hash, raw = self._kept[nonce]
            try:
                await self.rpc.call("eth_sendRawTransaction", [HexBytes(raw).to_0x_hex()])
            except RpcError as exc:
                log.info("transaction %s not sent again: %s", HexBytes(tx_hash).to_0x_hex(), exc)
                continue
            log.warning(
                "transaction %s (nonce %d) was no longer in the chain or the node's pool "
                "(a reorg dropped it?): sent again",
                HexBytes(tx_hash).to_0x_hex(),
                nonce,
            )
            self.resent += 1
            out.append(tx_hash)
        return out

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
        self.signer.forget_fees()
