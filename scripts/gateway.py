"""Runs a PeerHost gateway for an ape account on the connected network.

    ape run gateway --account TEST::2                         # local chain, 127.0.0.1:8080
    ape run gateway --account gw --network ethereum:sepolia:node --domain fn.example.org \\
        --public-url https://gw1.fn.example.org --port 8080

The account sends ``requestExecution`` for every call: projects that authorized it are paid from
their prepaid balance, others only if ``--reward-wei`` is set (see docs/gateway.md). Keyfile
accounts are unlocked with ``APE_ACCOUNTS_<alias>_PASSPHRASE`` or a prompt; the key never leaves
this process. Other settings: flags below or ``PEERHOST_GATEWAY_*`` variables.
"""

from __future__ import annotations

import os
from typing import Any

import click
from ape import chain, project
from ape.api import AccountAPI
from ape.cli import ConnectedProviderCommand, account_option
from hexbytes import HexBytes

from peerhost.accounts import private_key_of
from peerhost.deploy import load_deployment
from peerhost.gateway.cli import build_parser, settings_from
from peerhost.gateway.server import serve
from peerhost.gateway.settings import KEY_ENV


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--domain", help="Serve 0x<wallet>.<domain> hosts (default peerhost.localhost).")
@click.option("--public-url", help="This replica's URL as workers reach it (inbox base).")
@click.option(
    "--mode", type=click.Choice(["fast", "verified"]), help="Override every function's mode."
)
@click.option("--reward-wei", type=int, help="Pay this per request when a project balance cannot.")
@click.option("--rate-limit", type=float, help="Requests per second per client IP (0: off).")
@click.option("--log-level", default="info", show_default=True)
def cli(
    account: AccountAPI,
    host: str,
    port: int,
    domain: str | None,
    public_url: str | None,
    mode: str | None,
    reward_wei: int | None,
    rate_limit: float | None,
    log_level: str,
    network: Any,
) -> None:
    """Serve PeerHost functions over HTTP, sending requests from ACCOUNT."""
    deployment = load_deployment(chain, project)
    if deployment is None:
        raise click.ClickException(
            "No PeerHost deployment on this network: `ape run deploy` first."
        )
    config = deployment.chain_config(chain.provider)
    argv = ["--host", host, "--port", str(port)]
    for flag, value in (
        ("--domain", domain),
        ("--public-url", public_url),
        ("--default-mode", mode),
        ("--reward-wei", reward_wei),
        ("--rate-limit", rate_limit),
    ):
        if value is not None:
            argv += [flag, str(value)]
    args = build_parser().parse_args(argv)
    key = private_key_of(account, lambda question: click.prompt(question, hide_input=True))
    env = {**os.environ, KEY_ENV: HexBytes(key).to_0x_hex()}
    settings = settings_from(args, env, chain=config)
    click.echo(
        f"gateway {account.address} serving on http://{host}:{port} (inbox {settings.reply_to})"
    )
    serve(settings, host=host, port=port, log_level=log_level)
