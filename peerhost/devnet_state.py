"""Where a running devnet keeps its state, and how other commands find it.

Everything lives under one state directory (``.devnet/`` at the project root unless
``$PEERHOST_DEVNET_DIR`` or ``--state-dir`` says otherwise)::

    .devnet/
      devnet.json        this file's record: chain URL, gateway URL, store, accounts, URLs
      deployments.json   the devnet's own deployments file (never the repo's)
      store/             the embedded content store (code by CID)
      logs/              one log per worker and the gateway
      workers/           each worker's cursor and cache

``devnet.json`` is written once the stack is up and removed when it stops, so
``ape run publish``, ``ape run secrets`` and ``ape console`` can default to a running devnet's
deployment, store and gateway (see :func:`peerhost.deployments.find_deployment`). The devnet
(``peerhost.devnet``) writes this record; the tools below it only read it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STATE_DIR_ENV = "PEERHOST_DEVNET_DIR"
STATE_FILE = "devnet.json"


def default_state_dir() -> Path:
    """``$PEERHOST_DEVNET_DIR``, else ``.devnet/`` at the project root."""
    return Path(os.environ.get(STATE_DIR_ENV) or PROJECT_ROOT / ".devnet")


@dataclass(frozen=True)
class DevnetState:
    """What a running devnet tells other commands.

    Attributes:
        rpc_url: The chain's HTTP JSON-RPC URL.
        chain_id: Its chain id.
        gateway_url: The gateway's base URL.
        store: The content store spec workers read code from.
        deployments: The devnet's deployments file.
        project: The example project's name.
        owner: The example project's owner (publisher) address.
        gateway_account: The gateway's signing address.
        workers: The worker addresses.
        urls: Function name -> live URL of the examples.
        contracts: ``registry``, ``workers``, ``coordinator`` addresses.
        pid: The devnet process id.
    """

    rpc_url: str
    chain_id: int
    gateway_url: str
    store: str
    deployments: str
    project: str
    owner: str
    gateway_account: str
    workers: tuple[str, ...] = ()
    urls: dict[str, str] = field(default_factory=dict)
    contracts: dict[str, str] = field(default_factory=dict)
    pid: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["workers"] = list(self.workers)
        return data

    def save(self, state_dir: Path) -> Path:
        path = state_dir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, state_dir: Path | None = None) -> DevnetState | None:
        """The state of the devnet recorded in ``state_dir``, or None if none is running there."""
        path = (state_dir or default_state_dir()) / STATE_FILE
        try:
            data = json.loads(path.read_text())
            data["workers"] = tuple(data.get("workers", ()))
            state = cls(**data)
        except (OSError, ValueError, TypeError):
            return None
        if state.pid and not _alive(state.pid):
            return None
        return state

    def serves(self, rpc_url: str | None) -> bool:
        """Whether ``rpc_url`` is this devnet's chain (127.0.0.1 and localhost are the same)."""
        return bool(rpc_url) and _endpoint(self.rpc_url) == _endpoint(str(rpc_url))


def clear(state_dir: Path) -> None:
    """Forgets the running devnet (called when it stops)."""
    (state_dir / STATE_FILE).unlink(missing_ok=True)


def _endpoint(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    host = (parts.hostname or "").replace("localhost", "127.0.0.1")
    return host, parts.port


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
