"""A project's prepaid balance: who pays for its requests.

The end user pays nothing: each request's reward is escrowed from the project's balance,
at the owner's per-request price, by a gateway the owner authorized.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from ape.exceptions import CustomError, TransactionError

from peerhost.publishing.errors import FundingReverted


@dataclass(frozen=True)
class ProjectAccount:
    """A project's balance and price (wei), and whether a given gateway may spend it."""

    balance: int
    price: int
    gateway_authorized: bool | None = None


def project_account(
    coordinator: Any, registry: Any, owner: str, project: str, gateway: str | None = None
) -> ProjectAccount:
    """Reads (owner, project)'s prepaid account from the coordinator."""
    project_id = bytes(registry.projectIdOf(owner, project))
    account = coordinator.projectAccount(project_id)
    balance = int(getattr(account, "balance", account[0]))
    price = int(getattr(account, "pricePerRequest", account[1]))
    authorized = bool(coordinator.isGatewayAuthorized(project_id, gateway)) if gateway else None
    return ProjectAccount(balance=balance, price=price, gateway_authorized=authorized)


def prepare_project(
    coordinator: Any,
    registry: Any,
    account: Any,
    project: str,
    *,
    fund: int = 0,
    price: int | None = None,
    gateways: tuple[str, ...] = (),
) -> ProjectAccount:
    """Funds the caller's project, sets its price and authorizes gateways; skips what is already so.

    Args:
        coordinator: The ExecutionCoordinator (ape contract).
        registry: The FunctionRegistry (ape contract), for the project id.
        account: The project owner's ape account.
        project: The project name.
        fund: Wei to add to the balance (0 adds nothing).
        price: Per-request price in wei (None keeps the current one, or sets the protocol's
            minimum reward when none is set yet).
        gateways: Gateway addresses to authorize.
    """
    owner = str(account.address)
    current = project_account(coordinator, registry, owner, project)
    if price is None and current.price == 0:
        params = coordinator.params()
        price = int(getattr(params, "minReward", params[0]))
    if price is not None and price != current.price:
        _send(
            "set the per-request price",
            project,
            lambda: coordinator.setProjectPrice(project, price, sender=account),
        )
    if fund > 0:
        _send(
            "fund the prepaid balance",
            project,
            lambda: coordinator.fundProject(owner, project, value=fund, sender=account),
        )
    project_id = bytes(registry.projectIdOf(owner, project))
    for gateway in gateways:
        if not coordinator.isGatewayAuthorized(project_id, gateway):
            _send(
                f"authorize gateway {gateway} on the prepaid balance",
                project,
                partial(
                    coordinator.setGatewayAuthorization, project, gateway, True, sender=account
                ),
            )
    return project_account(coordinator, registry, owner, project)


#: What ``ape run publish`` keeps in a project's ticket reserve on a devnet: about 10,000 calls at
#: the devnet's reward, so a new project answers without a separate funding step.
DEVNET_RESERVE = 10 * 10**18


@dataclass(frozen=True)
class ReserveSetup:
    """A project's ticket reserve after :func:`prepare_reserve`: balance (wei), what was added,
    and whether the gateway was authorized now."""

    balance: int
    funded: int
    authorized: bool


def prepare_reserve(
    gateways: Any, account: Any, project: str, gateway: str, *, minimum: int
) -> ReserveSetup:
    """Tops ``project``'s ticket reserve (GatewayRegistry) up to ``minimum`` from ``account`` and
    authorizes ``gateway`` on it, unless its authorization was ever set (a gateway the owner
    revoked stays revoked).

    Args:
        gateways: The GatewayRegistry (ape contract).
        account: The project owner's ape account.
        project: The project name.
        gateway: The gateway's signing address.
        minimum: The reserve to reach, in wei.
    """
    project_id = bytes(gateways.projectIdOf(str(account.address), project))
    balance = int(gateways.reserveOf(project_id).balance)
    never_set = int(gateways.authorizationOf(project_id, gateway).validUntil) == 0
    done = fund_reserve(
        gateways,
        account,
        project,
        fund=max(0, minimum - balance),
        authorize=(gateway,) if never_set else (),
    )
    return ReserveSetup(balance=done.balance, funded=done.funded, authorized=never_set)


@dataclass(frozen=True)
class ReserveFunding:
    """What :func:`fund_reserve` did: wei added, gateways authorized, and the reserve after."""

    project: str
    project_id: bytes
    funded: int
    authorized: tuple[str, ...]
    balance: int


def fund_reserve(
    gateways: Any,
    account: Any,
    project: str,
    *,
    fund: int = 0,
    authorize: tuple[str, ...] = (),
) -> ReserveFunding:
    """Adds ``fund`` wei to ``project``'s ticket reserve (GatewayRegistry) from ``account`` and
    authorizes each gateway of ``authorize`` on it (a gateway already authorized keeps the start
    of its authorization).

    Args:
        gateways: The GatewayRegistry (ape contract).
        account: The project owner's ape account.
        project: The project name.
        fund: Wei to add (0 adds nothing).
        authorize: Gateway signing addresses to authorize.

    Raises:
        FundingReverted: a transaction reverted (nothing was added by it).
    """
    project_id = bytes(gateways.projectIdOf(str(account.address), project))
    if fund > 0:
        _send(
            "fund the ticket reserve",
            project,
            lambda: gateways.fundReserve(project_id, value=fund, sender=account),
        )
    for gateway in authorize:
        _send(
            f"authorize gateway {gateway} on the ticket reserve",
            project,
            partial(gateways.setGatewayAuthorization, project, gateway, True, sender=account),
        )
    balance = int(gateways.reserveOf(project_id).balance)
    return ReserveFunding(project, project_id, fund, tuple(authorize), balance)


def _send(action: str, project: str, transact: Callable[[], Any]) -> None:
    """Sends one transaction; a revert becomes :class:`FundingReverted` with its reason."""
    try:
        transact()
    except TransactionError as exc:
        # A contract's own error reads as its name and arguments: InvalidAmount(amount=0, ...).
        reason = repr(exc) if isinstance(exc, CustomError) else str(exc) or type(exc).__name__
        raise FundingReverted(action, project, reason) from exc
