"""How the tools find the deployment to use: one answer for the console, publishing and secrets.

A devnet running on the connected chain wins (its own deployments file, else the contract
addresses in its record, whatever the network is called: a local chain or a fork); otherwise the
deployments file (``deployments``, ``$PEERHOST_DEPLOYMENTS`` or ``deployments.json`` in the working directory).
An explicit ``deployments`` file always wins over the devnet's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peerhost.deploy import (
    CONTRACTS,
    Deployment,
    deployment_key,
    load_deployment,
    load_settlement_addresses,
)
from peerhost.devnet_state import DevnetState
from peerhost.errors import PeerHostError

#: The gateway the tools call when no devnet runs and ``$PEERHOST_GATEWAY_URL`` is unset.
DEFAULT_GATEWAY_URL = "http://127.0.0.1:8080"
GATEWAY_URL_ENV = "PEERHOST_GATEWAY_URL"


class DeploymentNotFound(PeerHostError, LookupError):
    """No PeerHost deployment is known on the connected network."""

    def __init__(self, network: str, reason: str) -> None:
        self.network = network
        super().__init__(
            f"No PeerHost contracts on {network}: {reason}. "
            "Deploy them first (`ape run deploy`) or run a devnet (`ape run devnet`)."
        )


@dataclass(frozen=True)
class Found:
    """The deployment to use, and the devnet it belongs to (None when it is not a devnet's)."""

    deployment: Deployment
    devnet: DevnetState | None


def running_devnet(chain: Any) -> DevnetState | None:
    """The devnet recorded as running on the chain ape is connected to, if any."""
    devnet = DevnetState.load()
    if devnet is None or not devnet.serves(getattr(chain.provider, "uri", None)):
        return None
    return devnet


def find_deployment(project: Any, chain: Any, deployments: str | Path | None = None) -> Found:
    """The live deployment of the connected network (see the module docstring for the order).

    Raises:
        DeploymentNotFound: none is recorded, or its contracts are not live on this chain.
    """
    devnet = running_devnet(chain)
    if devnet is not None and deployments is None:
        deployment = _devnet_deployment(devnet, project, chain)
        where = devnet.deployments
    else:
        deployment = load_deployment(chain, project, deployments)
        where = str(deployments) if deployments is not None else "the deployments file"
    if deployment is None:
        raise DeploymentNotFound(deployment_key(chain), f"none recorded in {where}")
    return Found(deployment, devnet)


def _devnet_deployment(devnet: DevnetState, project: Any, chain: Any) -> Deployment | None:
    recorded = load_deployment(chain, project, devnet.deployments)
    if recorded is not None or not devnet.contracts:
        return recorded
    instances = {
        name: project.get_contract(CONTRACTS[name]).at(devnet.contracts[name]) for name in CONTRACTS
    }
    return Deployment(
        registry=instances["registry"],
        workers=instances["workers"],
        coordinator=instances["coordinator"],
        deployer="",
        block_number=0,
        key=deployment_key(chain),
        existing=True,
    )


def gateway_registry_of(
    project: Any, chain: Any, found: Found, deployments: str | Path | None = None
) -> Any | None:
    """The deployment's GatewayRegistry (ticket reserves), or None where the settlement
    contracts are not deployed (the per-request path only).

    Found as :func:`find_deployment` finds the rest: the devnet's record, else the
    ``"settlement"`` entry of the deployments file; an address without code counts as none.
    """
    devnet = found.devnet
    address: str | None = None
    if devnet is not None and deployments is None:
        address = devnet.contracts.get("gateways")
    if not address:
        path = deployments if deployments is not None else (devnet.deployments if devnet else None)
        address = load_settlement_addresses(chain, path).get("gateways")
    if not address or not chain.provider.get_code(address):
        return None
    return project.GatewayRegistry.at(address)


def gateway_url_of(devnet: DevnetState | None, gateway_url: str | None = None) -> str:
    """The gateway the tools call: ``gateway_url``, else the devnet's, else
    ``$PEERHOST_GATEWAY_URL``, else :data:`DEFAULT_GATEWAY_URL`."""
    return (
        gateway_url
        or (devnet.gateway_url if devnet else None)
        or os.environ.get(GATEWAY_URL_ENV)
        or DEFAULT_GATEWAY_URL
    )
