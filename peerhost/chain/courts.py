"""Typed asynchronous access to the accountability contracts (DisputeCourt, EvidenceCourt) over
plain JSON-RPC: what a worker reads and sends to punish, challenge, escalate and vote on a leaf,
present a contradicted attestation, and open or answer a data-availability challenge.

The courts' addresses are discovered on-chain (``StakeRegistry.courts()``), so a chain config that
names the settlement contracts is enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from hexbytes import HexBytes

from peerhost.chain.abis import load_abi
from peerhost.chain.codec import ContractCodec
from peerhost.chain.errors import RpcError, TransactionReverted
from peerhost.chain.settlement import SettlementView, event_logs
from peerhost.wire.disputes import TIER_PANEL

#: Gas limits per write (limits, not costs).
GAS = {
    "punish": 2_500_000,
    "challenge": 2_500_000,
    "escalate": 2_500_000,
    "seatPanel": 2_000_000,
    "commitVote": 250_000,
    "revealVote": 300_000,
    "decide": 2_500_000,
    "close": 2_500_000,
    "withdraw": 120_000,
    "slashAttestation": 600_000,
    "openDataChallenge": 400_000,
    "publishInput": 2_000_000,
    "voidTicket": 400_000,
}

#: IDisputeCourt.CasePhase
CASE_NONE, SEEDING, COMMIT, REVEAL, DECIDE, DECIDED, CLOSABLE, CLOSED = range(8)
#: IDisputeCourt.CaseState
_STATE_NONE, _STATE_SEEDING, _STATE_VOTING, _STATE_DECIDED, _STATE_CLOSED = range(5)
#: the DisputeCourt's events that name a case (batchId, index) and change its record
CASE_EVENTS = (
    "Escalated",
    "PanelReseeded",
    "PanelSeated",
    "VoteCommitted",
    "VoteRevealed",
    "TierDecided",
    "CaseClosed",
)


def case_phase_at(case: dict[str, Any], timestamp: int, challenge_window: int) -> int:
    """A case's phase at a block of ``timestamp``, from its record (``caseOf``) as the court's
    ``phaseOf`` derives it: the record changes only with an event naming the case
    (:data:`CASE_EVENTS`); its deadlines pass with the chain's clock."""
    state = int(case["state"])
    if state == _STATE_NONE:
        return CASE_NONE
    if state == _STATE_SEEDING:
        return SEEDING
    if state == _STATE_CLOSED:
        return CLOSED
    if state == _STATE_DECIDED:
        return DECIDED if timestamp < int(case["decidedAt"]) + challenge_window else CLOSABLE
    committed = int(case["committed"])
    all_in = int(case["tier"]) == TIER_PANEL and committed == int(case["voters"])
    if timestamp < int(case["commitDeadline"]) and not all_in:
        return COMMIT
    if timestamp < int(case["revealDeadline"]) and int(case["revealed"]) < committed:
        return REVEAL
    return DECIDE


#: IEvidenceCourt.DataChallenge.state
DATA_NONE, DATA_OPEN, DATA_PUBLISHED, DATA_VOIDED = range(4)


@dataclass(frozen=True)
class Courts:
    """The accountability contracts' addresses."""

    dispute: str
    evidence: str


class CourtsView:
    """Reads and (given the settlement view's sender) writes of DisputeCourt and EvidenceCourt.

    Args:
        view: The settlement view whose RPC client and sender are used.
        courts: The courts' addresses (see :meth:`load`).
    """

    def __init__(self, view: SettlementView, courts: Courts) -> None:
        self.view = view
        self.rpc = view.rpc
        self.courts = courts
        self.dispute = ContractCodec(load_abi("DisputeCourt"))
        self.evidence = ContractCodec(load_abi("EvidenceCourt"))
        self._params: dict[str, Any] | None = None

    @classmethod
    async def load(cls, view: SettlementView) -> CourtsView:
        """Reads the courts' addresses from the stake registry."""
        dispute, evidence = await view.courts()
        if int(dispute, 16) == 0:
            raise ValueError("the stake registry names no courts (accountability not deployed)")
        return cls(view, Courts(to_checksum_address(dispute), to_checksum_address(evidence)))

    def _codec(self, contract: str) -> tuple[ContractCodec, str]:
        if contract == "dispute":
            return self.dispute, self.courts.dispute
        return self.evidence, self.courts.evidence

    def explain(self, data: bytes | str | None) -> str:
        for codec in (self.dispute, self.evidence):
            if codec.error_name(data):
                return codec.decode_error(data)
        return self.view.explain(data)

    async def call(self, contract: str, name: str, *args: Any) -> Any:
        """A view call of ``contract`` ("dispute" or "evidence")."""
        codec, address = self._codec(contract)
        data = codec.encode_call(name, *args)
        try:
            result = await self.rpc.call(
                "eth_call", [{"to": address, "data": HexBytes(data).to_0x_hex()}, "latest"]
            )
        except RpcError as exc:
            raise TransactionReverted(
                f"{name}()", self.explain(exc.data) if exc.data else exc.rpc_message
            ) from exc
        return codec.decode_result(name, bytes(HexBytes(result)))

    async def send(self, contract: str, name: str, *args: Any, value: int = 0) -> dict[str, Any]:
        """Signs, sends and confirms a write; raises TransactionReverted with the decoded error."""
        sender = self.view.sender
        if sender is None:
            raise RuntimeError("this CourtsView has no sender")
        codec, address = self._codec(contract)
        tx = await sender.send(
            address, codec.encode_call(name, *args), gas=GAS.get(name, 1_000_000), value=value
        )
        receipt = await sender.wait(tx, timeout=60.0)
        if int(receipt["status"], 16) != 1:
            raw = await self.rpc.call("eth_getTransactionByHash", [receipt["transactionHash"]])
            call = {
                "from": raw["from"],
                "to": raw["to"],
                "data": raw["input"],
                "value": raw["value"],
            }
            try:
                await self.rpc.call("eth_call", [call, receipt["blockNumber"]])
            except RpcError as exc:
                raise TransactionReverted(
                    name, self.explain(exc.data) if exc.data else exc.rpc_message
                ) from None
            raise TransactionReverted(name, "reverted")
        return receipt

    async def params(self) -> dict[str, Any]:
        """``courtParams()`` (challengeWindow, dataWindow, bonds, shares)."""
        if self._params is None:
            self._params = dict(await self.call("dispute", "courtParams"))
        return self._params

    # ---- DisputeCourt ---------------------------------------------------------------------------

    async def case_phase(self, batch_id: int, index: int) -> int:
        return int(await self.call("dispute", "phaseOf", batch_id, index))

    async def case_of(self, batch_id: int, index: int) -> dict[str, Any]:
        case: dict[str, Any] = await self.call("dispute", "caseOf", batch_id, index)
        return case

    async def voters_of(self, batch_id: int, index: int, tier: int) -> list[dict[str, Any]]:
        return list(await self.call("dispute", "votersOf", batch_id, index, tier))

    async def settled_value(
        self, batch_id: int, index: int, tier1_value: bytes
    ) -> tuple[bool, bytes]:
        done, value = await self.call("dispute", "settledValue", batch_id, index, tier1_value)
        return bool(done), bytes(value)

    # ---- EvidenceCourt --------------------------------------------------------------------------

    async def data_challenge_of(self, batch_id: int, index: int) -> dict[str, Any]:
        challenge: dict[str, Any] = await self.call("evidence", "dataChallengeOf", batch_id, index)
        return challenge

    async def is_slashed_in(self, batch_id: int, worker: str) -> bool:
        return bool(
            await self.call("evidence", "isSlashedIn", batch_id, to_checksum_address(worker))
        )

    async def pending_withdrawal(self, account: str) -> tuple[int, int]:
        """Credits waiting in (DisputeCourt, EvidenceCourt)."""
        who = to_checksum_address(account)
        return (
            int(await self.call("dispute", "pendingWithdrawal", who)),
            int(await self.call("evidence", "pendingWithdrawal", who)),
        )

    # ---- logs -----------------------------------------------------------------------------------

    def topic(self, contract: str, event: str) -> str:
        """The first topic of ``event`` of ``contract`` ("dispute" or "evidence"), hex."""
        return HexBytes(self._codec(contract)[0].event_topic(event)).to_0x_hex()

    def decode_log(self, contract: str, log: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """(event name, args) of a raw log of ``contract``; None when its ABI does not know it."""
        return self._codec(contract)[0].decode_log(log)

    async def logs(
        self,
        contract: str,
        event: str,
        from_block: int,
        batch_id: int | None = None,
        *,
        to_block: int | str = "latest",
    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(raw log, decoded args) of one court event, optionally for one batch (indexed first)."""
        codec, address = self._codec(contract)
        topics: list[Any] = [HexBytes(codec.event_topic(event)).to_0x_hex()]
        if batch_id is not None:
            topics.append("0x" + batch_id.to_bytes(32, "big").hex())
        return await event_logs(self.rpc, codec, address, event, topics, from_block, to_block)
