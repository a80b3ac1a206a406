"""The shared body of the owner's version commands (`ape run enable|disable|rollback`)."""

from __future__ import annotations

from collections.abc import Callable

import click
from ape import chain, project
from ape.api import AccountAPI
from ape.logging import logger

from peerhost.errors import PeerHostError
from peerhost.publishing.context import find_context
from peerhost.publishing.versions import VersionManager

VersionAction = Callable[[VersionManager, str, str], str]
"""Does one change through the manager for (project, function) and returns what to print."""


def split_target(target: str) -> tuple[str, str]:
    """Splits ``PROJECT/FUNCTION``; a missing function is a usage error."""
    project_name, _, function = target.partition("/")
    if not project_name or not function:
        raise click.BadParameter(
            "give PROJECT/FUNCTION, e.g. shop/orders-create", param_hint="TARGET"
        )
    return project_name, function


def run_version_action(
    target: str, account: AccountAPI, deployments: str | None, action: VersionAction
) -> None:
    """Finds the deployment, runs ``action`` as ``account`` and prints its answer.

    Raises:
        click.BadParameter: ``target`` is not PROJECT/FUNCTION.
        click.ClickException: the deployment, the function or the transaction failed.
    """
    logger.set_level("WARNING")
    project_name, function = split_target(target)
    try:
        deployment, url = find_context(project, chain, deployments)
        manager = VersionManager(deployment.registry, account, url)
        click.echo(action(manager, project_name, function))
    except PeerHostError as exc:
        raise click.ClickException(str(exc)) from exc
