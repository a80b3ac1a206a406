"""What the status page shows of the ticket path: batches, stakers, their pay and slashes.

:class:`BatchActivity` folds the events of the ``StakeRegistry`` and the ``SettlementCoordinator``
(one ``eth_getLogs`` over both per refresh of :class:`~peerhost.gateway.dashboard.activity.ChainActivity`,
over the same block range) into small tables: the latest batches with their phase and leaf
outcomes, the staked workers with the batches they sat on, what they were credited and slashed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from peerhost.chain.settlement import SettlementView

#: Batches and slashes kept (the newest).
KEEP = 500


@dataclass
class BatchRow:
    batch_id: int
    gateway: str
    project_id: str
    leaves: int
    escrow: int  # reward per leaf × leaves, drawn from the project's reserve
    block: int
    phase: str = "posted"  # posted | seated | finalized | closed | expired
    seats: int = 0
    settled: int | None = None  # leaves with a final result
    refunded: int | None = None
    disputed: int | None = None
    paid: int | None = None  # attesters paid when the results were opened


@dataclass
class StakerRow:
    address: str
    registered_block: int
    batches: deque[int] = field(default_factory=lambda: deque(maxlen=10))  # seats taken
    seats: int = 0
    earned_wei: int = 0
    slashes: int = 0
    slashed_wei: int = 0


def _count(mask: Any) -> int:
    return bin(int(mask)).count("1")


class BatchActivity:
    """Incremental view of the settlement contracts' events (see the module docstring)."""

    def __init__(self, view: SettlementView) -> None:
        self.view = view
        self.batches: dict[int, BatchRow] = {}
        self.stakers: dict[str, StakerRow] = {}
        self.slashes: deque[dict[str, Any]] = deque(maxlen=KEEP)
        self._order: deque[int] = deque()

    async def read(self, start: int, head: int) -> None:
        """Folds the events of blocks ``start`` to ``head``."""
        config = self.view.config
        logs = await self.view.rpc.call(
            "eth_getLogs",
            [
                {
                    "fromBlock": hex(start),
                    "toBlock": hex(head),
                    "address": [config.stakes, config.settlement],
                }
            ],
        )
        for entry in logs:
            decoded = self.view.decode_log(entry)
            if decoded is not None:
                self._apply(*decoded, block=int(entry["blockNumber"], 16))

    def _apply(self, name: str, args: dict[str, Any], block: int) -> None:
        if name == "WorkerRegistered":
            address = str(args["worker"])
            self.stakers.setdefault(address.lower(), StakerRow(address, block))
        elif name == "BatchPosted":
            batch_id = int(args["batchId"])
            self.batches[batch_id] = BatchRow(
                batch_id,
                str(args["gateway"]),
                "0x" + bytes(args["projectId"]).hex(),
                int(args["leafCount"]),
                int(args["reward"]) * int(args["leafCount"]),
                block,
            )
            self._order.append(batch_id)
            while len(self._order) > KEEP:
                self.batches.pop(self._order.popleft(), None)
        elif name == "StakeSlashed":
            staker = self.stakers.get(str(args["worker"]).lower())
            if staker is not None:
                staker.slashes += 1
                staker.slashed_wei += int(args["amount"])
            self.slashes.appendleft(
                {"block": block, "worker": str(args["worker"]), "amount": int(args["amount"])}
            )
        elif name in ("Credited", "SeatPayClaimed"):  # credits, and seat pay sent at its claim
            who = args["account"] if name == "Credited" else args["holder"]
            staker = self.stakers.get(str(who).lower())
            if staker is not None:
                staker.earned_wei += int(args["amount"])
        else:
            self._apply_batch(name, args)

    def _apply_batch(self, name: str, args: dict[str, Any]) -> None:
        batch = self.batches.get(int(args["batchId"])) if "batchId" in args else None
        if batch is None:
            return
        if name == "BatchSeated":
            batch.phase = "seated"
            seats = {str(s).lower() for s in args["seats"]}
            batch.seats = len(seats)
            for seat in seats:
                staker = self.stakers.get(seat)
                if staker is not None:
                    staker.seats += 1
                    staker.batches.appendleft(batch.batch_id)
        elif name == "BatchFinalized":
            batch.phase = "finalized"
            batch.settled = _count(args["finalMask"])
            batch.refunded = _count(args["refundMask"])
            batch.disputed = _count(args["disputedMask"])
        elif name == "ResultsOpened":
            batch.paid = int(args["paid"])
        elif name == "BatchClosed":
            batch.phase = "closed"
        elif name == "BatchExpired":
            batch.phase = "expired"

    def recent(self, count: int = 20) -> list[BatchRow]:
        return sorted(self.batches.values(), key=lambda b: -b.batch_id)[:count]

    def spent_by(self, project_id: str) -> int:
        """Escrow drawn from a project's reserve by the batches seen (in wei)."""
        return sum(b.escrow for b in self.batches.values() if b.project_id == project_id)
