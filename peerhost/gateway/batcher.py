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
are no longer stuck behind its nonce. A mined transaction that reverted, and whose caller acted on
that (:meth:`BatchSender.defuse`: a refused post whose tickets go out in a new one), is not sent
again: the same bytes may succeed on the new branch, where the caller never looks for them (a
batch its gateway never knew, its results never opened: ``reorg-deep`` seed 2506). Its nonce is
filled with an empty transfer to the account instead, so the ones after it do not wait. This
covers the sends of this process only: a node that puts a dropped transaction back in its own
pool (geth and reth do; anvil does not) may mine the original bytes itself.

A transaction the node refuses (one entry of a batch: rate-limited, say) leaves a hole at its nonce
while the ones signed after it were taken: unless the node knows its hash after all (a refusal does
not prove it is not in the pool), its kept bytes are dropped and the next transaction signed takes
that nonce (the lowest hole first), never the next one, so nothing waits behind the hole and no
later transaction is replaced. A hole refused a second time is given up: the nonce is re-read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hexbytes import HexBytes

from peerhost.chain.errors import RpcError
from peerhost.chain.rpc import RpcClient
from peerhost.chain.signer import SignedTx, TxSigner, transaction_hash

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
        self._holes: set[int] = set()  # nonces the node refused, taken by the next ones signed
        self._refilled: set[int] = set()  # holes signed again, given up when refused again
        self._defused: set[int] = set()  # kept nonces filled with an empty transfer if lost
        self._queue_nonces: dict[bytes, int] = {}  # raw -> nonce, while queued
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
            self._holes.clear()
            self._refilled.clear()
            self._stale = False
        await self.signer.load_nonce()
        await self.signer.fees()

    def sign(
        self, to: str, data: bytes, *, gas: int, value: int = 0
    ) -> tuple[bytes, asyncio.Future[bytes]]:
        """Signs with the lowest nonce the node refused, else the next, and queues it; returns
        (tx hash, future of the send)."""
        if self._holes:
            nonce = min(self._holes)
            self._holes.discard(nonce)
            self._refilled.add(nonce)
            signed = self._sign_at(nonce, to, data, gas=gas, value=value)
        else:
            signed = self.signer.sign(to, data, gas=gas, value=value)
        self._kept[signed.nonce] = (signed.hash, signed.raw)
        self._defused.discard(signed.nonce)
        if len(self._kept) > _KEPT:
            oldest = min(self._kept)
            del self._kept[oldest]
            self._defused.discard(oldest)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._queue.append((signed.raw, future))
        self._queue_nonces[signed.raw] = signed.nonce
        self._wake.set()
        return signed.hash, future

    def _sign_at(self, nonce: int, to: str, data: bytes, *, gas: int, value: int) -> SignedTx:
        """Signs at ``nonce`` (a hole), the signer's next nonce untouched."""
        following = self.signer._nonce
        self.signer._nonce = nonce
        try:
            return self.signer.sign(to, data, gas=gas, value=value)
        finally:
            self.signer._nonce = following

    def forget(self, tx_hash: bytes) -> None:
        """A transaction that is not to be sent again (its tickets went back to be posted anew):
        its kept bytes are dropped, so :meth:`heal` never sends it."""
        for nonce, (kept_hash, _) in list(self._kept.items()):
            if kept_hash == tx_hash:
                del self._kept[nonce]
                self._defused.discard(nonce)

    def defuse(self, tx_hash: bytes) -> None:
        """A mined transaction that reverted and whose caller acted on it: if a reorg drops it,
        :meth:`heal` fills its nonce with an empty transfer instead of sending it again (module
        docstring)."""
        for nonce, (kept_hash, _) in self._kept.items():
            if kept_hash == tx_hash:
                self._defused.add(nonce)

    async def heal(self) -> list[bytes]:
        """Sends again the kept transactions the node no longer holds (module docstring): every
        kept one at or past the account's pending count, lowest nonce first (the node answers
        "already known" for one it still queues); a defused one's nonce gets an empty transfer.
        Returns the hashes sent."""
        if not self._kept or self._queue:
            return []
        pending = int(await self.rpc.call("eth_getTransactionCount", [self.address, "pending"]), 16)
        if max(self._kept) < pending:
            return []
        lost = sorted(n for n in self._kept if n >= pending)
        if self._defused.intersection(lost):
            await self.signer.fees()  # before the loop: nothing awaited from a check to its send
        out = []
        for nonce in lost:
            if nonce not in self._kept:
                continue
            tx_hash, raw = self._kept[nonce]
            if nonce in self._defused:
                filler = self._sign_at(nonce, self.address, b"", gas=21_000, value=0)
                log.warning(
                    "transaction %s (nonce %d) reverted and a reorg dropped it: its nonce filled "
                    "with an empty transfer %s, not sent again",
                    HexBytes(tx_hash).to_0x_hex(),
                    nonce,
                    HexBytes(filler.hash).to_0x_hex(),
                )
                self._defused.discard(nonce)
                tx_hash, raw = self._kept[nonce] = (filler.hash, filler.raw)
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
                for raw, future in batch:
                    self._queue_nonces.pop(raw, None)
                    if not future.done():
                        future.set_exception(exc)

    async def _send(self, batch: list[tuple[bytes, asyncio.Future[bytes]]]) -> None:
        calls = [("eth_sendRawTransaction", [HexBytes(raw).to_0x_hex()]) for raw, _ in batch]
        try:
            results = await self.rpc.batch(calls)
        except Exception as exc:  # ChainUnavailable, or a node that mangled the batch
            self._failed(f"batch of {len(batch)}", exc)
            for raw, future in batch:
                self._queue_nonces.pop(raw, None)
                if not future.done():
                    future.set_exception(exc)
            return
        self.batches += 1
        for (raw, future), result in zip(batch, results, strict=True):
            nonce = self._queue_nonces.pop(raw, None)
            if future.done():
                continue
            if isinstance(result, RpcError) and nonce is not None:
                result = await self._refused(raw, nonce, result)
            if isinstance(result, RpcError):
                future.set_exception(result)
            else:
                if nonce is not None:
                    self._refilled.discard(nonce)
                self.sent += 1
                future.set_result(bytes(HexBytes(result)))

    async def _refused(self, raw: bytes, nonce: int, error: RpcError) -> RpcError | str:
        """One transaction of a batch the node refused: its hash when the node knows it after all;
        else the error, its nonce a hole the next transaction signed takes (module docstring)."""
        tx_hash = HexBytes(transaction_hash(raw)).to_0x_hex()
        with contextlib.suppress(Exception):
            if await self.rpc.call("eth_getTransactionByHash", [tx_hash]) is not None:
                self._refilled.discard(nonce)
                return tx_hash
        if self._kept.get(nonce, (b"", b""))[1] == raw:
            del self._kept[nonce]
        if nonce in self._refilled:  # refused at this nonce twice: re-read the node's count
            self._refilled.discard(nonce)
            self._failed("transaction", error)
        else:
            log.warning(
                "transaction (nonce %d) refused (%s); the next one signed takes it", nonce, error
            )
            self.signer.forget_fees()
            self._holes.add(nonce)
        return error

    def _failed(self, what: str, exc: BaseException) -> None:
        log.warning("send of %s failed (%s); the nonce will be re-read", what, exc)
        self._stale = True
        self.signer.forget_fees()
