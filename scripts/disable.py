"""Disables a function (a disabled one answers 410 and accepts no requests).

ape run disable shop/orders-create --account TEST::1
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
@click.option("--deployments", type=click.Path(dir_okay=False), help="Deployments file.")
def cli(target: str, account: AccountAPI, deployments: str | None, network: Any) -> None:
    """Disable PROJECT/FUNCTION."""
    logger.set_level("WARNING")
    project_name, _, function = target.partition("/")
    if not function:
        raise click.BadParameter(
            "give PROJECT/FUNCTION, e.g. shop/orders-create", param_hint="TARGET"
        )
    try:
        deployment, url = find_context(project, chain, deployments)
        manager = VersionManager(deployment.registry, account, url)
        click.echo(manager.set_disabled(project_name, function, True))
    except PeerHostError as exc:
        raise click.ClickException(str(exc)) from exc
