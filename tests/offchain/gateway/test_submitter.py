"""Local request ids under reverts: the failed call gets the decoded error, the next is re-keyed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from ape.api import AccountAPI
from ape.contracts import ContractInstance
from gateway_helpers import PROJECT

from peerhost.gateway import GatewaySettings
from peerhost.gateway.errors import FunctionDisabled
from peerhost.gateway.routing import Router
from peerhost.gateway.service import Gateway
from peerhost.gateway.waiters import Output
from peerhost.wire import result_hash


def test_submit__revert_before_another_in_flight__error_decoded_and_next_id_rekeyed(
    settings: GatewaySettings,
    publish: Callable[..., bytes],
    funded_project: int,
    registry: ContractInstance,
    coordinator: ContractInstance,
    developer: AccountAPI,
    gateway: AccountAPI,
    active_workers: list[AccountAPI],
) -> None:
    doomed = publish("doomed", PROJECT)
    publish("fine", PROJECT)
    router = Router(settings.domain)

    async def scenario() -> None:
        gw = Gateway(settings.replace(confirm_poll_interval=1.5))
        await gw.start()
        try:
            bad = await gw.functions.resolve(
                router.match("h", f"/{developer.address}/{PROJECT}/doomed")
            )
            good = await gw.functions.resolve(
                router.match("h", f"/{developer.address}/{PROJECT}/fine")
            )
            # The cache still says "enabled": the transaction itself will revert.
            registry.setDisabled(doomed, True, sender=developer)
            first = await gw.submit(bad, lambda rid: b"{}", "fast")
            second = await gw.submit(good, lambda rid: b"{}", "fast")
            predicted = second.request_id
            with pytest.raises(FunctionDisabled):
                await first.wait(10)
            for _ in range(200):
                if second.confirmed:
                    break
                await asyncio.sleep(0.02)
            assert second.request_id != predicted
            assert coordinator.getRequest(second.request_id).functionId == good.function_id
            assert gw.waiters.get(second.request_id) is second
            assert gw.submitter.mispredicted == 1
            # The corrected sequence predicts the next id right.
            third = await gw.submit(good, lambda rid: b"{}", "fast")
            for _ in range(200):
                if third.confirmed:
                    break
                await asyncio.sleep(0.02)
            assert gw.submitter.mispredicted == 1
            assert coordinator.getRequest(third.request_id).functionId == good.function_id
            body = b'{"v":1}'
            second.offer(Output(body, result_hash(body), active_workers[0].address))
            assert (await second.wait(1)).body == body
        finally:
            await gw.stop()

    asyncio.run(scenario())
