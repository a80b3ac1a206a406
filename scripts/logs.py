"""Prints a project's function logs (stderr, console.*) as the gateway recorded them.

    ape run logs shop --account TEST::1                    # every function of project shop
    ape run logs shop orders-create --account TEST::1 --follow
    ape run logs shop --request 0x1a2b… --account TEST::1

One block per request: time, function, status, latency, mode, request id, then the log lines.
Only the project's owner can read them: the gateway checks the account's signature. Against a
running `ape run devnet` its gateway is the default.
"""

from __future__ import annotations

import click
from ape.api import AccountAPI
from ape.cli import account_option

from peerhost.errors import PeerHostError
from peerhost.functionlogs.access import account_signer
from peerhost.functionlogs.cli import run_logs


@click.command()
@click.argument("project_name", metavar="PROJECT")
@click.argument("function", required=False)
@account_option()
@click.option("--follow", "follow_", is_flag=True, help="Keep printing new requests' logs.")
@click.option("--request", "request_id", help="Only this request (0x…).")
@click.option(
    "--gateway-url", help="The gateway (default: the devnet's, else $PEERHOST_GATEWAY_URL)."
)
def cli(
    project_name: str,
    function: str | None,
    account: AccountAPI,
    follow_: bool,
    request_id: str | None,
    gateway_url: str | None,
) -> None:
    """Print the logs of PROJECT (or of one FUNCTION of it)."""
    try:
        for line in run_logs(
            project_name,
            function,
            owner=str(account.address),
            sign=account_signer(account),
            gateway_url=gateway_url,
            request_id=request_id,
            follow_=follow_,
        ):
            click.echo(line)
    except KeyboardInterrupt:
        pass
    except PeerHostError as exc:
        raise click.ClickException(str(exc)) from exc
