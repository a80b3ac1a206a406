"""The one-command local devnet: chain, contracts, examples, workers and gateway.

    ape run devnet                         # 3 workers, gateway on 127.0.0.1:8080
    ape run devnet --workers 5 --port 9000 --urls-json urls.json
    ape run devnet --workers honest,honest,lazy,forger   # deviating worker processes (the lab)
    ape run devnet --block-time 1          # blocks every second
    ape run devnet --answers requests      # one on-chain request per call

Ctrl-C (or SIGTERM) stops the gateway, then the workers, then the chain.
"""

from __future__ import annotations

from pathlib import Path

import click
from ape import accounts, networks, project
from ape.logging import logger

from peerhost.devnet.run import run_devnet
from peerhost.devnet.stack import DevnetConfig, parse_workers
from peerhost.devnet_state import default_state_dir
from peerhost.errors import PeerHostError


@click.command()
@click.option(
    "--workers",
    default="3",
    show_default=True,
    help="Workers to start: a count, or one strategy per worker for a lab devnet "
    "(honest,honest,lazy,forger; see docs/economics.md).",
)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Gateway HTTP port (0: any free port).",
)
@click.option(
    "--chain-port",
    default=0,
    type=click.IntRange(0, 65535),
    help="anvil's port (default: any free port).",
)
@click.option(
    "--urls-json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the gateway and function URLs to this JSON file.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="State directory (default: .devnet/).",
)
@click.option(
    "--examples",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Project folder to publish (default: examples/).",
)
@click.option(
    "--answers",
    type=click.Choice(["tickets", "requests"]),
    default="tickets",
    show_default=True,
    help="tickets: answer from signed tickets and attestations, settle in batches; "
    "requests: one on-chain request per call (the per-request path).",
)
@click.option(
    "--block-time",
    default=0.0,
    type=click.FloatRange(0, 60),
    help="Seconds between blocks (0: a block per transaction; the workers mine the blocks "
    "committee seeds need).",
)
def cli(
    workers: str,
    port: int,
    chain_port: int,
    urls_json: Path | None,
    state_dir: Path | None,
    examples: Path | None,
    answers: str,
    block_time: float,
) -> None:
    """Run a local PeerHost network serving examples/functions over HTTP."""
    logger.set_level("WARNING")
    try:
        count, strategies = parse_workers(workers)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--workers") from None
    config = DevnetConfig(
        workers=count,
        strategies=strategies,
        port=port,
        chain_port=chain_port,
        state_dir=state_dir or default_state_dir(),
        tickets=answers == "tickets",
        block_time=block_time,
        python_in_background=True,  # the first call need not wait for the Python runtime
    )
    if examples is not None:
        config.examples = examples
    try:
        run_devnet(config, project, networks, accounts, out=click.echo, urls_json=urls_json)
    except PeerHostError as exc:
        raise click.ClickException(str(exc)) from exc
