"""Typed asynchronous access to the three PeerHost contracts over plain JSON-RPC.

This is the hot path's view of the chain: reads are one ``eth_call`` each, writes are one
locally signed ``eth_sendRawTransaction`` (see :class:`~peerhost.chain.sender.TxSender`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from hexbytes import HexBytes

from peerhost.chain.abis import load_abi
from peerhost.chain.codec import ContractCodec
from peerhost.chain.config import ChainConfig
from peerhost.chain.errors import RpcError, TransactionReverted
from peerhost.chain.rpc import RpcClient
from peerhost.chain.sender import TxSender
from peerhost.wire.ids import request_id_of


class Phase(enum.IntEnum):
    """IExecutionCoordinator.Phase."""

    NONE = 0
    COMMIT = 1
    REVEAL = 2
    SETTLE = 3
    FINALIZED = 4
    REFUNDED = 5


class Status(enum.IntEnum):
    """IExecutionCoordinator.Status."""

    NONE = 0
    PENDING = 1
    FINALIZED = 2
    REFUNDED = 3


#: Gas limits per write (limits, not costs: unused gas is not charged).
GAS = {
    "requestExecution": 600_000,
    "requestExecutionByCid": 600_000,
    "commit": 300_000,
    "reveal": 200_000,
    "finalize": 1_500_000,
    "withdraw": 120_000,
    "register": 300_000,
    "addStake": 120_000,
    "setEncryptionKey": 120_000,
}


@dataclass(frozen=True)
class Sent:
    """A transaction the node accepted."""

    tx_hash: bytes


class Protocol:
    """The registry, worker registry and coordinator of one deployment.

    Args:
        config: Where the chain and contracts are.
        sender: Signs writes; reads work without one.
        rpc: Shared JSON-RPC client (one is made from ``config.rpc_url`` if omitted).
    """

    def __init__(
        self, config: ChainConfig, sender: TxSender | None = None, rpc: RpcClient | None = None
    ) -> None:
        self.config = config
        self.rpc = rpc or (sender.rpc if sender else RpcClient(config.rpc_url))
        self.sender = sender
        self.registry = ContractCodec(load_abi("FunctionRegistry"))
        self.workers = ContractCodec(load_abi("WorkerRegistry"))
        self.coordinator = ContractCodec(load_abi("ExecutionCoordinator"))
        self._codecs = {
            config.registry.lower(): self.registry,
            config.workers.lower(): self.workers,
            config.coordinator.lower(): self.coordinator,
        }

    # ---- plumbing -------------------------------------------------------------------------

    def explain(self, data: bytes | str | None) -> str:
        """Decodes revert data against all three contracts' custom errors."""
        for codec in (self.coordinator, self.workers, self.registry):
            if codec.error_name(data):
                return codec.decode_error(data)
        return self.coordinator.decode_error(data)

    async def _call(
        self, codec: ContractCodec, address: str, name: str, *args: Any, block: str = "latest"
    ) -> Any:
        data = codec.encode_call(name, *args)
        try:
            result = await self.rpc.call(
                "eth_call", [{"to": address, "data": HexBytes(data).to_0x_hex()}, block]
            )
        except RpcError as exc:
            raise TransactionReverted(
                f"{name}()", self.explain(exc.data) if exc.data else exc.rpc_message
            ) from exc
        return codec.decode_result(name, bytes(HexBytes(result)))

    async def _send(
        self, codec: ContractCodec, address: str, name: str, *args: Any, value: int = 0
    ) -> bytes:
        if self.sender is None:
            raise RuntimeError("this Protocol has no sender; pass one to send transactions")
        return await self.sender.send(
            address, codec.encode_call(name, *args), gas=GAS.get(name, 500_000), value=value
        )

    async def confirm(self, tx_hash: bytes, what: str, timeout: float = 60.0) -> dict[str, Any]:
        """Waits for a receipt; raises TransactionReverted with the decoded error if it failed."""
        assert self.sender is not None
        receipt = await self.sender.wait(tx_hash, timeout=timeout)
        return await self.check_receipt(receipt, what)

    async def check_receipt(self, receipt: dict[str, Any], what: str) -> dict[str, Any]:
        """Returns ``receipt`` if it succeeded; else raises TransactionReverted with the reason
        (for callers that collect receipts themselves, e.g. batched)."""
        if int(receipt["status"], 16) != 1:
            reason = await self._revert_reason(receipt)
            raise TransactionReverted(what, reason)
        return receipt

    async def _revert_reason(self, receipt: dict[str, Any]) -> str:
        tx = await self.rpc.call("eth_getTransactionByHash", [receipt["transactionHash"]])
        call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "value": tx["value"]}
        try:
            await self.rpc.call("eth_call", [call, receipt["blockNumber"]])
        except RpcError as exc:
            return self.explain(exc.data) if exc.data else exc.rpc_message
        return "reverted (reason not reproducible)"

    def decode_log(self, log: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """Decodes a log of any of the three contracts."""
        codec = self._codecs.get(str(log.get("address", "")).lower())
        return codec.decode_log(log) if codec else None

    # ---- FunctionRegistry -----------------------------------------------------------------

    async def resolve(
        self, owner: str, project: str, name: str
    ) -> tuple[bytes, dict[str, Any], dict[str, Any]]:
        """(functionId, FunctionInfo, active Version); raises TransactionReverted when unknown."""
        fid, info, version = await self._call(
            self.registry,
            self.config.registry,
            "resolve",
            to_checksum_address(owner),
            project,
            name,
        )
        return fid, info, version

    async def get_function(self, function_id: bytes) -> dict[str, Any]:
        info: dict[str, Any] = await self._call(
            self.registry, self.config.registry, "getFunction", function_id
        )
        return info

    async def secrets_bundle(self, owner: str, project: str, block: str = "latest") -> bytes:
        """The project's secrets bundle CID (binary; empty when none) as of ``block``."""
        cid: bytes = await self._call(
            self.registry,
            self.config.registry,
            "secretsBundle",
            to_checksum_address(owner),
            project,
            block=block,
        )
        return cid

    # ---- WorkerRegistry -------------------------------------------------------------------

    async def get_worker(self, worker: str) -> dict[str, Any]:
        info: dict[str, Any] = await self._call(
            self.workers, self.config.workers, "getWorker", to_checksum_address(worker)
        )
        return info

    async def is_active(self, worker: str) -> bool:
        return bool(
            await self._call(
                self.workers, self.config.workers, "isActive", to_checksum_address(worker)
            )
        )

    async def register(self, encryption_key: bytes, stake: int) -> bytes:
        return await self._send(
            self.workers, self.config.workers, "register", encryption_key, value=stake
        )

    async def set_encryption_key(self, encryption_key: bytes) -> bytes:
        return await self._send(
            self.workers, self.config.workers, "setEncryptionKey", encryption_key
        )

    # ---- ExecutionCoordinator -------------------------------------------------------------

    async def params(self) -> dict[str, Any]:
        p: dict[str, Any] = await self._call(self.coordinator, self.config.coordinator, "params")
        return p

    async def request_sequence(self, requester: str) -> int:
        return int(
            await self._call(
                self.coordinator,
                self.config.coordinator,
                "requestSequence",
                to_checksum_address(requester),
            )
        )

    def request_id(self, requester: str, sequence: int) -> bytes:
        return request_id_of(self.config.chain_id, self.config.coordinator, requester, sequence)

    async def request_execution(
        self, function_id: bytes, input_: bytes, reply_to: bytes, value: int = 0
    ) -> bytes:
        return await self._send(
            self.coordinator,
            self.config.coordinator,
            "requestExecution",
            function_id,
            input_,
            reply_to,
            value=value,
        )

    async def get_request(self, request: bytes, block: str = "latest") -> dict[str, Any]:
        """The stored request; ``block="pending"`` evaluates at the node's current time."""
        r: dict[str, Any] = await self._call(
            self.coordinator, self.config.coordinator, "getRequest", request, block=block
        )
        return r

    async def phase(self, request: bytes, block: str = "latest") -> Phase:
        """The phase at ``block``; anvil evaluates "latest" at the last block's timestamp, so on
        an idle chain a passed deadline only shows with ``block="pending"``."""
        return Phase(
            await self._call(
                self.coordinator, self.config.coordinator, "phase", request, block=block
            )
        )

    async def get_commitment(self, request: bytes, worker: str) -> dict[str, Any]:
        c: dict[str, Any] = await self._call(
            self.coordinator,
            self.config.coordinator,
            "getCommitment",
            request,
            to_checksum_address(worker),
        )
        return c

    async def pending_withdrawal(self, account: str) -> int:
        return int(
            await self._call(
                self.coordinator,
                self.config.coordinator,
                "pendingWithdrawal",
                to_checksum_address(account),
            )
        )

    async def commit(self, request: bytes, commitment: bytes) -> bytes:
        return await self._send(
            self.coordinator, self.config.coordinator, "commit", request, commitment
        )

    async def reveal(self, request: bytes, result: bytes, salt: bytes) -> bytes:
        return await self._send(
            self.coordinator, self.config.coordinator, "reveal", request, result, salt
        )

    async def finalize(self, request: bytes) -> bytes:
        return await self._send(self.coordinator, self.config.coordinator, "finalize", request)

    async def withdraw(self) -> bytes:
        return await self._send(self.coordinator, self.config.coordinator, "withdraw")

    async def block_timestamp(self) -> int:
        block = await self.rpc.call("eth_getBlockByNumber", ["latest", False])
        return int(block["timestamp"], 16)

    async def aclose(self) -> None:
        await self.rpc.aclose()
