"""A project's prepaid balance: who pays for its requests.

The end user pays nothing: each request's reward is escrowed from the project's balance,
at the owner's per-request price, by a gateway the owner authorized.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
        coordinator.setProjectPrice(project, price, sender=account)
    if fund > 0:
        coordinator.fundProject(owner, project, value=fund, sender=account)
    project_id = bytes(registry.projectIdOf(owner, project))
    for gateway in gateways:
        if not coordinator.isGatewayAuthorized(project_id, gateway):
            coordinator.setGatewayAuthorization(project, gateway, True, sender=account)
    return project_account(coordinator, registry, owner, project)
