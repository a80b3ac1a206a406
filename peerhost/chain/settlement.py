"""Typed asynchronous access to the settlement contracts (StakeRegistry, GatewayRegistry,
SettlementCoordinator) over plain JSON-RPC: what gateways and workers read to issue, check and
settle tickets, and the writes of the batch poster and committee seats."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from eth_utils import to_checksum_address
from hexbytes import HexBytes

from peerhost.chain.abis import load_abi
from peerhost.chain.codec import ContractCodec
from peerhost.chain.config import ChainConfig
from peerhost.chain.errors import RpcError, TransactionReverted
from peerhost.chain.headers import encode_header
from peerhost.chain.heads import HeadWatcher
from peerhost.chain.rpc import RpcClient
from peerhost.chain.sender import TxSender
from peerhost.wire.batch import BatchHead, Leaf, batch_seed, decode_posted, is_audited
from peerhost.wire.ticket import MODE_FAST

#: Gas limits per write (limits, not costs).
GAS = {
    "postBatch": 2_500_000,
    "postOrphans": 3_000_000,
    "seat": 1_500_000,
    "seatAndCommit": 1_500_000,
    "commit": 200_000,
    "reveal": 1_500_000,
    "finalize": 3_000_000,
    "openResults": 2_000_000,
    "withdraw": 120_000,
    "claimSeatPay": 150_000,
    "register": 300_000,
    "setEndpoint": 200_000,
    "advanceEpoch": 3_000_000,
}

#: reveal transactions whose vectors are kept, and batches whose holder lists are (oldest
#: dropped first)
_REVEALS_KEPT = 1024
_HOLDERS_KEPT = 4096


@dataclass(frozen=True)
class ActiveSet:
    """The frozen seat-draw array of one epoch."""

    epoch: int
    members: tuple[str, ...]
    cumulative: tuple[int, ...]
    read_at: float

    @cached_property
    def _lowered(self) -> frozenset[str]:
        return frozenset(m.lower() for m in self.members)

    def contains(self, worker: str) -> bool:
        """Whether ``worker`` (any case) is a member; no checksum is computed per call."""
        return worker.lower() in self._lowered


def holder_words(holders: list[str], seats: list[int]) -> list[int]:
    """A batch's holder list as its contract calls take it: one word per distinct holder in
    first-seat order, its address in the low 160 bits and its seat count in the next 8."""
    return [int(h, 16) | int(n) << 160 for h, n in zip(holders, seats, strict=True)]


@dataclass(frozen=True)
class SeatDraw:
    """The committee a batch's seed block draws, known before anyone seats the batch: what a
    seat holder needs to seat it with its own commitment (``seatAndCommit``)."""

    header: bytes  # the seed block's RLP header (the beacon's proof)
    seed: bytes
    seats: tuple[str, ...]  # seat j's holder (checksummed), with replacement

    @property
    def holders(self) -> list[str]:
        """The distinct holders in first-seat order (as the batch's holder list names them)."""
        return list(dict.fromkeys(self.seats))

    @property
    def holder_list(self) -> list[int]:
        """The holder list ``seatAndCommit`` and the other calls take (:func:`holder_words`)."""
        return holder_words(self.holders, [self.seats.count(h) for h in self.holders])

    def holds(self, worker: str) -> bool:
        return any(s.lower() == worker.lower() for s in self.seats)

    def audit_mask(self, batch: dict[str, Any], audit_bps: int) -> int:
        """The leaves this draw's committee re-executes, as ``seat`` computes them: every leaf
        outside the batch's ``fastMask``, and the fast leaves the seed samples."""
        fast = int(batch["fastMask"])
        count = int(batch["leafCount"])
        full = (1 << count) - 1
        sampled = sum(
            1 << i
            for i in range(count)
            if fast >> i & 1 and is_audited(self.seed, i, MODE_FAST, audit_bps)
        )
        return (full & ~fast) | sampled


@dataclass(frozen=True)
class Reveals:
    """A batch's reveals as its ``SeatRevealed`` logs and their calldata give them."""

    votes: dict[str, bytes]  # revealed holder (lower case) -> the vector hash it revealed
    vectors: dict[bytes, list[bytes]]  # vector hash -> the vector, for each revealed in full

    def weights(self, holders: list[str], seats: list[int]) -> dict[bytes, int]:
        """Seats behind each revealed vector hash (a holder that committed and did not reveal
        weighs nothing: its commitment is no vector's hash)."""
        out: dict[bytes, int] = {}
        for holder, count in zip(holders, seats, strict=True):
            vote = self.votes.get(holder.lower())
            if vote is not None:
                out[vote] = out.get(vote, 0) + int(count)
        return out


class SettlementView:
    """Reads (and, given a sender, writes) of the settlement contracts of one deployment."""

    def __init__(self, config: ChainConfig, rpc: RpcClient, sender: TxSender | None = None) -> None:
        if not config.has_settlement:
            raise ValueError("this chain config names no settlement contracts")
        self.config = config
        self.rpc = rpc
        self.sender = sender
        self.stakes = ContractCodec(load_abi("StakeRegistry"))
        self.gateways = ContractCodec(load_abi("GatewayRegistry"))
        self.coordinator = ContractCodec(load_abi("SettlementCoordinator"))
        self.registry = ContractCodec(load_abi("FunctionRegistry"))
        self.beacon = ContractCodec(load_abi("IBeacon"))
        self._beacon = ""  # the coordinator's beacon, once read
        self._codecs = {
            config.stakes.lower(): self.stakes,
            config.gateways.lower(): self.gateways,
            config.settlement.lower(): self.coordinator,
        }
        self._params: dict[str, Any] | None = None
        #: batch id -> (holders, seat counts) once read, while :meth:`keep_holders` is on
        self._holders: dict[int, tuple[list[str], list[int]]] = {}
        self._heads: HeadWatcher | None = None
        self._reveal_inputs: dict[str, list[bytes]] = {}  # reveal tx hash -> its vector

    def keep_holders(self, heads: HeadWatcher) -> None:
        """Keeps each batch's holder list once read (it never changes for a batch id once
        seated), dropping them all on a head that does not extend the last one (``heads``' break:
        a reorg may have dropped or redrawn a seating). A list read across a break is not kept.
        A list the chain has dropped meanwhile costs no money: every call that takes it back is
        checked against the seated hash (``HoldersMismatch``); read with ``fresh`` then."""
        self._heads = heads
        heads.on_break.append(self._holders.clear)

    def forget_holders(self, batch_id: int) -> None:
        """Drops the kept holder list of ``batch_id`` (a ``Reseeded`` or ``BatchSeated`` log read:
        its seating changed). A reorg the head watcher saw as linked (anvil serving a block whose
        parent it lost) kept the lost chain's list; every later lookup by index in it was wrong
        (a seat found another holder's commitment and never revealed: a no-show)."""
        self._holders.pop(batch_id, None)

    def explain(self, data: bytes | str | None) -> str:
        for codec in (self.coordinator, self.gateways, self.stakes):
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

    def encode(self, name: str, *args: Any) -> bytes:
        """Calldata of a SettlementCoordinator function."""
        return self.coordinator.encode_call(name, *args)

    async def send(self, name: str, *args: Any, value: int = 0, gas: int | None = None) -> bytes:
        """Signs and sends a SettlementCoordinator write (``gas``: its limit, else the table's);
        returns the transaction hash."""
        if self.sender is None:
            raise RuntimeError("this SettlementView has no sender")
        return await self.sender.send(
            self.config.settlement,
            self.encode(name, *args),
            gas=gas or GAS.get(name, 1_000_000),
            value=value,
        )

    async def register_stake(self, encryption_key: bytes, stake: int) -> bytes:
        """StakeRegistry ``register``: joins the candidate set from the next epoch."""
        if self.sender is None:
            raise RuntimeError("this SettlementView has no sender")
        data = self.stakes.encode_call("register", encryption_key)
        return await self.sender.send(self.config.stakes, data, gas=GAS["register"], value=stake)

    async def confirm(self, tx_hash: bytes, what: str, timeout: float = 60.0) -> dict[str, Any]:
        """Waits for a receipt; raises TransactionReverted with the decoded error if it failed
        (also when a reorg took the failed transaction out of the chain before its error was
        read: the node no longer has it, and nothing of it stands)."""
        assert self.sender is not None
        receipt = await self.sender.wait(tx_hash, timeout=timeout)
        if int(receipt["status"], 16) != 1:
            tx = await self.rpc.call("eth_getTransactionByHash", [receipt["transactionHash"]])
            if not isinstance(tx, dict):
                raise TransactionReverted(what, "reverted; its block left the chain (reorg)")
            call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "value": tx["value"]}
            try:
                await self.rpc.call("eth_call", [call, receipt["blockNumber"]])
            except RpcError as exc:
                raise TransactionReverted(
                    what, self.explain(exc.data) if exc.data else exc.rpc_message
                ) from None
            raise TransactionReverted(what, "reverted")
        return receipt

    def decode_log(self, log: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        codec = self._codecs.get(str(log.get("address", "")).lower())
        return codec.decode_log(log) if codec else None

    # ---- parameters -------------------------------------------------------------------------

    async def params(self) -> dict[str, Any]:
        if self._params is None:
            self._params = dict(
                await self._call(self.coordinator, self.config.settlement, "params")
            )
        return self._params

    # ---- StakeRegistry ------------------------------------------------------------------------

    async def courts(self) -> tuple[str, str]:
        """(DisputeCourt, EvidenceCourt) addresses, as the stake registry names them."""
        dispute, evidence = await self._call(self.stakes, self.config.stakes, "courts")
        return to_checksum_address(dispute), to_checksum_address(evidence)

    async def current_epoch(self) -> int:
        return int(await self._call(self.stakes, self.config.stakes, "currentEpoch"))

    async def active_set(self, epoch: int | None = None) -> ActiveSet:
        """The members of ``epoch`` (default: the current one) and their cumulative stakes."""
        if epoch is None:
            epoch = await self.current_epoch()
        info = await self._call(self.stakes, self.config.stakes, "epochInfo", epoch)
        count = int(info["members"])
        calls = [
            (
                "eth_call",
                [
                    {
                        "to": self.config.stakes,
                        "data": HexBytes(self.stakes.encode_call("entryAt", epoch, i)).to_0x_hex(),
                    },
                    "latest",
                ],
            )
            for i in range(count)
        ]
        results = await self.rpc.batch(calls) if calls else []
        members, cumulative = [], []
        for raw in results:
            member, cum = self.stakes.decode_result("entryAt", bytes(HexBytes(raw)))
            members.append(to_checksum_address(member))
            cumulative.append(int(cum))
        return ActiveSet(epoch, tuple(members), tuple(cumulative), time.monotonic())

    async def staker(self, worker: str, block: int | str = "latest") -> dict[str, Any]:
        """``getStaker``: stake, unbonding, jail and membership of ``worker`` (at ``block``)."""
        result: dict[str, Any] = await self._call(
            self.stakes,
            self.config.stakes,
            "getStaker",
            to_checksum_address(worker),
            block=block if isinstance(block, str) else hex(block),
        )
        return result

    # ---- GatewayRegistry ----------------------------------------------------------------------

    async def bond_of(self, gateway: str) -> int:
        bond = await self._call(
            self.gateways, self.config.gateways, "bondOf", to_checksum_address(gateway)
        )
        return int(bond["amount"])

    async def endpoint_of(self, gateway: str, block: int | str = "latest") -> str:
        """The job-feed URL ``gateway`` announced on-chain (empty: none), as of ``block``."""
        url = await self._call(
            self.gateways,
            self.config.gateways,
            "endpointOf",
            to_checksum_address(gateway),
            block=block if isinstance(block, str) else hex(block),
        )
        return str(url)

    async def set_endpoint(self, url: str) -> bytes:
        """GatewayRegistry ``setEndpoint``: announces this sender's job-feed URL."""
        if self.sender is None:
            raise RuntimeError("this SettlementView has no sender")
        data = self.gateways.encode_call("setEndpoint", url)
        return await self.sender.send(self.config.gateways, data, gas=GAS["setEndpoint"])

    async def bond_of_at(self, gateway: str, block: int) -> int:
        """A gateway's bond as it was at the end of ``block``."""
        bond = await self._call(
            self.gateways,
            self.config.gateways,
            "bondOf",
            to_checksum_address(gateway),
            block=hex(block),
        )
        return int(bond["amount"])

    async def reserve_of(self, project_id: bytes) -> int:
        reserve = await self._call(self.gateways, self.config.gateways, "reserveOf", project_id)
        return int(reserve["balance"])

    async def authorization_of(self, project_id: bytes, gateway: str) -> tuple[int, int]:
        """(validFrom, validUntil) of a gateway's authorization on a project (``isAuthorizedAt``
        is ``validFrom <= issuedAt < validUntil``)."""
        a = await self._call(
            self.gateways,
            self.config.gateways,
            "authorizationOf",
            project_id,
            to_checksum_address(gateway),
        )
        return int(a["validFrom"]), int(a["validUntil"])

    async def is_authorized_at(self, project_id: bytes, gateway: str, issued_at: int) -> bool:
        return bool(
            await self._call(
                self.gateways,
                self.config.gateways,
                "isAuthorizedAt",
                project_id,
                to_checksum_address(gateway),
                issued_at,
            )
        )

    # ---- SettlementCoordinator ----------------------------------------------------------------

    async def get_batch(self, batch_id: int) -> dict[str, Any]:
        batch: dict[str, Any] = await self._call(
            self.coordinator, self.config.settlement, "getBatch", batch_id
        )
        return batch

    async def get_batches(
        self, batch_ids: list[int], *, missing: bool = False
    ) -> list[dict[str, Any]]:
        """``getBatch`` of each id, read in one JSON-RPC batch (one HTTP round trip). With
        ``missing``, a batch the chain does not have (a reorg dropped its post, and no post has
        its id yet) is an empty dict instead of the whole read failing."""
        calls = [
            (
                "eth_call",
                [
                    {
                        "to": self.config.settlement,
                        "data": HexBytes(self.encode("getBatch", batch_id)).to_0x_hex(),
                    },
                    "latest",
                ],
            )
            for batch_id in batch_ids
        ]
        out: list[dict[str, Any]] = []
        for result in await self.rpc.batch(calls) if calls else []:
            if isinstance(result, RpcError):
                if missing and result.data and "UnknownBatch" in self.explain(result.data):
                    out.append({})
                    continue
                raise TransactionReverted("getBatch()", result.rpc_message)
            out.append(self.coordinator.decode_result("getBatch", bytes(HexBytes(result))))
        return out

    async def seat_draw(
        self, batch_id: int, batch: dict[str, Any] | None = None
    ) -> SeatDraw | None:
        """The seats batch ``batch_id``'s seed block draws (None while that block does not exist):
        the seed from the block's prevrandao, exactly as ``seat`` derives it, and the draw from
        the batch epoch's cumulative-stake array (``StakeRegistry.drawSeats``, the contract's own
        binary search, as a call)."""
        batch = batch if batch is not None else await self.get_batch(batch_id)
        block = await self.rpc.call("eth_getBlockByNumber", [hex(int(batch["seedBlock"])), False])
        if block is None:
            return None
        seed = batch_seed(bytes(HexBytes(block["mixHash"])), batch_id)
        k = int((await self.params())["seats"])
        seats = await self._call(
            self.stakes, self.config.stakes, "drawSeats", int(batch["epoch"]), seed, k
        )
        return SeatDraw(encode_header(block), seed, tuple(to_checksum_address(s) for s in seats))

    async def header_refused(self, block_number: int, header: bytes) -> str:
        """Why the coordinator's beacon refuses ``header`` as block ``block_number``'s, as a
        ``seat`` would (``HeaderMismatch``: the header does not hash to the chain's
        ``BLOCKHASH``); "" when it proves it, or cannot tell yet (``BlockHashUnavailable``, or a
        node that failed the call without a revert: the seating decides)."""
        if not self._beacon:
            contracts = await self._call(self.coordinator, self.config.settlement, "contracts")
            self._beacon = str(contracts[3])
        try:
            await self._call(self.beacon, self._beacon, "valueOf", block_number, header)
        except TransactionReverted as exc:
            data = exc.__cause__.data if isinstance(exc.__cause__, RpcError) else None
            if self.beacon.error_name(data) == "HeaderMismatch":
                return self.beacon.decode_error(data)
        return ""

    async def phase_of(self, batch_id: int) -> int:
        return int(await self._call(self.coordinator, self.config.settlement, "phaseOf", batch_id))

    async def leaf_state(self, batch_id: int, index: int) -> int:
        return int(
            await self._call(self.coordinator, self.config.settlement, "leafState", batch_id, index)
        )

    async def holders_of(
        self, batch_id: int, *, fresh: bool = False
    ) -> tuple[list[str], list[int]]:
        """The batch's distinct seat holders in first-seat order and their seat counts, from its
        ``BatchSeated`` log (the contract keeps only their hash); empty lists while not seated.
        Kept once read while :meth:`keep_holders` is on (``fresh``: read the chain again)."""
        kept = None if fresh else self._holders.get(batch_id)
        if kept is not None:
            return list(kept[0]), list(kept[1])
        breaks = self._heads.breaks if self._heads is not None else 0
        holders, seats = await self._read_holders(batch_id)
        if holders and self._heads is not None and self._heads.breaks == breaks:
            self._holders[batch_id] = (list(holders), list(seats))
            while len(self._holders) > _HOLDERS_KEPT:
                del self._holders[next(iter(self._holders))]
        return holders, seats

    async def _read_holders(self, batch_id: int) -> tuple[list[str], list[int]]:
        batch = await self.get_batch(batch_id)
        if int(batch["holderCount"]) == 0:
            return [], []
        logs = await self.logs("BatchSeated", int(batch["seedBlock"]), batch_id=batch_id)
        if not logs:
            return [], []
        seats = [to_checksum_address(s) for s in logs[-1][1]["seats"]]
        counts: dict[str, int] = {}
        for s in seats:
            counts[s] = counts.get(s, 0) + 1
        return list(counts), list(counts.values())

    async def holder_list(self, batch_id: int) -> list[int]:
        """The holder list the contract's calls take back (``commit``, ``reveal``, ``finalize``,
        ``claimSeatPay``, the courts'): one word per holder, address | seats << 160."""
        return holder_words(*await self.holders_of(batch_id))

    async def vote_of(self, batch_id: int, worker: str) -> bytes:
        """The vector hash ``worker`` revealed (its commitment before that; zero: none)."""
        holders, _ = await self.holders_of(batch_id)
        lowered = [h.lower() for h in holders]
        if worker.lower() not in lowered:
            return bytes(32)
        index = lowered.index(worker.lower())
        return bytes(
            await self._call(self.coordinator, self.config.settlement, "voteOf", batch_id, index)
        )

    async def batch_count(self) -> int:
        return int(await self._call(self.coordinator, self.config.settlement, "batchCount"))

    async def is_seq_posted(self, gateway: str, seq: int) -> bool:
        return bool(
            await self._call(
                self.coordinator,
                self.config.settlement,
                "isSeqPosted",
                to_checksum_address(gateway),
                seq,
            )
        )

    async def seat_pay_of(self, batch_id: int, holder: str) -> int:
        """Wei ``holder`` may claim of ``batch_id``'s committee pay (claimSeatPay). A kept holder
        list the contract refuses (``HoldersMismatch``: a seating this view did not see replaced
        it) is dropped and the chain's read again, once."""
        try:
            return await self._seat_pay(batch_id, holder)
        except TransactionReverted as exc:
            if "HoldersMismatch" not in exc.reason:
                raise
        self.forget_holders(batch_id)
        return await self._seat_pay(batch_id, holder)

    async def _seat_pay(self, batch_id: int, holder: str) -> int:
        holders = await self.holder_list(batch_id)
        if not holders:
            return 0
        return int(
            await self._call(
                self.coordinator,
                self.config.settlement,
                "seatPayOf",
                batch_id,
                to_checksum_address(holder),
                holders,
            )
        )

    async def pending_withdrawal(self, account: str) -> int:
        return int(
            await self._call(
                self.coordinator,
                self.config.settlement,
                "pendingWithdrawal",
                to_checksum_address(account),
            )
        )

    async def function_version(self, function_id: bytes, version: int) -> dict[str, Any]:
        """FunctionRegistry ``getVersion``: runtime, code CID, limits of one version."""
        result: dict[str, Any] = await self._call(
            self.registry, self.config.registry, "getVersion", function_id, version
        )
        return result

    async def function_info(
        self, function_id: bytes, block: int | str = "latest"
    ) -> dict[str, Any]:
        """FunctionRegistry ``getFunction`` (as of ``block``)."""
        result: dict[str, Any] = await self._call(
            self.registry,
            self.config.registry,
            "getFunction",
            function_id,
            block=block if isinstance(block, str) else hex(block),
        )
        return result

    async def logs(
        self,
        event: str,
        from_block: int,
        to_block: int | str = "latest",
        batch_id: int | None = None,
        *,
        contract: str = "settlement",
        account: str | None = None,
    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(raw log, decoded args) of one event of ``contract`` ("settlement", "stakes" or
        "gateways"), optionally only those whose first indexed argument is ``batch_id`` or the
        address ``account`` (the worker of ``StakeSlashed``)."""
        address = getattr(self.config, contract)
        codec = self._codecs[address.lower()]
        topics: list[Any] = [HexBytes(codec.event_topic(event)).to_0x_hex()]
        if batch_id is not None:
            topics.append("0x" + batch_id.to_bytes(32, "big").hex())
        elif account is not None:
            topics.append("0x" + bytes(12).hex() + account.lower().removeprefix("0x"))
        return await event_logs(self.rpc, codec, address, event, topics, from_block, to_block)

    async def events(
        self,
        contract: str,
        names: tuple[str, ...],
        *,
        first: int = 0,
        last: int = 0,
        block_hash: str = "",
    ) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(event name, raw log, decoded args) of several events of ``contract`` in one
        ``eth_getLogs``: of the block ``block_hash`` when given (exactly its logs), else of blocks
        ``first`` to ``last``; in the chain's order."""
        address = getattr(self.config, contract)
        codec = self._codecs[address.lower()]
        query: dict[str, Any] = {
            "address": address,
            "topics": [[HexBytes(codec.event_topic(name)).to_0x_hex() for name in names]],
        }
        if block_hash:
            query["blockHash"] = block_hash
        else:
            query["fromBlock"], query["toBlock"] = hex(first), hex(last)
        out = []
        for log in await self.rpc.call("eth_getLogs", [query]):
            decoded = codec.decode_log(log)
            if decoded is not None and decoded[0] in names:
                out.append((decoded[0], log, decoded[1]))
        return out

    def topic(self, event: str, contract: str = "settlement") -> str:
        """The first topic of ``event`` of ``contract`` (hex)."""
        codec = self._codecs[getattr(self.config, contract).lower()]
        return HexBytes(codec.event_topic(event)).to_0x_hex()

    async def logs_of(
        self, events: tuple[str, ...], from_block: int, to_block: int
    ) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(event name, raw log, decoded args) of several events of the settlement contract in
        one ``eth_getLogs`` (its first topic any of theirs), in the chain's order."""
        address = self.config.settlement
        codec = self._codecs[address.lower()]
        topics = [[HexBytes(codec.event_topic(event)).to_0x_hex() for event in events]]
        raw = await self.rpc.call(
            "eth_getLogs",
            [
                {
                    "address": address,
                    "fromBlock": hex(from_block),
                    "toBlock": hex(to_block),
                    "topics": topics,
                }
            ],
        )
        out = []
        for log in raw:
            decoded = codec.decode_log(log)
            if decoded is not None and decoded[0] in events:
                out.append((decoded[0], log, decoded[1]))
        return out

    async def call_input(self, tx_hash: str, name: str) -> dict[str, Any]:
        """The decoded arguments of the SettlementCoordinator call ``tx_hash`` made."""
        tx = await self.rpc.call("eth_getTransactionByHash", [tx_hash])
        return self.coordinator.decode_input(name, bytes(HexBytes(tx["input"])))

    async def posted_leaves(self, tx_hash: str, tx: dict[str, Any] | None = None) -> list[Leaf]:
        """The leaves a ``postBatch`` or ``postOrphans`` call ``tx_hash`` posted, in batch order
        (``tx``: that transaction as already read, else read here).

        Raises ValueError when the transaction is neither (a contract's single request is posted
        by the coordinator's own entry: its leaf comes from the router's event)."""
        if tx is None:
            tx = await self.rpc.call("eth_getTransactionByHash", [tx_hash])
        data = bytes(HexBytes(tx["input"]))
        try:
            args = self.coordinator.decode_input("postBatch", data)
            return decode_posted(BatchHead.from_args(args["head"]), bytes(args["leaves"]))
        except ValueError:
            args = self.coordinator.decode_input("postOrphans", data)
        return [
            Leaf(
                seq=int(t["seq"]),
                function_id=bytes(t["functionId"]),
                version=int(t["version"]),
                input_hash=bytes(t["inputHash"]),
                reward=int(t["reward"]),
                issued_at=int(t["issuedAt"]),
                deadline=int(t["deadline"]),
                mode=int(t["mode"]),
                secrets_version=int(t["secretsVersion"]),
            )
            for t in args["tickets"]
        ]

    async def reveals(self, batch_id: int, from_block: int) -> Reveals:
        """The batch's reveals from its ``SeatRevealed`` logs, in one ``eth_getLogs``: each
        revealed holder's vote as the log names it (the ``vectorHash`` the contract stored; what
        ``voteOf`` answers for a revealed holder), and each vector revealed in full, read from
        its transaction's calldata once per vector hash (a hash-only reveal, or a second full one
        of the same hash, costs no read) and kept by transaction hash (its calldata never
        changes)."""
        votes: dict[str, bytes] = {}
        vectors: dict[bytes, list[bytes]] = {}
        for log, args in await self.logs("SeatRevealed", from_block, batch_id=batch_id):
            vhash = bytes(args["vectorHash"])
            votes[str(args["worker"]).lower()] = vhash
            if vhash in vectors:
                continue
            vector = await self._revealed_vector(str(log["transactionHash"]))
            if vector:
                vectors[vhash] = vector
        return Reveals(votes, vectors)

    async def _revealed_vector(self, tx_hash: str) -> list[bytes]:
        vector = self._reveal_inputs.get(tx_hash)
        if vector is None:
            args = await self.call_input(tx_hash, "reveal")
            vector = [bytes(v) for v in args["vector"]]
            self._reveal_inputs[tx_hash] = vector
            while len(self._reveal_inputs) > _REVEALS_KEPT:
                del self._reveal_inputs[next(iter(self._reveal_inputs))]
        return vector

    async def revealed_vectors(self, batch_id: int, from_block: int) -> dict[bytes, list[bytes]]:
        """Every vector revealed in full for ``batch_id``, by vector hash (:meth:`reveals`)."""
        return (await self.reveals(batch_id, from_block)).vectors

    async def final_vector(self, batch_id: int, from_block: int) -> list[bytes] | None:
        """The per-leaf final results of a settled batch (ABSTAIN where a leaf is not Final), as
        hashed into ``finalVectorHash``; None while the batch is not settled. The votes are the
        reveals' logs' (:meth:`reveals`): only revealed votes weigh, as in the contract's tally."""
        batch = await self.get_batch(batch_id)
        if int(batch["state"]) not in (3, 4):  # Finalized, Closed
            return None
        count = int(batch["leafCount"])
        final_mask = int(batch["finalMask"])
        holders, seats = await self.holders_of(batch_id)
        reveals = await self.reveals(batch_id, from_block)
        votes = reveals.weights(holders, seats)
        out: list[bytes] = []
        for i in range(count):
            if not final_mask >> i & 1:
                out.append(bytes(32))
                continue
            tally: dict[bytes, int] = {}
            for vhash, vector in reveals.vectors.items():
                tally[vector[i]] = tally.get(vector[i], 0) + votes.get(vhash, 0)
            out.append(max(tally, key=lambda v: tally[v]) if tally else bytes(32))
        return out

    async def block_timestamp(self) -> int:
        return (await self.head())[1]

    async def head(self) -> tuple[int, int]:
        """(number, timestamp) of the latest block."""
        block = await self._latest()
        return int(block["number"], 16), int(block["timestamp"], 16)

    async def block_number(self) -> int:
        return int(await self.rpc.call("eth_blockNumber"), 16)

    async def block_gas_limit(self) -> int:
        """The latest block's gas limit."""
        return int((await self._latest())["gasLimit"], 16)

    async def _latest(self) -> dict[str, Any]:
        """The latest block's header (no transactions)."""
        block: dict[str, Any] = await self.rpc.call("eth_getBlockByNumber", ["latest", False])
        return block

    async def head_block(self) -> tuple[int, str]:
        """(number, hash) of the latest block, in one call."""
        block = await self._latest()
        return int(block["number"], 16), str(block["hash"])

    async def head_info(self) -> tuple[int, str, int]:
        """(number, hash, timestamp) of the latest block, in one call."""
        block = await self._latest()
        return int(block["number"], 16), str(block["hash"]), int(block["timestamp"], 16)

    async def head_link(self) -> tuple[int, str, str, int]:
        """(number, hash, parent hash, timestamp) of the latest block, in one call."""
        block = await self.rpc.call("eth_getBlockByNumber", ["latest", False])
        return (
            int(block["number"], 16),
            str(block["hash"]),
            str(block["parentHash"]),
            int(block["timestamp"], 16),
        )

    async def block_hash(self, number: int) -> str | None:
        """The hash of block ``number`` on the node's chain now (None: no such block)."""
        block = await self.rpc.call("eth_getBlockByNumber", [hex(number), False])
        return None if block is None else str(block["hash"])


async def event_logs(
    rpc: RpcClient,
    codec: ContractCodec,
    address: str,
    event: str,
    topics: list[Any],
    from_block: int,
    to_block: int | str,
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(raw log, decoded args) of every ``event`` of the contract at ``address`` matching ``topics``."""
    raw = await rpc.call(
        "eth_getLogs",
        [
            {
                "address": address,
                "fromBlock": hex(from_block),
                "toBlock": to_block if isinstance(to_block, str) else hex(to_block),
                "topics": topics,
            }
        ],
    )
    out = []
    for log in raw:
        decoded = codec.decode_log(log)
        if decoded is not None and decoded[0] == event:
            out.append((log, decoded[1]))
    return out
