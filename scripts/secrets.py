"""Manages a project's secrets: sealed to the active workers, never printed.

    ape run secrets set shop DB_URL --account TEST::1         # hidden prompt
    printf %s "$DB_URL" | ape run secrets set shop DB_URL     # or from stdin
    ape run secrets list shop
    ape run secrets unset shop DB_URL
    ape run secrets reseal shop                               # after workers joined or rotated keys

Values are never taken as arguments (they would land in shell history and `ps`).
Each change publishes a new bundle and points the registry at it; workers use the
new one at once. See docs/secrets.md.
"""

from __future__ import annotations

from typing import Any

import click
from ape import chain, project
from ape.api import AccountAPI
from ape.cli import ConnectedProviderCommand, account_option

from peerhost.errors import PeerHostError
from peerhost.secrets.cli import describe, listing, open_tool, read_value
from peerhost.secrets.manage import DEFAULT_TTL
from peerhost.wire.secrets import check_name

_store = click.option(
    "--store",
    help="Content store spec (default: the devnet's store, else $PEERHOST_STORE, else ~/.peerhost/store).",
)
_deployments = click.option(
    "--deployments",
    type=click.Path(dir_okay=False),
    help="Deployments file to read the contracts from.",
)
_ttl = click.option(
    "--ttl-days",
    type=click.IntRange(1, 3650),
    default=DEFAULT_TTL // 86400,
    show_default=True,
    help="Days until the new bundle expires.",
)


@click.group()
def cli() -> None:
    """Manage a project's secrets (set, unset, list, reseal)."""


def _tool(account: AccountAPI, store: str | None, deployments: str | None, ttl_days: int) -> Any:
    tool, where = open_tool(
        project, chain, account, store=store, deployments=deployments, ttl=ttl_days * 86400
    )
    click.echo(f"On {where}", err=True)
    return tool


@cli.command(name="set", cls=ConnectedProviderCommand)
@click.argument("project_name", metavar="PROJECT")
@click.argument("name")
@account_option()
@_store
@_deployments
@_ttl
@click.option(
    "--fresh", is_flag=True, help="Drop the other secrets (when the current bundle is unreadable)."
)
def set_(
    project_name: str,
    name: str,
    account: AccountAPI,
    store: str | None,
    deployments: str | None,
    ttl_days: int,
    fresh: bool,
    network: Any,
) -> None:
    """Set or rotate secret NAME of PROJECT (value from a hidden prompt or stdin)."""
    try:
        check_name(name)
        value = read_value(name)
        if not value:
            raise click.ClickException(f"Empty value for {name}; to remove it use `unset`.")
        tool = _tool(account, store, deployments, ttl_days)
        for line in describe(project_name, tool.set(project_name, name, value, fresh=fresh)):
            click.echo(line)
    except (PeerHostError, PermissionError) as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command(cls=ConnectedProviderCommand)
@click.argument("project_name", metavar="PROJECT")
@click.argument("name")
@account_option()
@_store
@_deployments
@_ttl
def unset(
    project_name: str,
    name: str,
    account: AccountAPI,
    store: str | None,
    deployments: str | None,
    ttl_days: int,
    network: Any,
) -> None:
    """Remove secret NAME from PROJECT."""
    try:
        tool = _tool(account, store, deployments, ttl_days)
        for line in describe(project_name, tool.unset(project_name, name)):
            click.echo(line)
    except (PeerHostError, PermissionError) as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command(name="list", cls=ConnectedProviderCommand)
@click.argument("project_name", metavar="PROJECT")
@account_option()
@_store
@_deployments
def list_(
    project_name: str,
    account: AccountAPI,
    store: str | None,
    deployments: str | None,
    network: Any,
) -> None:
    """List the secret names of PROJECT, when each was set, and workers needing a re-seal."""
    try:
        tool = _tool(account, store, deployments, 1)
        for line in listing(project_name, tool.status(project_name)):
            click.echo(line)
    except (PeerHostError, PermissionError) as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command(cls=ConnectedProviderCommand)
@click.argument("project_name", metavar="PROJECT")
@account_option()
@_store
@_deployments
@_ttl
def reseal(
    project_name: str,
    account: AccountAPI,
    store: str | None,
    deployments: str | None,
    ttl_days: int,
    network: Any,
) -> None:
    """Seal PROJECT's secrets again to the active workers, with a fresh expiry."""
    try:
        tool = _tool(account, store, deployments, ttl_days)
        for line in describe(project_name, tool.reseal(project_name)):
            click.echo(line)
    except (PeerHostError, PermissionError) as exc:
        raise click.ClickException(str(exc)) from exc
