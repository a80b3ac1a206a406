"""Who pays for a request: the project's prepaid balance when possible, else the gateway.

The gateway sends ``requestExecution`` with value 0 (the coordinator takes the project's price
from its prepaid balance) when the project's owner authorized this gateway and the balance
covers the price. Otherwise it attaches ``reward_wei`` of its own, if the operator set one; with
neither, the request is refused with 503 and a message telling the owner what to do.

Authorization, balance and price are cached per project for ``ttl`` seconds and dropped by the
coordinator's ProjectFunded, ProjectPriceSet, ProjectBalanceWithdrawn and GatewayAuthorizationSet
events; each request paid from the balance lowers the cached balance by the price.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from peerhost.gateway.chainview import GatewayProtocol
from peerhost.gateway.errors import PaymentUnavailable
from peerhost.gateway.functions import ResolvedFunction


@dataclass
class _Account:
    at: float
    authorized: bool
    balance: int
    price: int


class PaymentPolicy:
    def __init__(
        self,
        protocol: GatewayProtocol,
        gateway: str,
        reward_wei: int,
        ttl: float,
        min_reward: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.protocol = protocol
        self.gateway = gateway
        self.reward_wei = reward_wei
        self.ttl = ttl
        self.min_reward = min_reward
        self._clock = clock
        self._accounts: dict[bytes, _Account] = {}

    async def _account(self, project_id: bytes) -> _Account:
        account = self._accounts.get(project_id)
        if account is None or self._clock() - account.at >= self.ttl:
            authorized = await self.protocol.is_gateway_authorized(project_id, self.gateway)
            data = await self.protocol.project_account(project_id)
            account = _Account(
                self._clock(), authorized, int(data["balance"]), int(data["pricePerRequest"])
            )
            self._accounts[project_id] = account
        return account

    async def value_for(self, fn: ResolvedFunction) -> int:
        """The value to send with a request for ``fn`` (0: paid from the project's balance)."""
        account = await self._account(fn.project_id)
        usable_price = account.price > 0 and account.price >= self.min_reward
        if account.authorized and usable_price and account.balance >= account.price:
            account.balance -= account.price
            return 0
        if self.reward_wei > 0:
            return self.reward_wei
        if not account.authorized:
            reason = (
                f"project '{fn.project}' of {fn.wallet} has not authorized gateway {self.gateway}"
            )
        elif not usable_price:
            reason = (
                f"project '{fn.project}' of {fn.wallet} has a price of {account.price} wei per "
                f"request, below the minimum reward of {self.min_reward} wei"
            )
        else:
            reason = (
                f"project '{fn.project}' of {fn.wallet} has {account.balance} wei prepaid, "
                f"less than its price of {account.price} wei per request"
            )
        raise PaymentUnavailable(reason)

    def refunded(self, project_id: bytes, price: int) -> None:
        """Gives back a price taken by :meth:`value_for` for a request that was never made."""
        account = self._accounts.get(project_id)
        if account is not None:
            account.balance += price

    def invalidate(self, project_id: bytes) -> None:
        self._accounts.pop(project_id, None)
