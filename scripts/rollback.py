"""Makes an earlier version of a function active again (the previous one by default).

ape run rollback shop/orders-create --account TEST::1          # active - 1
ape run rollback shop/orders-create --to 3 --account TEST::1
"""

from __future__ import annotations

from typing import Any

import click
from ape.api import AccountAPI
from ape.cli import ConnectedProviderCommand, account_option

from peerhost.publishing.commands import run_version_action


@click.command(cls=ConnectedProviderCommand)
@click.argument("target", metavar="PROJECT/FUNCTION")
@account_option()
@click.option("--to", "to", type=int, help="The version to make active (default: active - 1).")
@click.option("--deployments", type=click.Path(dir_okay=False), help="Deployments file.")
def cli(
    target: str, account: AccountAPI, to: int | None, deployments: str | None, network: Any
) -> None:
    """Roll PROJECT/FUNCTION back to an earlier version."""
    run_version_action(target, account, deployments, lambda m, p, f: m.rollback(p, f, to))
