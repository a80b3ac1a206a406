"""One transaction per round trip, signed locally (see :mod:`peerhost.chain.signer`).

ape's transaction machinery costs about a dozen RPC calls per transaction; the hot path
(gateway requests, worker commits and reveals) signs locally and keeps its own nonce.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections import deque
from typing import Any

from hexbytes import HexBytes

from peerhost.chain.errors import ChainUnavailable, RpcError
from peerhost.chain.heads import HeadWatcher
from peerhost.chain.rpc import RpcClient
from peerhost.chain.signer import TxSigner

log = logging.getLogger(__name__)

#: Receipts are polled every ``poll`` seconds from this long before a block is due until this
#: long after it (seconds); in between, at most a quarter block apart.
_BEFORE, _AFTER = 0.06, 0.12
#: Blocks seen at most this many apart give the clock a gap (seconds per block between them).
_SPAN = 8
#: The longest pause between two receipt polls (seconds), whatever the clock learnt: on a chain
#: that makes blocks on demand, blocks seen minutes apart would otherwise teach it a minutes-long
#: "block time" and every later receipt would wait a quarter of that.
_MAX_PAUSE = 0.5


class BlockClock:
    """When the chain's next block is due, learnt from the receipts a sender sees: the block each
    was mined in and when it was first seen. Polling a receipt every 20 ms while a block is a
    second away costs 50 calls per transaction per block; near the block's due time it is all
    that is needed (:meth:`pause`). Until it has seen a few blocks close together, on a chain faster
    than ten polls per block, and on a devnet that mines on transactions (a receipt is there at
    the first poll), it says: poll as before."""

    def __init__(self) -> None:
        self._last: tuple[int, float] | None = None  # (block, monotonic time first seen)
        self._gaps: deque[float] = deque(maxlen=9)  # seconds per block between blocks seen

    def saw(self, block: int, now: float) -> None:
        """A receipt of ``block`` was first seen at ``now`` (``time.monotonic``)."""
        if self._last is not None and 0 < block - self._last[0] <= _SPAN:
            self._gaps.append((now - self._last[1]) / (block - self._last[0]))
        if self._last is None or block > self._last[0]:
            self._last = (block, now)

    @property
    def interval(self) -> float | None:
        """The median seconds per block between blocks seen (None: fewer than three gaps of at
        most ``_SPAN`` blocks seen)."""
        return statistics.median(self._gaps) if len(self._gaps) >= 3 else None

    def pause(self, now: float, poll: float) -> float:
        """Seconds to wait before the next receipt poll: ``poll`` from ``_BEFORE`` before a block
        is due to ``_AFTER`` after it, else until the next such window opens (at most a quarter
        block and at most ``_MAX_PAUSE``: a wrong guess costs that much latency, never a missed
        receipt)."""
        interval = self.interval
        if interval is None or self._last is None or interval < 10 * poll:
            return poll
        since = (now - self._last[1]) % interval
        if since < _AFTER or since > interval - _BEFORE:
            return poll
        return max(poll, min(interval - _BEFORE - since, interval / 4, _MAX_PAUSE))


class TxSender:
    """Signs and sends transactions for one account, assigning nonces locally.

    Nonces are handed out under a lock so that many transactions can be in flight at once.
    If a send fails before the node accepted it, the nonce counter is resynchronised from the
    node's pending count, so the next transaction fills the gap.

    A transaction the chain lost while :meth:`wait` waits for it (a reorg dropped its block, or
    it sits behind a nonce that will never mine) is sent again: same calldata, the nonce
    re-read from the node's pending count.

    Given a :class:`~peerhost.chain.heads.HeadWatcher` (:attr:`heads`) whose subscription is live,
    :meth:`wait` reads a receipt once per new head (a receipt can only appear with a block) instead
    of polling around the block's due time.

    Args:
        rpc: The JSON-RPC client.
        private_key: The account's key (never logged).
        chain_id: The chain id to sign for.
    """

    def __init__(self, rpc: RpcClient, private_key: bytes | str, chain_id: int) -> None:
        self.rpc = rpc
        self.signer = TxSigner(rpc, private_key, chain_id)
        self.chain_id = chain_id
        self._lock = asyncio.Lock()
        # what was sent, by hash, until its receipt is seen: enough to send it again if lost
        self._sent: dict[bytes, tuple[str, bytes, int, int, int]] = {}
        self.resent = 0  # transactions sent again because the chain lost them
        self.blocks = BlockClock()  # when receipts are worth polling for
        self.heads: HeadWatcher | None = None  # live: a receipt is read once per new head

    @property
    def address(self) -> str:
        return self.signer.address

    def __repr__(self) -> str:  # never show the key
        return f"TxSender({self.address})"

    async def resync(self) -> None:
        """Forgets the local nonce; the next send reads the node's pending count."""
        async with self._lock:
            self.signer.forget_nonce()

    async def send(self, to: str, data: bytes, *, gas: int, value: int = 0) -> bytes:
        """Signs and sends a transaction; returns its hash as soon as the node accepted it.

        The nonce is taken and the transaction signed under the lock; the round trip to the node
        happens outside it, so concurrent sends overlap (a node queues a nonce that arrives
        before its predecessor). If a send fails, the nonce is resynchronised from the node, so
        the next transaction fills the gap.
        """
        for attempt in range(3):
            fees = await self.signer.fees()
            async with self._lock:
                await self.signer.load_nonce()
                signed = self.signer.sign(to, data, gas=gas, value=value, fees=fees)
            try:
                tx_hash = await self.rpc.call(
                    "eth_sendRawTransaction", [HexBytes(signed.raw).to_0x_hex()]
                )
            except (RpcError, ChainUnavailable) as exc:
                log.warning("send failed at nonce %d (%s); resyncing nonce", signed.nonce, exc)
                async with self._lock:
                    self.signer.forget_nonce()
                    self.signer.forget_fees()
                # a nonce the node already holds (a stale transaction left behind a reorg's gap
                # was promoted): the re-read count skips it
                if isinstance(exc, ChainUnavailable) or attempt == 2:
                    raise
                await asyncio.sleep(0.2)
                continue
            sent = bytes(HexBytes(tx_hash))
            if len(self._sent) >= 4096:
                self._sent.pop(next(iter(self._sent)))
            self._sent[sent] = (to, data, gas, value, signed.nonce)
            return sent
        raise AssertionError("unreachable")

    async def _lost(self, tx_hash: bytes) -> bool:
        """True when the node's pending state does not hold ``tx_hash`` (no receipt, and the
        account's pending count is not past its nonce: dropped by a reorg, or queued behind a
        nonce gap that will never fill)."""
        sent = self._sent.get(tx_hash)
        if sent is None:
            return False
        count = int(await self.rpc.call("eth_getTransactionCount", [self.address, "pending"]), 16)
        return count <= sent[4]

    async def _resend(self, tx_hash: bytes) -> bytes:
        to, data, gas, value, nonce = self._sent.pop(tx_hash)
        async with self._lock:
            self.signer.forget_nonce()
        fresh = await self.send(to, data, gas=gas, value=value)
        self.resent += 1
        log.warning(
            "transaction %s (nonce %d) is no longer in the chain or its pool; sent again as %s",
            HexBytes(tx_hash).to_0x_hex(),
            nonce,
            HexBytes(fresh).to_0x_hex(),
        )
        return fresh

    async def wait(
        self, tx_hash: bytes, timeout: float = 60.0, poll: float = 0.02, check: float = 1.0
    ) -> dict[str, Any]:
        """Polls for the receipt of ``tx_hash``; raises TimeoutError after ``timeout`` seconds.

        Reads the receipt once per new head while :attr:`heads` pushes them (at least every
        ``check`` seconds), else polls every ``poll`` seconds around the time the next block is
        due, less often between blocks (:class:`BlockClock`). Every ``check`` seconds without a
        receipt the account's
        pending count is read: a transaction the chain lost (twice in a row, class docstring) is
        sent again and the receipt of the new one is returned."""
        deadline = time.monotonic() + timeout
        next_check = time.monotonic() + check
        strikes = 0
        while True:
            heads = self.heads if self.heads is not None and self.heads.live else None
            seen = heads.head.hash if heads is not None and heads.head is not None else None
            hex_hash = HexBytes(tx_hash).to_0x_hex()
            receipt = await self.rpc.call("eth_getTransactionReceipt", [hex_hash])
            now = time.monotonic()
            if receipt is not None:
                self._sent.pop(tx_hash, None)
                if receipt.get("blockNumber") is not None:
                    self.blocks.saw(int(receipt["blockNumber"], 16), now)
                return dict(receipt)
            if now > deadline:
                self._sent.pop(tx_hash, None)
                async with self._lock:
                    self.signer.forget_nonce()  # whatever held it up, re-read the node's count
                raise TimeoutError(f"transaction {hex_hash} not mined after {timeout:.0f} s")
            if now >= next_check:
                next_check = now + check
                strikes = strikes + 1 if await self._lost(tx_hash) else 0
                if strikes >= 2:
                    tx_hash, strikes = await self._resend(tx_hash), 0
                    deadline = time.monotonic() + timeout
            if heads is not None and seen is not None:  # the head before this read: a block since?
                await heads.next(seen, min(check, max(0.0, deadline - time.monotonic())))
            else:
                await asyncio.sleep(self.blocks.pause(time.monotonic(), poll))
