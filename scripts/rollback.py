"""Makes an earlier version of a function active again (the previous one by default).

ape run rollback shop/orders-create --account TEST::1          # active - 1
ape run rollback shop/orders-create --to 3 --account TEST::1
"""

from __future__ import annotations

from typing import Any

import click
from ape import chain, project
from ape.api import AccountAPI
from ape.cli import ConnectedProviderCommand, account_option
from ape.logging import logger

from peerhost.errors import PeerHostError
from peerhost.publishing.context import find_context
from peerhost.publishing.versions import VersionManager


@click.command(cls=ConnectedProviderCommand)
@click.argument("target", metavar="PROJECT/FUNCTION")
@account_option()
@click.option("--to", "to", type=int, help="The version to make active (default: active - 1).")
@click.option("--deployments", type=click.Path(dir_okay=False), help="Deployments file.")
def cli(
    target: str, account: AccountAPI, to: int | None, deployments: str | None, network: Any
) -> None:
    """Roll PROJECT/FUNCTION back to an earlier version."""
    logger.set_level("WARNING")
    project_name, _, function = target.partition("/")
    if not function:
        raise click.BadParameter(
            "give PROJECT/FUNCTION, e.g. shop/orders-create", param_hint="TARGET"
        )
    try:
        deployment, url = find_context(project, chain, deployments)
        click.echo(
            VersionManager(deployment.registry, account, url).rollback(project_name, function, to)
        )
    except PeerHostError as exc:
        raise click.ClickException(str(exc)) from exc
