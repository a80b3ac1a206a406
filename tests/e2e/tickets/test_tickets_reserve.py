"""A project's tickets in flight never exceed its reserve: beyond it the gateway answers 402 and
signs nothing."""

from __future__ import annotations

import httpx
import pytest
from ticket_stack import TicketStack

from peerhost.devnet.accounts import GATEWAY, derive

TIGHT = "tight"

pytestmark = pytest.mark.usefixtures("automine")


def test_call__reserve_covers_one_ticket__second_call_402_and_nothing_signed(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    devnet = tickets_stack.devnet
    assert devnet.deployment is not None and devnet.settlement is not None
    developer = tickets_stack.developer
    with tickets_stack.ape():
        registry = devnet.deployment.registry
        hello = registry.functionIdOf(developer, tickets_stack.examples, "hello")
        version = registry.getVersion(hello, 1)
        registry.publish(
            TIGHT, "hello", version.runtime, version.codeCid, version.fuelLimit,
            version.memoryLimit, 0, sender=developer,
        )  # fmt: skip
        reward = int(devnet.settlement.coordinator.params().minReward)
        gateways = devnet.settlement.gateways
        project_id = registry.projectIdOf(developer, TIGHT)
        gateways.fundReserve(project_id, value=reward + reward // 2, sender=developer)
        gateways.setGatewayAuthorization(TIGHT, derive(GATEWAY).address, True, sender=developer)
    url = f"{tickets_stack.gateway_url}/{tickets_stack.owner}/{TIGHT}/hello"
    first = http.get(url, headers={"x-peerhost-mode": "fast"})
    assert first.status_code == 200, first.text
    second = http.get(url, headers={"x-peerhost-mode": "fast"})
    assert second.status_code == 402, second.text
    assert "reserve" in second.json()["message"]
    assert "x-peerhost-request-id" not in second.headers
