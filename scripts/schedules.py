"""Sets up a project's schedule key, so named stand-in workers keep its schedule running while
the gateway is down (docs/schedules.md):

    ape run schedules authorize shop --function tick --standin 0xWORKER --standin 0xOTHER \\
        --account OWNER [--gateway-url URL] [--runs 1000] [--out schedule-key-shop.json]

The key is created in memory, bonded (from the owner's funds), authorized on the project's
reserve, and sealed to the gateway and the stand-ins only; it is never printed. Copy the key file
into each holder's ``<data_dir>/schedule-keys/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape import chain, project
from ape.api import AccountAPI
from ape.cli import ConnectedProviderCommand, account_option

from peerhost.deployments import find_deployment, gateway_registry_of, gateway_url_of
from peerhost.errors import PeerHostError
from peerhost.publishing.standins import KEY_DIR, authorize


@click.group()
def cli() -> None:
    """Schedule keys: stand-in issuers for scheduled functions."""


@cli.command(name="authorize", cls=ConnectedProviderCommand)
@click.argument("project_name", metavar="PROJECT")
@click.option(
    "--function", "functions", multiple=True, required=True, help="A scheduled function (repeat)."
)
@click.option(
    "--standin", "standins", multiple=True, help="A worker address that may stand in (repeat)."
)
@click.option("--gateway-url", help="The primary gateway (default: the devnet's).")
@click.option(
    "--runs",
    type=click.IntRange(1, 10**7),
    default=1000,
    show_default=True,
    help="Runs the key's bond pays the posting of (minimum bond + runs x orphanRefund).",
)
@click.option("--bond", type=float, default=0.0, help="Ether bonded for the key, if more.")
@click.option("--ticket-life", type=click.IntRange(60, 86400), default=600, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--deployments", type=click.Path(dir_okay=False))
@account_option()
def authorize_(
    project_name: str,
    functions: tuple[str, ...],
    standins: tuple[str, ...],
    gateway_url: str | None,
    runs: int,
    bond: float,
    ticket_life: int,
    out: Path | None,
    deployments: str | None,
    account: AccountAPI,
    network: Any,
) -> None:
    """Create, bond and authorize PROJECT's schedule key; seal it to the gateway and stand-ins."""
    try:
        found = find_deployment(project, chain, deployments)
        gateways = gateway_registry_of(project, chain, found, deployments)
        if gateways is None:
            raise click.ClickException("this deployment has no GatewayRegistry (no tickets)")
        coordinator = project.SettlementCoordinator.at(gateways.coordinator())
        done = authorize(
            owner=account,
            project_name=project_name,
            gateways=gateways,
            worker_registry=found.deployment.workers,
            registry_address=str(found.deployment.registry.address),
            chain_id=int(chain.chain_id),
            rpc_url=str(chain.provider.uri),
            min_bond=int(coordinator.params().minGatewayBond),
            orphan_refund=int(coordinator.params().orphanRefund),
            gateway_url=gateway_url_of(found.devnet, gateway_url),
            standins=standins,
            functions=functions,
            out=out or Path(f"schedule-key-{project_name}.json"),
            bond=int(bond * 10**18),
            runs=runs,
            ticket_life=ticket_life,
            now=int(chain.pending_timestamp),
        )
    except (PeerHostError, PermissionError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"schedule key {done.file.address} of {project_name}: bonded {done.bond / 10**18:g} ETH, "
        f"authorized on the project's reserve, sealed to {', '.join(done.holders)}"
    )
    click.echo(f"key file: {done.path} (copy it into each holder's <data_dir>/{KEY_DIR}/)")
