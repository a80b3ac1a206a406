"""Lists a project's function versions: number, runtime, limits, mode, when, CID, which is active.

ape run versions shop --account TEST::1
ape run versions shop orders-create --account TEST::1
"""

from __future__ import annotations

from typing import Any

import click
from ape import chain, project
from ape.api import AccountAPI
from ape.cli import ConnectedProviderCommand, account_option

from peerhost.errors import PeerHostError
from peerhost.publishing.context import find_context
from peerhost.publishing.versions import format_versions, list_versions


@click.command(cls=ConnectedProviderCommand)
@click.argument("project_name", metavar="PROJECT")
@click.argument("function", required=False)
@account_option()
@click.option("--deployments", type=click.Path(dir_okay=False), help="Deployments file.")
def cli(
    project_name: str,
    function: str | None,
    account: AccountAPI,
    deployments: str | None,
    network: Any,
) -> None:
    """List the versions of PROJECT's functions (or of one FUNCTION) owned by the account."""
    try:
        deployment, _ = find_context(project, chain, deployments)
        rows = list_versions(deployment.registry, str(account.address), project_name, function)
    except PeerHostError as exc:
        raise click.ClickException(str(exc)) from exc
    if not rows:
        raise click.ClickException(
            f"No functions in project '{project_name}' of {account.address}."
        )
    for line in format_versions(rows):
        click.echo(line)
