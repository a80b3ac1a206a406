"""Deploys the PeerHost contracts wired together, once per network.

    ape run deploy --network ethereum:local:foundry --account TEST::0
    ape run deploy --settlement …     # also the protocol v2 settlement contracts, beside v1

A second run on the same network reports the existing deployment.
"""

from __future__ import annotations

from typing import Any

import click
from ape import project
from ape.api import AccountAPI
from ape.cli import ConnectedProviderCommand, account_option

from peerhost.deploy import deployments_path, ensure_deployment, ensure_settlement


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--deployments", type=click.Path(dir_okay=False), help="Deployments file to use.")
@click.option(
    "--settlement",
    is_flag=True,
    help="Also deploy the protocol v2 settlement contracts (beside v1).",
)
def cli(account: AccountAPI, deployments: str | None, settlement: bool, network: Any) -> None:
    """Deploy FunctionRegistry, WorkerRegistry and ExecutionCoordinator, wired together."""
    path = deployments_path(deployments)
    deployment = ensure_deployment(project, account, path=path)
    status = "existing deployment" if deployment.existing else "deployed"
    click.echo(f"{status} on {deployment.key} (block {deployment.block_number})")
    for name, address in deployment.addresses.items():
        click.echo(f"  {name:<12} {address}")
    if settlement:
        v2, existed = ensure_settlement(project, account, deployment, path=path)
        click.echo(f"settlement (v2): {'existing' if existed else 'deployed'}")
        for name, address in v2.addresses.items():
            click.echo(f"  {name:<12} {address}")
    click.echo(f"recorded in {path}")
