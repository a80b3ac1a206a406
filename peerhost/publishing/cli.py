"""The logic behind ``ape run publish``: find the deployment and store, publish, report."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from peerhost.deployments import find_deployment, gateway_registry_of, gateway_url_of
from peerhost.publishing.billing import (
    DEVNET_RESERVE,
    ReserveFunding,
    fund_reserve,
    prepare_project,
    prepare_reserve,
)
from peerhost.publishing.errors import PublishError
from peerhost.publishing.manifest import load_project
from peerhost.publishing.publisher import Publisher
from peerhost.publishing.report import format_report
from peerhost.publishing.schedules import (
    check_schedules,
    gateway_min_interval,
    next_run_lines,
    send_schedules,
)
from peerhost.storage import DEFAULT_STORE_SPEC, open_store

STORE_ENV = "PEERHOST_STORE"


@dataclass(frozen=True)
class PublishOptions:
    """The command line of ``ape run publish``."""

    folder: str
    project_name: str | None = None
    store: str | None = None
    gateway_url: str | None = None
    deployments: str | None = None
    fund: str = "0"
    gateways: tuple[str, ...] = ()
    dry_run: bool = False
    check: bool = False


class InvalidAmount(PublishError, ValueError):
    def __init__(self, text: str) -> None:
        super().__init__(f"'{text}' is not an amount of ether (e.g. 0.5).")


def parse_ether(text: str) -> int:
    """``"0.5"`` -> wei."""
    try:
        value = Decimal(text) * 10**18
    except InvalidOperation as exc:
        raise InvalidAmount(text) from exc
    if value < 0 or value != value.to_integral_value():
        raise InvalidAmount(text)
    return int(value)


def run_publish(options: PublishOptions, project: Any, chain: Any, account: Any) -> Iterator[str]:
    """Publishes ``options.folder`` with ``account`` on the connected network; yields output lines.

    Defaults come from a devnet running on the connected chain (its deployments file, store and
    gateway URL), else from ``$PEERHOST_STORE`` / ``$PEERHOST_GATEWAY_URL`` and the defaults.
    On a devnet that answers from tickets, the project's ticket reserve is topped up to
    :data:`DEVNET_RESERVE` and the devnet's gateway authorized on it, so its URLs answer at once.
    """
    spec = load_project(options.folder, options.project_name)
    found = find_deployment(project, chain, options.deployments)
    deployment, devnet = found.deployment, found.devnet
    store_spec = (
        options.store
        or (devnet.store if devnet else None)
        or os.environ.get(STORE_ENV)
        or DEFAULT_STORE_SPEC
    )
    gateway_url = gateway_url_of(devnet, options.gateway_url)
    yield f"Publishing {spec.root} as project '{spec.name}' on {deployment.key}"
    yield f"  registry {deployment.registry.address}, store {store_spec}"
    for path in spec.ignored:
        yield f"  skipping {path.name} (not a function: use .wasm, .wat or .js)"
    lines: list[str] = []
    publisher = Publisher(
        deployment.registry, account, open_store(store_spec), gateway_url, log=lines.append
    )
    scheduled = any(fn.schedule is not None for fn in spec.functions)
    if scheduled:  # refused before anything is stored or sent
        check_schedules(spec, *gateway_min_interval(gateway_url, str(account.address)))
    report = publisher.publish(spec, dry_run=options.dry_run, sample_check=options.check)
    yield from lines
    yield from format_report(report)
    if spec.cors is not None and not options.dry_run:
        yield publisher.send_http_settings(spec)
    if scheduled:
        yield from next_run_lines(spec)
        if not options.dry_run:
            yield send_schedules(spec, account, str(account.address), gateway_url)
    fund = parse_ether(options.fund)
    if options.dry_run:
        yield "(dry run: nothing stored or sent)"
        return
    # Where the settlement contracts are deployed calls are paid from tickets, drawn from the
    # project's reserve; elsewhere from the per-request path's prepaid balance.
    gateways = gateway_registry_of(project, chain, found, options.deployments)
    if (fund or options.gateways) and gateways is not None:
        funding = fund_reserve(gateways, account, spec.name, fund=fund, authorize=options.gateways)
        yield from format_funding(funding, str(account.address))
    elif fund or options.gateways:
        acct = prepare_project(
            deployment.coordinator,
            deployment.registry,
            account,
            spec.name,
            fund=fund,
            gateways=options.gateways,
        )
        yield (
            f"Project balance {acct.balance / 10**18:.6f} ETH at "
            f"{acct.price / 10**18:.6f} ETH per request"
            + (f"; gateways authorized: {', '.join(options.gateways)}" if options.gateways else "")
        )
    if devnet is not None and gateways is not None:
        # A devnet answering from tickets: the calls are paid from the project's reserve, which
        # a new project does not have yet.
        setup = prepare_reserve(
            gateways, account, spec.name, devnet.gateway_account, minimum=DEVNET_RESERVE
        )
        if setup.funded or setup.authorized:
            done = [f"added {setup.funded / 10**18:g} ETH"] if setup.funded else []
            done += [f"authorized gateway {devnet.gateway_account}"] if setup.authorized else []
            yield (
                f"Devnet ticket reserve of '{spec.name}': {setup.balance / 10**18:g} ETH "
                f"({', '.join(done)})"
            )


def format_funding(funding: ReserveFunding, owner: str) -> Iterator[str]:
    """What ``--fund`` / ``--authorize-gateway`` did to a ticket reserve, for the terminal."""
    name = f"'{funding.project}' (id 0x{funding.project_id.hex()})"
    if funding.funded:
        yield (
            f"Funded the ticket reserve of {name} with {funding.funded / 10**18:g} ETH "
            f"({funding.funded} wei) from {owner}"
        )
    for gateway in funding.authorized:
        yield f"Authorized gateway {gateway} on the ticket reserve of '{funding.project}'"
    yield (
        f"Ticket reserve of '{funding.project}' now {funding.balance / 10**18:g} ETH "
        f"({funding.balance} wei)"
    )
