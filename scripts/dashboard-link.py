"""Prints a signed link to the account's page on the gateway's status page.

    ape run dashboard-link --account ALIAS [--gateway-url URL] [--lifetime 3600]

The page shows the account's projects, functions and versions, recent requests with their logs,
spend and balance. The link is valid for ``--lifetime`` seconds (at most an hour); it only reads.
Against a running `ape run devnet` its gateway is the default.
"""

from __future__ import annotations

import click
from ape.api import AccountAPI
from ape.cli import account_option

from peerhost.functionlogs.access import account_signer
from peerhost.functionlogs.cli import default_gateway_url
from peerhost.gateway.dashboard.access import MAX_LINK_LIFETIME, owner_link


@click.command()
@account_option()
@click.option(
    "--gateway-url", help="The gateway (default: the devnet's, else $PEERHOST_GATEWAY_URL)."
)
@click.option(
    "--lifetime",
    type=click.IntRange(60, MAX_LINK_LIFETIME),
    default=MAX_LINK_LIFETIME,
    show_default=True,
    help="Seconds the link stays valid.",
)
def cli(account: AccountAPI, gateway_url: str | None, lifetime: int) -> None:
    """Print a signed link to ACCOUNT's dashboard."""
    url = gateway_url or default_gateway_url()
    click.echo(owner_link(url, str(account.address), account_signer(account), lifetime))
