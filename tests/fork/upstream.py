"""An "upstream" chain for the fork tests: anvil with chain id 1, loaded from a saved state that
holds a PeerHost deployment with a published function, a funded project and registered workers.

The state is made the way a real chain gets it: a fresh ``anvil --chain-id 1 --dump-state`` is
started, ape deploys and sets up through an ordinary ``node`` provider, and anvil writes the dump
when it gets SIGINT. The upstream is then ``anvil --chain-id 1 --load-state <state.json>``.

The fork tests build and start all this themselves (see conftest.py). To explore a forked chain by
hand, serve an upstream on the port ape-config.yaml names for ``node: ethereum: mainnet``::

    . bin/env && python tests/fork/upstream.py --port 18545      # Ctrl-C stops it
    ape console --network ethereum:mainnet-fork:foundry          # in another shell
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CHAIN_ID = 1
PROJECT = "shop"
FUNCTION = "orders-create"
CODE_CID = bytes.fromhex("01551220") + bytes(range(32))
FUEL = 1_000_000
MEMORY = 16 * 1024 * 1024
ENCRYPTION_KEY = bytes.fromhex("44" * 32)
ETHER = 10**18
WORKER_STAKE = 2 * ETHER
PROJECT_FUNDS = ETHER // 10
# Test-account indexes (the test mnemonic): same roles as tests/conftest.py.
OWNER, DEVELOPER, GATEWAY, REQUESTER = 0, 1, 2, 3
WORKERS = (4, 5, 6)
SETTLEMENT_EPOCH = 60  # seconds: the fork test advances the v2 epoch by mining past it


def _settlement_params() -> Any:
    from peerhost.deploy import SettlementParams

    return SettlementParams(epoch_length=SETTLEMENT_EPOCH)


@dataclass(frozen=True)
class UpstreamState:
    """What the saved state holds, as recorded when it was made (``<state>.json.meta``)."""

    registry: str
    workers: str
    coordinator: str
    function_id: str
    project_id: str
    price: int
    project_funds: int
    worker_addresses: list[str]
    block_number: int
    # protocol v2 settlement beside v1 (peerhost.deploy.Settlement.addresses), its stakes registered
    settlement: dict[str, str] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> UpstreamState:
        return cls(**json.loads(path.read_text()))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"anvil exited with {process.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"anvil did not listen on 127.0.0.1:{port} within {timeout} s")


def start_anvil(port: int, *args: str) -> subprocess.Popen[bytes]:
    """anvil with chain id 1 on 127.0.0.1:``port`` (it must be on PATH: ``. bin/env``)."""
    cmd = [
        "anvil",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--chain-id",
        str(CHAIN_ID),
        "--silent",
        *args,
    ]
    process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process


def stop_anvil(process: subprocess.Popen[bytes], timeout: float = 20.0) -> int:
    """SIGINT (anvil writes ``--dump-state`` then), then SIGKILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


@contextmanager
def _no_confirmations(network: Any) -> Iterator[None]:
    """ape waits for 2 confirmations on mainnet; an automining anvil mines no further block."""
    config = network.config
    before = config.required_confirmations
    config.required_confirmations = 0
    try:
        yield
    finally:
        config.required_confirmations = before


def populate(url: str) -> UpstreamState:
    """Deploys and sets up PeerHost on the chain-id-1 node at ``url``, through ape (in-process)."""
    from ape import accounts, networks, project

    from peerhost.deploy import deploy, deploy_settlement

    mainnet = networks.ethereum.mainnet
    with _no_confirmations(mainnet), mainnet.use_provider(url, disconnect_after=True):
        a = accounts.test_accounts
        developer, gateway = a[DEVELOPER], a[GATEWAY]
        d = deploy(project, a[OWNER])
        d.registry.publish(PROJECT, FUNCTION, "wasi", CODE_CID, FUEL, MEMORY, 0, sender=developer)
        price = 5 * d.coordinator.params().minReward
        d.coordinator.setProjectPrice(PROJECT, price, sender=developer)
        d.coordinator.setGatewayAuthorization(PROJECT, gateway, True, sender=developer)
        d.coordinator.fundProject(developer, PROJECT, value=PROJECT_FUNDS, sender=developer)
        for i in WORKERS:
            d.workers.register(ENCRYPTION_KEY, value=WORKER_STAKE, sender=a[i])
        # v2 settlement: stakes (counted from the next epoch), a bonded gateway, a funded reserve
        s = deploy_settlement(project, a[OWNER], d.registry, _settlement_params())
        for i in WORKERS:
            s.stakes.register(ENCRYPTION_KEY, value=WORKER_STAKE, sender=a[i])
        s.gateways.fundReserve(
            d.registry.projectIdOf(developer, PROJECT), value=PROJECT_FUNDS, sender=developer
        )
        s.gateways.setGatewayAuthorization(PROJECT, gateway, True, sender=developer)
        s.gateways.bond(value=ETHER, sender=gateway)
        return UpstreamState(
            registry=str(d.registry.address),
            workers=str(d.workers.address),
            coordinator=str(d.coordinator.address),
            function_id="0x" + bytes(d.registry.functionIdOf(developer, PROJECT, FUNCTION)).hex(),
            project_id="0x" + bytes(d.registry.projectIdOf(developer, PROJECT)).hex(),
            price=price,
            project_funds=PROJECT_FUNDS,
            worker_addresses=[str(a[i].address) for i in WORKERS],
            block_number=mainnet.chain_manager.blocks.head.number or 0,
            settlement=s.addresses,
        )


def build_state(state_path: Path) -> UpstreamState:
    """Makes ``state_path`` (anvil's dump) and ``<state_path>.meta`` (what it holds)."""
    port = free_port()
    anvil = start_anvil(port, "--dump-state", str(state_path))
    try:
        meta = populate(f"http://127.0.0.1:{port}")
    finally:
        code = stop_anvil(anvil)
    if not state_path.is_file() or state_path.stat().st_size == 0:
        raise RuntimeError(f"anvil (exit {code}) wrote no state to {state_path}")
    meta.save(meta_path(state_path))
    return meta


def meta_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".meta")


def start_upstream(
    state_path: Path, port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``anvil --chain-id 1 --load-state state_path`` on ``port`` (default: a free one)."""
    port = port or free_port()
    return start_anvil(port, "--load-state", str(state_path)), f"http://127.0.0.1:{port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=18545, help="port to serve the upstream on")
    parser.add_argument(
        "--state", type=Path, default=None, help="state file (default: a fresh one in .build/)"
    )
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[2]
    os.chdir(root)  # ape resolves the project from the working directory
    sys.path.insert(0, str(root))
    state = args.state or root / ".build" / "fork-upstream-state.json"
    if args.state is None or not state.exists():
        state.parent.mkdir(parents=True, exist_ok=True)
        print(json.dumps(asdict(build_state(state)), indent=2))
    upstream, url = start_upstream(state, args.port)
    print(f"upstream (chain id 1) at {url} from {state}; Ctrl-C stops it")
    try:
        upstream.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_anvil(upstream)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
