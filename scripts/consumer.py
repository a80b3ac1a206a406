"""Requests a function from a contract and prints its callback (examples/consumer/).

Publish the example function first, then ask for n * n:

ape run publish examples/consumer --account TEST::1
ape run consumer consumer 12 --account TEST::1
"""

from __future__ import annotations

from typing import Any

import click
from ape import chain, project
from ape.api import AccountAPI
from ape.cli import ConnectedProviderCommand, account_option

from peerhost.consumer import ask, deploy_router, settlement_coordinator, wait_answer
from peerhost.errors import PeerHostError
from peerhost.publishing.context import find_context


@click.command(cls=ConnectedProviderCommand)
@click.argument("project_name", metavar="PROJECT")
@click.argument("n", type=int, default=12)
@account_option()
@click.option("--function", "function", default="square", show_default=True)
@click.option(
    "--router", "router_address", help="An existing PeerHostRouter (else one is deployed)."
)
@click.option("--gas", default=300_000, show_default=True, help="The callback's gas limit.")
@click.option(
    "--timeout", default=180.0, show_default=True, help="Seconds to wait for the callback."
)
@click.option(
    "--coordinator", "coordinator_address", help="The SettlementCoordinator (else found)."
)
@click.option("--deployments", type=click.Path(dir_okay=False), help="Deployments file.")
def cli(
    project_name: str,
    n: int,
    account: AccountAPI,
    function: str,
    router_address: str | None,
    gas: int,
    timeout: float,
    coordinator_address: str | None,
    deployments: str | None,
    network: Any,
) -> None:
    """Deploy the example consumer, request FUNCTION of PROJECT on {"query":{"n":N}} and print
    the uint256 its callback receives."""
    try:
        deployment, _ = find_context(project, chain, deployments)
        coordinator = project.SettlementCoordinator.at(
            coordinator_address or settlement_coordinator(chain, deployments)
        )
    except PeerHostError as exc:
        raise click.ClickException(str(exc)) from exc
    fid = bytes(deployment.registry.functionIdOf(account, project_name, function))
    if not deployment.registry.getFunction(fid).activeVersion:
        raise click.ClickException(
            f"No function '{function}' in project '{project_name}' of {account.address}: "
            "publish it first (ape run publish examples/consumer)."
        )
    if router_address:
        router = project.PeerHostRouter.at(router_address)
    else:
        router = deploy_router(project, account, coordinator)
    consumer = project.ExampleConsumer.deploy(router, sender=account)
    click.echo(f"router {router.address}, consumer {consumer.address}")
    fee = int(coordinator.params().minReward)
    rid = ask(consumer, router, fid, b'{"query":{"n":"%d"}}' % n, gas, fee, account)
    click.echo(f"request 0x{rid.hex()} paid {fee} wei; waiting for the committee and the callback")
    answer = wait_answer(router, consumer, rid, timeout)
    if answer.status == "pending":
        raise click.ClickException(f"no callback within {timeout:g} s (still pending)")
    click.echo(f"status {answer.status}")
    if answer.error:
        click.echo(f"error  {answer.error.decode('utf-8', 'replace')}")
    else:
        click.echo(f"output 0x{answer.output.hex()} = {int.from_bytes(answer.output, 'big')}")
