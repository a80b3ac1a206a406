"""One account's EIP-1559 transactions, signed locally: fees, local nonces, signing.

The hot path's two senders share it: the worker's :class:`~peerhost.chain.sender.TxSender`
(one transaction per round trip) and the gateway's
:class:`~peerhost.gateway.batcher.BatchSender` (JSON-RPC batches). Each decides when to forget
the nonce after a failed send; the signer only reads the node when it must.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from peerhost.chain.rpc import RpcClient
from peerhost.wire.keccak import keccak256

#: Seconds a fee quote is reused before the latest block's base fee is read again.
FEE_REFRESH_SECONDS = 15.0
#: The priority fee on chains with a base fee (none on chains without one).
TIP_WEI = 10**9

Fees = tuple[int, int]
"""``(maxFeePerGas, maxPriorityFeePerGas)``."""


def transaction_hash(raw: bytes) -> bytes:
    """The hash a node names a signed transaction by: keccak256 of its raw bytes."""
    return keccak256(raw)


@dataclass(frozen=True, slots=True)
class SignedTx:
    raw: bytes
    hash: bytes
    nonce: int


class TxSigner:
    """Signs type-2 transactions for one account with locally counted nonces.

    Not locked: the caller orders calls to :meth:`sign` (and so the nonces).

    Args:
        rpc: The JSON-RPC client (read for the pending nonce and the base fee).
        private_key: The account's key (never logged).
        chain_id: The chain id to sign for.
    """

    def __init__(self, rpc: RpcClient, private_key: bytes | str, chain_id: int) -> None:
        self.rpc = rpc
        self.chain_id = chain_id
        self._account: LocalAccount = Account.from_key(private_key)
        self._nonce: int | None = None
        self._fees: Fees | None = None
        self._fees_at = 0.0

    @property
    def address(self) -> str:
        return str(self._account.address)

    def __repr__(self) -> str:  # never show the key
        return f"TxSigner({self.address})"

    async def fees(self) -> Fees:
        """Twice the latest base fee plus the tip, and the tip; reused for 15 s."""
        now = time.monotonic()
        if self._fees is None or now - self._fees_at > FEE_REFRESH_SECONDS:
            block = await self.rpc.call("eth_getBlockByNumber", ["latest", False])
            base = int(block.get("baseFeePerGas") or "0x0", 16)
            tip = TIP_WEI if base else 0
            self._fees = (2 * base + tip, tip)
            self._fees_at = now
        return self._fees

    async def load_nonce(self) -> None:
        """Reads the node's pending transaction count unless a local nonce is known."""
        if self._nonce is None:
            self._nonce = int(
                await self.rpc.call("eth_getTransactionCount", [self.address, "pending"]), 16
            )

    def forget_nonce(self) -> None:
        """The next :meth:`load_nonce` reads the node's pending count again."""
        self._nonce = None

    def forget_fees(self) -> None:
        """The next :meth:`fees` reads the base fee again."""
        self._fees = None

    def sign(
        self, to: str, data: bytes, *, gas: int, value: int = 0, fees: Fees | None = None
    ) -> SignedTx:
        """Signs with the next local nonce (``load_nonce`` first) and the given or cached fees."""
        fees = fees or self._fees
        assert self._nonce is not None and fees is not None, "load_nonce() and fees() first"
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": self._nonce,
            "to": to_checksum_address(to),
            "value": value,
            "data": data,
            "gas": gas,
            "maxFeePerGas": fees[0],
            "maxPriorityFeePerGas": fees[1],
        }
        signed = self._account.sign_transaction(tx)
        self._nonce += 1
        return SignedTx(bytes(signed.raw_transaction), bytes(signed.hash), tx["nonce"])
