"""Deploys the three PeerHost contracts wired together, and records where they live.

The deployments file (``deployments.json`` in the working directory, or ``$PEERHOST_DEPLOYMENTS``)
maps ``"<ecosystem>:<network>:<chain_id>"`` to the addresses, the deployer and the block of a
deployment. :func:`ensure_deployment` is idempotent: a recorded deployment whose contracts still
have code on the chain is reported instead of deployed again (an ephemeral local chain that was
restarted has no code at the recorded addresses, so it gets a fresh deployment).

Usable from scripts, ``ape console`` and tests::

    from peerhost.deploy import DeployParams, ensure_deployment
    deployment = ensure_deployment(project, accounts.test_accounts[0])
    deployment.addresses, deployment.existing
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ape.api import AccountAPI
from ape.contracts import ContractInstance
from ape.managers.chain import ChainManager

from peerhost.chain.config import ChainConfig, ws_url_for

ETHER = 10**18
DEPLOYMENTS_ENV = "PEERHOST_DEPLOYMENTS"
#: Relative to the working directory: the ape project the commands run in (an installed package
#: has no checkout to find it in); ``$PEERHOST_DEPLOYMENTS`` points anywhere else.
DEPLOYMENTS_FILE = Path("deployments.json")
CONTRACTS = {
    "registry": "FunctionRegistry",
    "workers": "WorkerRegistry",
    "coordinator": "ExecutionCoordinator",
}


@dataclass(frozen=True)
class DeployParams:
    """Protocol parameters; the defaults suit a local devnet. Amounts in wei, times in seconds."""

    min_stake: int = 1 * ETHER
    unbonding_delay: int = 24 * 3600
    min_reward: int = ETHER // 1000
    max_commits: int = 3
    quorum: int = 2
    commit_window: int = 30
    reveal_window: int = 30
    speed_bonus_bps: int = 2000
    commit_lock: int = ETHER // 100
    wrong_reveal_slash: int = ETHER // 100
    missed_reveal_slash: int = 2 * ETHER // 1000
    max_input_bytes: int = 16384
    max_fuel_limit: int = 10_000_000_000
    max_memory_limit: int = 256 * 1024 * 1024

    def coordinator_params(self) -> tuple[int, ...]:
        """``IExecutionCoordinator.Params`` as an ABI tuple, in struct order."""
        return (
            self.min_reward,
            self.max_commits,
            self.quorum,
            self.commit_window,
            self.reveal_window,
            self.speed_bonus_bps,
            self.commit_lock,
            self.wrong_reveal_slash,
            self.missed_reveal_slash,
            self.max_input_bytes,
        )


@dataclass
class Deployment:
    """The three contracts of one deployment, as ape contract instances.

    Attributes:
        registry: FunctionRegistry.
        workers: WorkerRegistry.
        coordinator: ExecutionCoordinator.
        deployer: Address that deployed (and owns) the contracts.
        block_number: Block of the last deployment transaction.
        key: ``"<ecosystem>:<network>:<chain_id>"``.
        existing: True when found already deployed rather than deployed now.
    """

    registry: ContractInstance
    workers: ContractInstance
    coordinator: ContractInstance
    deployer: str
    block_number: int
    key: str
    existing: bool = field(default=False, compare=False)

    @property
    def addresses(self) -> dict[str, str]:
        """``{"registry": …, "workers": …, "coordinator": …}`` (checksummed)."""
        return {
            "registry": str(self.registry.address),
            "workers": str(self.workers.address),
            "coordinator": str(self.coordinator.address),
        }

    def abis(self) -> dict[str, list[dict[str, Any]]]:
        """Plain-dict ABIs keyed like :attr:`addresses`, ready for web3.py."""
        return {
            name: [a.model_dump(mode="json", by_alias=True) for a in c.contract_type.abi]
            for name, c in (
                ("registry", self.registry),
                ("workers", self.workers),
                ("coordinator", self.coordinator),
            )
        }

    def chain_config(self, provider: Any) -> ChainConfig:
        """Where the hot path reaches these contracts through ape's connected ``provider``.

        The WebSocket URL is the provider's own, else the HTTP URL's (one port, as anvil serves).
        """
        rpc_url = str(provider.uri)
        ws_url = getattr(provider, "ws_uri", None) or ws_url_for(rpc_url)
        return ChainConfig(
            rpc_url=rpc_url,
            ws_url=str(ws_url),
            chain_id=int(provider.chain_id),
            **self.addresses,
        )

    def record(self) -> dict[str, Any]:
        """The entry written to the deployments file."""
        return {**self.addresses, "deployer": self.deployer, "block_number": self.block_number}


def deploy(project: Any, deployer: AccountAPI, params: DeployParams | None = None) -> Deployment:
    """Deploys FunctionRegistry, WorkerRegistry and ExecutionCoordinator and wires them.

    Args:
        project: The ape project (``from ape import project``).
        deployer: Account that sends the transactions and owns the contracts.
        params: Protocol parameters (defaults: :class:`DeployParams`).

    Returns:
        The new deployment (not recorded; see :func:`record_deployment`).
    """
    p = params or DeployParams()
    registry = project.FunctionRegistry.deploy(
        p.max_fuel_limit, p.max_memory_limit, sender=deployer
    )
    workers = project.WorkerRegistry.deploy(p.min_stake, p.unbonding_delay, sender=deployer)
    coordinator = project.ExecutionCoordinator.deploy(
        registry.address, workers.address, p.coordinator_params(), sender=deployer
    )
    receipt = workers.setCoordinator(coordinator.address, sender=deployer)
    return Deployment(
        registry=registry,
        workers=workers,
        coordinator=coordinator,
        deployer=str(deployer.address),
        block_number=int(receipt.block_number),
        key=deployment_key(coordinator.chain_manager),
    )


def deployment_key(chain: ChainManager) -> str:
    """``"<ecosystem>:<network>:<chain_id>"`` of the connected network."""
    network = chain.provider.network
    return f"{network.ecosystem.name}:{network.name}:{chain.chain_id}"


def deployments_path(path: Path | str | None = None) -> Path:
    """The deployments file: ``path``, else ``$PEERHOST_DEPLOYMENTS``, else ``deployments.json``
    in the working directory (the ape project)."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get(DEPLOYMENTS_ENV) or DEPLOYMENTS_FILE)


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text() or "{}")
    return data


def record_deployment(deployment: Deployment, path: Path | str | None = None) -> Path:
    """Writes ``deployment`` under its key in the deployments file (other keys are kept)."""
    target = deployments_path(path)
    data = _read(target)
    data[deployment.key] = deployment.record()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(target)
    return target


def load_deployment(
    chain: ChainManager, project: Any = None, path: Path | str | None = None
) -> Deployment | None:
    """The recorded deployment of the connected network, if its contracts are live.

    Returns None when nothing is recorded for this network, or when any recorded address has no
    code or the coordinator is not wired to the recorded registries (e.g. a restarted local chain).
    """
    entry = _read(deployments_path(path)).get(deployment_key(chain))
    if not entry:
        return None
    if project is None:
        from ape import project as local_project

        project = local_project
    addresses = {name: entry.get(name) for name in CONTRACTS}
    if not all(addresses.values()):
        return None
    if any(not chain.provider.get_code(a) for a in addresses.values()):
        return None
    instances = {
        name: project.get_contract(CONTRACTS[name]).at(addresses[name]) for name in CONTRACTS
    }
    coordinator = instances["coordinator"]
    if (
        coordinator.functionRegistry() != addresses["registry"]
        or coordinator.workerRegistry() != addresses["workers"]
        or instances["workers"].coordinator() != addresses["coordinator"]
    ):
        return None
    return Deployment(
        registry=instances["registry"],
        workers=instances["workers"],
        coordinator=coordinator,
        deployer=str(entry.get("deployer", "")),
        block_number=int(entry.get("block_number", 0)),
        key=deployment_key(chain),
        existing=True,
    )


def ensure_deployment(
    project: Any,
    deployer: AccountAPI,
    params: DeployParams | None = None,
    path: Path | str | None = None,
) -> Deployment:
    """Returns the live recorded deployment of this network, else deploys, records and returns one.

    ``Deployment.existing`` tells which happened.
    """
    chain = deployer.chain_manager
    found = load_deployment(chain, project, path)
    if found is not None:
        return found
    deployment = deploy(project, deployer, params)
    record_deployment(deployment, path)
    return deployment


__all__ = [
    "DEPLOYMENTS_ENV",
    "DeployParams",
    "Deployment",
    "deploy",
    "deployment_key",
    "deployments_path",
    "ensure_deployment",
    "load_deployment",
    "record_deployment",
]
