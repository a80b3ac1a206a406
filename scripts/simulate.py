"""Runs a lab scenario on the real contracts of a fresh deployment (the local chain's test accounts)
and, beside it, in the fast model replaying the chain's seeds.

    ape run simulate mixed                      # every strategy path, 5 batches
    ape run simulate forger-captures --batches 6 --json out.json
    ape run simulate --list

Prints per-identity profit (wei), gas paid, slashes and the event counts of both simulators, and
whether they agree to the wei. docs/economics.md describes the scenarios and strategies.
"""

from __future__ import annotations

import json
from typing import Any

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

from peerhost.lab.console import Lab
from peerhost.lab.scenario import SCENARIOS


@click.command(cls=ConnectedProviderCommand)
@click.argument("scenario", required=False)
@click.option("--batches", type=int, help="Batches to run (default: the scenario's).")
@click.option("--leaves", type=int, help="Tickets per batch (default: the scenario's).")
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False), help="Also write both reports as JSON."
)
@click.option("--list", "list_", is_flag=True, help="List the named scenarios.")
def cli(
    scenario: str | None,
    batches: int | None,
    leaves: int | None,
    json_path: str | None,
    list_: bool,
    network: Any,
) -> None:
    """Run SCENARIO on the contracts and in the model; print both reports."""
    if list_ or not scenario:
        width = max(map(len, SCENARIOS))
        for name, make in SCENARIOS.items():
            click.echo(f"{name:<{width}}  {make().description}")
        return
    if scenario not in SCENARIOS:
        raise click.BadParameter(
            f"unknown scenario {scenario!r}; see --list", param_hint="SCENARIO"
        )
    lab = Lab(project, chain, accounts)
    changes = {k: v for k, v in (("batches", batches), ("leaves", leaves)) if v is not None}
    result = lab.compare(scenario, **changes)
    click.echo("on the contracts:")
    click.echo(result.chain.table())
    click.echo("in the model (the chain's seeds):")
    click.echo(result.model.table())
    click.echo(f"agree to the wei: {'yes' if result.agree else 'NO'}")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(
                {
                    "chain": result.chain.as_dict(),
                    "model": result.model.as_dict(),
                    "agree": result.agree,
                },
                f,
                indent=1,
            )
    if not result.agree:
        raise click.ClickException("the simulators disagree (see the two tables)")
