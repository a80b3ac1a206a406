"""Publishes a functions folder and prints each function's live URL.

    ape run publish examples --account TEST::1
    ape run publish path/to/project --account ALIAS --store local:~/.peerhost/store \
        --gateway-url 'https://{wallet}.peerhost.example' --fund 0.1

Only functions whose code or settings changed get a new version; a second run sends nothing.
Against a running `ape run devnet`, the devnet's store and gateway URL are the defaults
(attach with APE_FOUNDRY_HOST=<the devnet's chain URL>).
"""

from __future__ import annotations

from typing import Any

import click
from ape import chain, project
from ape.api import AccountAPI
from ape.cli import ConnectedProviderCommand, account_option
from ape.logging import logger

from peerhost.errors import PeerHostError
from peerhost.publishing.cli import PublishOptions, run_publish


@click.command(cls=ConnectedProviderCommand)
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@account_option()
@click.option(
    "--project-name",
    "project_name",
    help="Project name (default: project.json, else the folder name).",
)
@click.option(
    "--store",
    help="Content store spec (default: the devnet's store, else $PEERHOST_STORE, else ~/.peerhost/store).",
)
@click.option(
    "--gateway-url", help="Base of the printed URLs; '{wallet}' in it makes them host-style."
)
@click.option(
    "--deployments",
    type=click.Path(dir_okay=False),
    help="Deployments file to read the contracts from.",
)
@click.option(
    "--fund", default="0", help="Ether to add to the project's prepaid balance (e.g. 0.5)."
)
@click.option(
    "--authorize-gateway",
    "gateways",
    multiple=True,
    help="Gateway address allowed to spend the project balance (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Show what would change; store and send nothing.")
@click.option(
    "--check",
    is_flag=True,
    help="Also run each function once on a sample request (GET /) in the local sandbox first.",
)
def cli(
    folder: str,
    account: AccountAPI,
    project_name: str | None,
    store: str | None,
    gateway_url: str | None,
    deployments: str | None,
    fund: str,
    gateways: tuple[str, ...],
    dry_run: bool,
    check: bool,
    network: Any,
) -> None:
    """Publish FOLDER (a project folder holding functions/, or functions/ itself)."""
    logger.set_level("WARNING")  # one line per function, not one per transaction
    options = PublishOptions(
        folder=folder,
        project_name=project_name,
        store=store,
        gateway_url=gateway_url,
        deployments=deployments,
        fund=fund,
        gateways=gateways,
        dry_run=dry_run,
        check=check,
    )
    try:
        for line in run_publish(options, project, chain, account):
            click.echo(line)
    except PeerHostError as exc:
        raise click.ClickException(str(exc)) from exc
