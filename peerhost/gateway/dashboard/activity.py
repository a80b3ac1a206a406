"""What the status page shows from the chain: the three contracts' events, scanned incrementally.

:class:`ChainActivity` keeps a cursor and folds new logs (``eth_getLogs`` over the registry, the
worker registry and the coordinator) into small tables: functions and their versions, workers,
requests (reward, outcome), slashes and settlements; on the ticket path also the settlement
contracts' batches and stakers (:mod:`peerhost.gateway.dashboard.batches`). The first scan starts ``window`` blocks
back; later ones only read new blocks. Reads are throttled to one per ``ttl`` seconds, so any
number of open pages cost the node one ``eth_getLogs`` per ``ttl``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from peerhost.chain.codec import ContractCodec
from peerhost.chain.settlement import SettlementView
from peerhost.gateway.chainview import GatewayProtocol
from peerhost.gateway.dashboard.batches import BatchActivity

#: Requests, settlements and slashes kept (the newest).
KEEP = 500


@dataclass
class FunctionRow:
    function_id: str
    owner: str
    project: str
    name: str
    versions: list[dict[str, Any]] = field(default_factory=list)
    active: int = 0
    disabled: bool = False


@dataclass
class RequestRow:
    request_id: str
    function_id: str
    reward: int
    block: int
    status: str = "pending"  # pending | finalized | refunded
    result_hash: str | None = None
    fastest: str | None = None
    agreeing: int | None = None


@dataclass
class WorkerRow:
    address: str
    registered_block: int
    jobs: deque[str] = field(default_factory=lambda: deque(maxlen=10))  # committed requests
    commits: int = 0
    slashes: int = 0
    slashed_wei: int = 0
    earned_wei: int = 0


@dataclass
class Settlement:
    block: int
    request_id: str
    outcome: str  # finalized | refunded
    result_hash: str | None
    fastest: str | None
    agreeing: int | None


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex()


class ChainActivity:
    """Incremental view of the protocol's events (see the module docstring)."""

    def __init__(
        self,
        protocol: GatewayProtocol,
        window: int = 20_000,
        ttl: float = 1.0,
        settlement: SettlementView | None = None,
    ) -> None:
        self.protocol = protocol
        #: The ticket path's batches and stakers (when the deployment has the settlement contracts).
        self.tickets = BatchActivity(settlement) if settlement is not None else None
        self.window = window
        self.ttl = ttl
        self.next_block: int | None = None
        self.head = 0
        self.functions: dict[str, FunctionRow] = {}
        self.requests: dict[str, RequestRow] = {}
        self.workers: dict[str, WorkerRow] = {}
        self.settlements: deque[Settlement] = deque(maxlen=KEEP)
        self.slashes: deque[dict[str, Any]] = deque(maxlen=KEEP)
        self._order: deque[str] = deque()
        self._refreshed = 0.0
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Reads the blocks mined since the last read (at most once per ``ttl``)."""
        async with self._lock:
            if time.monotonic() - self._refreshed < self.ttl:
                return
            config = self.protocol.config
            head = await self.protocol.block_number()
            start = self.next_block if self.next_block is not None else max(0, head - self.window)
            if start <= head:
                logs = await self.protocol.rpc.call(
                    "eth_getLogs",
                    [
                        {
                            "fromBlock": hex(start),
                            "toBlock": hex(head),
                            "address": [config.registry, config.workers, config.coordinator],
                        }
                    ],
                )
                for entry in logs:
                    decoded = self.protocol.decode_log(entry)
                    if decoded is not None:
                        self._apply(*decoded, block=int(entry["blockNumber"], 16))
                if self.tickets is not None:
                    await self.tickets.read(start, head)
            self.next_block = head + 1
            self.head = head
            self._refreshed = time.monotonic()

    def _apply(self, name: str, args: dict[str, Any], block: int) -> None:
        if name == "FunctionPublished":
            fid = _hex(args["functionId"])
            row = self.functions.setdefault(
                fid, FunctionRow(fid, str(args["owner"]), str(args["project"]), str(args["name"]))
            )
            version = int(args["version"])
            row.versions.append(
                {
                    "version": version,
                    "runtime": str(args["runtime"]),
                    "mode": "verified" if int(args["mode"]) == 1 else "fast",
                    "fuel_limit": int(args["fuelLimit"]),
                    "block": block,
                }
            )
            row.active = version
        elif name == "ActiveVersionChanged":
            found = self.functions.get(_hex(args["functionId"]))
            if found is not None:
                found.active = int(args["version"])
        elif name == "FunctionDisabledSet":
            found = self.functions.get(_hex(args["functionId"]))
            if found is not None:
                found.disabled = bool(args["disabled"])
        elif name == "WorkerRegistered":
            address = str(args["worker"])
            self.workers.setdefault(address.lower(), WorkerRow(address, block))
        elif name == "ExecutionRequested":
            rid = _hex(args["requestId"])
            self.requests[rid] = RequestRow(
                rid, _hex(args["functionId"]), int(args["job"]["reward"]), block
            )
            self._order.append(rid)
            while len(self._order) > KEEP:
                self.requests.pop(self._order.popleft(), None)
        elif name == "ResultCommitted":
            worker = self.workers.get(str(args["worker"]).lower())
            if worker is not None:
                worker.commits += 1
                worker.jobs.appendleft(_hex(args["requestId"]))
        elif name == "WorkerRewarded":
            worker = self.workers.get(str(args["worker"]).lower())
            if worker is not None:
                worker.earned_wei += int(args["amount"])
        elif name == "WorkerSlashed":
            rid = _hex(args["requestId"])
            worker = self.workers.get(str(args["worker"]).lower())
            if worker is not None:
                worker.slashes += 1
                worker.slashed_wei += int(args["amount"])
            self.slashes.appendleft(
                {
                    "block": block,
                    "request_id": rid,
                    "worker": str(args["worker"]),
                    "amount": int(args["amount"]),
                    "reason": int(args["reason"]),
                }
            )
        elif name in ("RequestFinalized", "RequestRefunded"):
            rid = _hex(args["requestId"])
            finalized = name == "RequestFinalized"
            settlement = Settlement(
                block,
                rid,
                "finalized" if finalized else "refunded",
                _hex(args["resultHash"]) if finalized else None,
                str(args["fastest"]) if finalized else None,
                int(args["agreeing"]) if finalized else None,
            )
            self.settlements.appendleft(settlement)
            request = self.requests.get(rid)
            if request is not None:
                request.status = settlement.outcome
                request.result_hash = settlement.result_hash
                request.fastest = settlement.fastest
                request.agreeing = settlement.agreeing

    def functions_of(self, owner: str) -> list[FunctionRow]:
        rows = [f for f in self.functions.values() if f.owner.lower() == owner.lower()]
        return sorted(rows, key=lambda f: (f.project, f.name))

    def spent_by(self, function_ids: set[str]) -> int:
        """Escrow taken for the requests seen of these functions (in wei)."""
        return sum(r.reward for r in self.requests.values() if r.function_id in function_ids)

    async def read(self, codec: ContractCodec, address: str, name: str, *args: Any) -> Any:
        """One ``eth_call`` of a view function."""
        data = codec.encode_call(name, *args)
        result = await self.protocol.rpc.call(
            "eth_call", [{"to": address, "data": "0x" + data.hex()}, "latest"]
        )
        return codec.decode_result(name, bytes.fromhex(result[2:]))
