"""Local signing and local nonce management: one RPC round trip per transaction.

ape's transaction machinery costs about a dozen RPC calls per transaction; the hot path
(gateway requests, worker commits and reveals) signs locally and keeps its own nonce.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hexbytes import HexBytes

from peerhost.chain.errors import ChainUnavailable, RpcError
from peerhost.chain.rpc import RpcClient

log = logging.getLogger(__name__)

_FEE_REFRESH_SECONDS = 15.0


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
        self._account: LocalAccount = Account.from_key(private_key)
        self.chain_id = chain_id
        self._nonce: int | None = None
        self._lock = asyncio.Lock()
        self._fees: tuple[int, int] | None = None
        self._fees_at = 0.0

    @property
    def address(self) -> str:
        return str(self._account.address)

    def __repr__(self) -> str:  # never show the key
        return f"TxSender({self.address})"

    async def _fee(self) -> tuple[int, int]:
        now = time.monotonic()
        if self._fees is None or now - self._fees_at > _FEE_REFRESH_SECONDS:
            block = await self.rpc.call("eth_getBlockByNumber", ["latest", False])
            base = int(block.get("baseFeePerGas") or "0x0", 16)
            tip = 10**9 if base else 0
            self._fees = (2 * base + tip, tip)
            self._fees_at = now
        return self._fees

    async def _next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = int(
                await self.rpc.call("eth_getTransactionCount", [self.address, "pending"]), 16
            )
        nonce = self._nonce
        self._nonce += 1
        return nonce

    async def resync(self) -> None:
        """Forgets the local nonce; the next send reads the node's pending count."""
        async with self._lock:
            self._nonce = None

    async def send(self, to: str, data: bytes, *, gas: int, value: int = 0) -> bytes:
        """Signs and sends a transaction; returns its hash as soon as the node accepted it.

        The nonce is taken and the transaction signed under the lock; the round trip to the node
        happens outside it, so concurrent sends overlap (a node queues a nonce that arrives
        before its predecessor). If a send fails, the nonce is resynchronised from the node, so
        the next transaction fills the gap.
        """
        max_fee, tip = await self._fee()
        async with self._lock:
            nonce = await self._next_nonce()
            tx: dict[str, Any] = {
                "type": 2,
                "chainId": self.chain_id,
                "nonce": nonce,
                "to": to_checksum_address(to),
                "value": value,
                "data": data,
                "gas": gas,
                "maxFeePerGas": max_fee,
                "maxPriorityFeePerGas": tip,
            }
            raw = self._account.sign_transaction(tx).raw_transaction
        try:
            tx_hash = await self.rpc.call("eth_sendRawTransaction", [HexBytes(raw).to_0x_hex()])
        except (RpcError, ChainUnavailable) as exc:
            log.warning("send failed at nonce %d (%s); resyncing nonce", nonce, exc)
            async with self._lock:
                self._nonce = None
                self._fees = None
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
