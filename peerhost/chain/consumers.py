"""Contracts' single requests (docs/consumers.md): what a committee reads to run one, and the
router calls that deliver its result.

A consumer contract calls ``requestExecution`` and, in the same transaction,
``PeerHostRouter.register``, whose ``Requested`` event carries the leaf's fields and the input.
A worker finds it from the batch's ``SingleRequested`` log: the ``Requested`` log of that same
transaction, whatever contract emitted it, accepted only when the leaf it rebuilds hashes to the
batch's root and its request id is the coordinator's, so a forged event cannot feed a committee
another input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

from peerhost.chain.abis import load_abi
from peerhost.chain.codec import ContractCodec
from peerhost.chain.errors import RpcError, TransactionReverted
from peerhost.chain.settlement import SettlementView
from peerhost.wire.batch import Leaf
from peerhost.wire.ticket import MODE_VERIFIED, input_hash_of, request_id

#: IPeerHostRouter.Status
NONE, PENDING, DELIVERED, CALLBACK_FAILED, NO_RESULT = range(5)

ROUTER = ContractCodec(load_abi("PeerHostRouter"))


@dataclass(frozen=True)
class SingleRequest:
    """A contract's single request as its committee runs it."""

    batch_id: int
    request_id: bytes
    router: str
    consumer: str
    leaf: Leaf
    input: bytes
    callback_gas_limit: int


async def single_request(
    view: SettlementView, batch_id: int, from_block: int, to_block: int | str = "latest"
) -> SingleRequest | None:
    """The registered single request of ``batch_id``, or None (not a single request, or its
    consumer registered nothing the batch's root proves). Its ``SingleRequested`` log is in
    the block of the batch's post: a caller that knows that block gives it as both bounds (a
    provider refuses a range of many blocks)."""
    posted = await view.logs("SingleRequested", from_block, to_block, batch_id=batch_id)
    if not posted:
        return None
    receipt = await view.rpc.call("eth_getTransactionReceipt", [posted[0][0]["transactionHash"]])
    batch = await view.get_batch(batch_id)
    consumer = to_checksum_address(str(batch["gateway"]))
    topic = ROUTER.event_topic("Requested")
    for log in receipt.get("logs", []):
        topics = [bytes(HexBytes(t)) for t in log.get("topics", [])]
        if len(topics) != 4 or topics[0] != topic or int.from_bytes(topics[2], "big") != batch_id:
            continue
        decoded = ROUTER.decode_log(log)
        if decoded is None:
            continue
        args = decoded[1]
        data = bytes(args["input"])
        leaf = Leaf(
            seq=int(args["seq"]),
            function_id=bytes(args["functionId"]),
            version=int(args["version"]),
            input_hash=input_hash_of(data),
            reward=int(batch["reward"]),
            issued_at=int(batch["postedAt"]),
            deadline=int(args["deadline"]),
            mode=MODE_VERIFIED,
            secrets_version=0,
        )
        rid = request_id(view.config.chain_id, view.config.settlement, consumer, leaf.seq)
        if keccak(leaf.encode()) != bytes(batch["root"]) or rid != bytes(args["requestId"]):
            continue
        return SingleRequest(
            batch_id=batch_id,
            request_id=rid,
            router=to_checksum_address(str(log["address"])),
            consumer=consumer,
            leaf=leaf,
            input=data,
            callback_gas_limit=int(args["callbackGasLimit"]),
        )
    return None


class RouterView:
    """Reads and writes of one PeerHostRouter, through a settlement view's RPC client and sender."""

    def __init__(self, view: SettlementView, address: str) -> None:
        self.view = view
        self.address = to_checksum_address(address)

    async def call(self, name: str, *args: Any) -> Any:
        data = ROUTER.encode_call(name, *args)
        try:
            result = await self.view.rpc.call(
                "eth_call", [{"to": self.address, "data": HexBytes(data).to_0x_hex()}, "latest"]
            )
        except RpcError as exc:
            raise TransactionReverted(f"{name}()", self.explain(exc.data)) from exc
        return ROUTER.decode_result(name, bytes(HexBytes(result)))

    def explain(self, data: bytes | str | None) -> str:
        return ROUTER.decode_error(data) if ROUTER.error_name(data) else self.view.explain(data)

    async def status(self, rid: bytes) -> int:
        return int((await self.call("requestOf", rid))["status"])

    async def try_send(self, name: str, *args: Any) -> dict[str, Any] | None:
        """Sends ``name(*args)`` when it would succeed now (estimated first); the receipt, or None
        when the router would refuse it (result not settled yet, already delivered...)."""
        sender = self.view.sender
        if sender is None:
            raise RuntimeError("this RouterView has no sender")
        data = ROUTER.encode_call(name, *args)
        call = {"from": sender.address, "to": self.address, "data": HexBytes(data).to_0x_hex()}
        try:
            estimate = int(await self.view.rpc.call("eth_estimateGas", [call]), 16)
        except RpcError:
            return None
        tx = await sender.send(self.address, data, gas=estimate + estimate // 4 + 20_000)
        receipt = await sender.wait(tx, timeout=60.0)
        return receipt if int(str(receipt["status"]), 16) == 1 else None
