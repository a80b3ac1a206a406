"""Disables a function (a disabled one answers 410 and accepts no requests).

ape run disable shop/orders-create --account TEST::1
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
@click.option("--deployments", type=click.Path(dir_okay=False), help="Deployments file.")
def cli(target: str, account: AccountAPI, deployments: str | None, network: Any) -> None:
    """Disable PROJECT/FUNCTION."""
    run_version_action(target, account, deployments, lambda m, p, f: m.set_disabled(p, f, True))
