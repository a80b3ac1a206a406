"""The chain's own input-size refusal: a request the gateway's pre-check let through (here: built
past it, as a gateway with stale limits would) reverts with ``InputTooLarge`` and reaches the
caller as 413 with the sizes, not as a 502 revert."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from ape.api import AccountAPI
from gateway_helpers import PROJECT

from peerhost.gateway import GatewaySettings
from peerhost.gateway.errors import PayloadTooLarge
from peerhost.gateway.problems import problem
from peerhost.gateway.routing import Router
from peerhost.gateway.service import Gateway


def test_submit__input_over_the_coordinator_cap__on_chain_refusal_maps_to_413(
    settings: GatewaySettings,
    publish: Callable[..., bytes],
    funded_project: int,
    developer: AccountAPI,
) -> None:
    publish("big", PROJECT)

    async def scenario() -> PayloadTooLarge:
        gw = Gateway(settings)
        await gw.start()
        try:
            fn = await gw.functions.resolve(
                Router(settings.domain).match("h", f"/{developer.address}/{PROJECT}/big")
            )
            await gw.load_params()
            assert gw.max_input_bytes is not None
            size = gw.max_input_bytes + 1
            waiter = await gw.submit(fn, lambda rid: b"x" * size, "fast")
            with pytest.raises(PayloadTooLarge) as info:
                await waiter.wait(30)
            return info.value
        finally:
            await gw.stop()

    refused = asyncio.run(scenario())
    response = problem(refused)
    assert response.status_code == 413
    assert "The canonical request" in str(refused) and "the limit is" in str(refused)
