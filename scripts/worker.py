"""Runs a PeerHost worker node for an ape account.

    ape run worker --account TEST::4                      # a test account on the local chain
    ape run worker --account alice --network ethereum:sepolia:node --stake 1.5
    ape run worker --account TEST::5 --strategy lazy          # a deviating worker (the lab)
    ape run worker --account TEST::6 --strategy captured-committee --cartel 0xA,0xB  # one owner's

Registers and stakes if the account is not an active worker yet (idempotent), publishes the
worker's X25519 public key (kept in the data dir, mode 0600), then serves until Ctrl-C / SIGTERM
(reveals in flight finish first). Keyfile accounts are unlocked with
``APE_ACCOUNTS_<alias>_PASSPHRASE`` or a prompt. Every other setting comes from the flags below
or ``PEERHOST_WORKER_*`` variables (see docs/worker.md).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from ape import chain, project
from ape.api import AccountAPI
from ape.cli import ConnectedProviderCommand, account_option

from peerhost.accounts import private_key_of
from peerhost.deploy import load_deployment
from peerhost.secrets.keys import load_or_create_worker_key
from peerhost.worker.errors import InvalidWorkerSettings
from peerhost.worker.node import run_node
from peerhost.worker.settings import parse_settings
from peerhost.worker.strategies import WORKER_STRATEGIES, check_strategy

ETHER = 10**18


def _register(deployment: Any, account: AccountAPI, encryption_key: bytes, stake: int) -> None:
    workers = deployment.workers
    info = workers.getWorker(account.address)
    if not info.registered:
        workers.register(encryption_key, value=stake, sender=account)
        click.echo(f"registered {account.address} with {Decimal(stake) / ETHER} ETH")
    elif bytes(info.encryptionKey) != encryption_key:
        workers.setEncryptionKey(encryption_key, sender=account)
        click.echo("published a new encryption key")
    if not workers.isActive(account.address):
        raise click.ClickException(
            f"{account.address} is registered but not active (stake below the minimum)."
        )


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--stake", type=Decimal, help="ETH to stake when registering (default: minimum).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="State dir.")
@click.option("--store", help="Content store spec (e.g. local:~/.peerhost/store).")
@click.option("--concurrency", type=int, help="Jobs run at the same time.")
@click.option("--metrics-port", type=int, help="Port of GET /metrics (0: any free port).")
@click.option("--reply-to", help="Post outputs to this inbox URL instead of the job's.")
@click.option("--confirmations", type=int, help="Blocks a request must be buried under.")
@click.option(
    "--strategy",
    type=click.Choice(list(WORKER_STRATEGIES)),
    help="A deviating behaviour for a lab devnet (default: honest; docs/economics.md).",
)
@click.option(
    "--cartel",
    help="The owner's worker addresses (0xA,0xB) a withholder, captured-committee or "
    "self-dealing worker coordinates with.",
)
def cli(
    account: AccountAPI,
    stake: Decimal | None,
    data_dir: Path | None,
    store: str | None,
    concurrency: int | None,
    metrics_port: int | None,
    reply_to: str | None,
    confirmations: int | None,
    strategy: str | None,
    cartel: str | None,
    network: Any,
) -> None:
    """Serve PeerHost jobs with ACCOUNT's stake."""
    flags = {
        "data_dir": str(data_dir) if data_dir else None,
        "store": store,
        "concurrency": None if concurrency is None else str(concurrency),
        "metrics_port": None if metrics_port is None else str(metrics_port),
        "reply_to": reply_to,
        "confirmations": None if confirmations is None else str(confirmations),
        "strategy": strategy,
        "cartel": cartel,
    }
    try:
        settings = parse_settings(flags)
        check_strategy(settings.strategy, settings.cartel)
    except InvalidWorkerSettings as exc:
        raise click.ClickException(str(exc)) from None
    deployment = load_deployment(chain, project)
    if deployment is None:
        raise click.ClickException(
            "No PeerHost deployment on this network: `ape run deploy` first."
        )
    if data_dir is None and "PEERHOST_WORKER_DATA_DIR" not in os.environ:
        settings = settings.replace(data_dir=settings.data_dir / account.address.lower())
    key = private_key_of(account, lambda question: click.prompt(question, hide_input=True))
    encryption_key = bytes(load_or_create_worker_key(settings.encryption_key_path).public_key)
    minimum = int(deployment.workers.minStake())
    wei = minimum if stake is None else int(stake * ETHER)
    _register(deployment, account, encryption_key, max(wei, minimum))

    config = deployment.chain_config(chain.provider)
    from peerhost.worker import logs

    logs.configure(settings.log_format, settings.log_level)
    click.echo(
        f"worker {account.address} serving as {settings.strategy} (state in {settings.data_dir})"
    )
    run_node(config, key, settings)
