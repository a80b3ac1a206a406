"""Where the chain is and where the contracts live: everything off-chain code needs to connect."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class ChainConfig:
    """Connection facts for one deployment.

    Attributes:
        rpc_url: HTTP JSON-RPC endpoint.
        ws_url: WebSocket endpoint (for log subscriptions); often the same port as ``rpc_url``.
        chain_id: The chain id transactions are signed for.
        registry: FunctionRegistry address.
        workers: WorkerRegistry address.
        coordinator: ExecutionCoordinator address.
        stakes: StakeRegistry address ("" when the settlement contracts are not deployed).
        gateways: GatewayRegistry address ("" likewise).
        settlement: SettlementCoordinator address ("" likewise); set, gateways issue tickets.
    """

    rpc_url: str
    ws_url: str
    chain_id: int
    registry: str
    workers: str
    coordinator: str
    stakes: str = ""
    gateways: str = ""
    settlement: str = ""

    @property
    def has_settlement(self) -> bool:
        """Whether the settlement contracts (tickets, batches, committees) are deployed."""
        return bool(self.settlement and self.stakes and self.gateways)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ChainConfig:
        return cls(**json.loads(text))

    def save(self, path: Path) -> None:
        path.write_text(self.to_json())

    @classmethod
    def load(cls, path: Path) -> ChainConfig:
        return cls.from_json(path.read_text())


def ws_url_for(rpc_url: str) -> str:
    """The WebSocket URL of a node that serves both on one port (anvil, most clients)."""
    if rpc_url.startswith("https://"):
        return "wss://" + rpc_url[len("https://") :]
    if rpc_url.startswith("http://"):
        return "ws://" + rpc_url[len("http://") :]
    return rpc_url
