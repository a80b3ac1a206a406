"""One transaction per round trip, signed locally (see :mod:`peerhost.chain.signer`).

ape's transaction machinery costs about a dozen RPC calls per transaction; the hot path
(gateway requests, worker commits and reveals) signs locally and keeps its own nonce.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from hexbytes import HexBytes

from peerhost.chain.errors import ChainUnavailable, RpcError
from peerhost.chain.rpc import RpcClient
from peerhost.chain.signer import TxSigner

log = logging.getLogger(__name__)


class TxSender:
    """Signs and sends transactions for one account, assigning nonces locally.

    Nonces are handed out under a lock so that many transactions can be in flight at once.
    If a send fails before the node accepted it, the nonce counter is resynchronised from the
    node's pending count, so the next transaction fills the gap.

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
            raise
        return bytes(HexBytes(tx_hash))

    async def wait(
        self, tx_hash: bytes, timeout: float = 60.0, poll: float = 0.02
    ) -> dict[str, Any]:
        """Polls for the receipt of ``tx_hash``; raises TimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        hex_hash = HexBytes(tx_hash).to_0x_hex()
        while True:
            receipt = await self.rpc.call("eth_getTransactionReceipt", [hex_hash])
            if receipt is not None:
                return dict(receipt)
            if time.monotonic() > deadline:
                raise TimeoutError(f"transaction {hex_hash} not mined after {timeout:.0f} s")
            await asyncio.sleep(poll)
