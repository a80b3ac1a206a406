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


@dataclass(frozen=True)
class SettlementParams:
    """``IProtocolParams.Params`` of protocol v2 settlement (docs/protocol.md: defaults and reasons).

    Amounts in wei, times in seconds, shares in basis points.
    """

    seats: int = 3
    quorum: int = 2
    beacon_delay: int = 4
    max_leaves: int = 256
    max_active: int = 256
    audit_bps: int = 1000
    committee_bps: int = 3000
    speed_bps: int = 1000
    finalizer_bps: int = 100
    honest_slash_bps: int = 5000
    project_slash_bps: int = 2500
    jail_epochs: int = 1
    epoch_length: int = 3600
    seat_window: int = 600
    commit_window: int = 120
    reveal_window: int = 120
    open_window: int = 600
    max_ticket_life: int = 3600
    reserve_lock: int = 2 * 3600
    unbonding_delay: int = 24 * 3600
    min_stake: int = 1 * ETHER
    seat_slash: int = ETHER // 20
    min_reward: int = ETHER // 1000
    min_gateway_bond: int = 1 * ETHER
    orphan_refund: int = ETHER // 1000
    orphan_delay: int = 300

    def as_tuple(self) -> tuple[int, ...]:
        """The ABI tuple, in struct order."""
        return tuple(getattr(self, f) for f in self.__dataclass_fields__)

    @property
    def batch_life(self) -> int:
        return self.seat_window + self.commit_window + self.reveal_window + self.open_window


@dataclass(frozen=True)
class CourtParams:
    """``ICourtParams.CourtParams`` of protocol v2 accountability (docs/protocol.md: defaults and reasons).

    Amounts in wei, times in seconds, shares in basis points.
    """

    challenge_window: int = 300
    commit_window: int = 120
    reveal_window: int = 120
    data_window: int = 120
    attestation_slash_bps: int = 1000
    presenter_bps: int = 1000
    challenge_bond: int = ETHER // 10
    data_bond: int = ETHER // 100
    data_slash: int = ETHER // 10

    def as_tuple(self) -> tuple[int, ...]:
        """The ABI tuple, in struct order."""
        return tuple(getattr(self, f) for f in self.__dataclass_fields__)


@dataclass
class Settlement:
    """The protocol v2 settlement contracts of one deployment (beside the v1 three).

    Attributes:
        registry: The FunctionRegistry both versions share.
        stakes: StakeRegistry (worker stake, epochs, seat draws).
        gateways: GatewayRegistry (gateway bonds, project reserves, authorizations).
        beacon: HeaderBeacon (prevrandao from a proven header).
        tickets: TicketVerifier (EIP-712 tickets and attestations).
        coordinator: SettlementCoordinator (batches, committees, settlement, payments).
        court: DisputeCourt (escalation tiers, challenges).
        evidence: EvidenceCourt (attestation slashes, gateway equivocation, data availability).
    """

    registry: ContractInstance
    stakes: ContractInstance
    gateways: ContractInstance
    beacon: ContractInstance
    tickets: ContractInstance
    coordinator: ContractInstance
    court: ContractInstance
    evidence: ContractInstance

    @property
    def addresses(self) -> dict[str, str]:
        return {
            "court": str(self.court.address),
            "evidence": str(self.evidence.address),
            "stakes": str(self.stakes.address),
            "gateways": str(self.gateways.address),
            "beacon": str(self.beacon.address),
            "tickets": str(self.tickets.address),
            "settlement": str(self.coordinator.address),
        }


def deploy_settlement(
    project: Any,
    deployer: AccountAPI,
    registry: ContractInstance,
    params: SettlementParams | None = None,
    court_params: CourtParams | None = None,
) -> Settlement:
    """Deploys the protocol v2 settlement contracts against ``registry`` and wires them."""
    p = (params or SettlementParams()).as_tuple()
    stakes = project.StakeRegistry.deploy(p, sender=deployer)
    gateways = project.GatewayRegistry.deploy(p, sender=deployer)
    beacon = project.HeaderBeacon.deploy(sender=deployer)
    tickets = project.TicketVerifier.deploy(sender=deployer)
    coordinator = project.SettlementCoordinator.deploy(
        p,
        registry.address,
        stakes.address,
        gateways.address,
        beacon.address,
        tickets.address,
        sender=deployer,
    )
    cp = (court_params or CourtParams()).as_tuple()
    court = project.DisputeCourt.deploy(cp, coordinator.address, sender=deployer)
    evidence = project.EvidenceCourt.deploy(cp, coordinator.address, court.address, sender=deployer)
    stakes.setCoordinator(coordinator.address, sender=deployer)
    gateways.setCoordinator(coordinator.address, sender=deployer)
    coordinator.setCourt(court.address, sender=deployer)
    stakes.setCourts(court.address, evidence.address, sender=deployer)
    gateways.setCourts(court.address, evidence.address, sender=deployer)
    return Settlement(registry, stakes, gateways, beacon, tickets, coordinator, court, evidence)


SETTLEMENT_CONTRACTS = {
    "stakes": "StakeRegistry",
    "gateways": "GatewayRegistry",
    "beacon": "HeaderBeacon",
    "tickets": "TicketVerifier",
    "settlement": "SettlementCoordinator",
    "court": "DisputeCourt",
    "evidence": "EvidenceCourt",
}


def ensure_settlement(
    project: Any,
    deployer: AccountAPI,
    deployment: Deployment,
    params: SettlementParams | None = None,
    path: Path | str | None = None,
) -> tuple[Settlement, bool]:
    """The v2 settlement contracts recorded beside ``deployment``, else deploys and records them.

    Returns the contracts and whether they already existed. The record is the ``"settlement"``
    entry of the deployment's key in the deployments file (v1's entries are left as they are).
    """
    chain = deployer.chain_manager
    target = deployments_path(path)
    data = _read(target)
    entry = data.get(deployment.key, {})
    recorded = entry.get("settlement") or {}
    if set(recorded) == set(SETTLEMENT_CONTRACTS) and all(
        chain.provider.get_code(a) for a in recorded.values()
    ):
        c = {n: project.get_contract(SETTLEMENT_CONTRACTS[n]).at(recorded[n]) for n in recorded}
        if c["settlement"].contracts()[0] == deployment.registry.address:
            s = Settlement(
                deployment.registry,
                c["stakes"],
                c["gateways"],
                c["beacon"],
                c["tickets"],
                c["settlement"],
                c["court"],
                c["evidence"],
            )
            return s, True
    s = deploy_settlement(project, deployer, deployment.registry, params)
    entry = {**deployment.record(), **entry, "settlement": s.addresses}
    data[deployment.key] = entry
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(target)
    return s, False


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


def load_settlement_addresses(
    chain: ChainManager, path: Path | str | None = None
) -> dict[str, str]:
    """The settlement contracts recorded beside the connected network's deployment (the
    ``"settlement"`` entry :func:`ensure_settlement` writes), or ``{}`` when none is recorded."""
    entry = _read(deployments_path(path)).get(deployment_key(chain)) or {}
    return {str(k): str(v) for k, v in (entry.get("settlement") or {}).items()}


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
    "CourtParams",
    "Settlement",
    "SettlementParams",
    "deploy",
    "deploy_settlement",
    "deployment_key",
    "deployments_path",
    "ensure_deployment",
    "ensure_settlement",
    "load_settlement_addresses",
    "load_deployment",
    "record_deployment",
]
