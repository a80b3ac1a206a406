"""The ticket-path stack the e2e tests drive (imported by module name, never from a conftest)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from peerhost.chain.rpc import RpcClient
from peerhost.chain.settlement import SettlementView
from peerhost.devnet.stack import Devnet


@dataclass
class TicketStack:
    devnet: Devnet
    networks: Any
    developer: Any
    examples: str = ""

    @property
    def gateway_url(self) -> str:
        return self.devnet.gateway_url

    @property
    def owner(self) -> str:
        return str(self.developer.address)

    def example(self, function: str) -> str:
        return f"{self.gateway_url}/{self.owner}/{self.examples}/{function}"

    def ape(self) -> contextlib.AbstractContextManager[Any]:
        return self.networks.ethereum.local.use_provider(
            "foundry", provider_settings={"host": self.devnet.rpc_url}
        )

    def view(self, coro: Callable[[SettlementView], Awaitable[Any]]) -> Any:
        """Runs ``coro(view)`` against the stack's chain (plain JSON-RPC, no ape)."""
        chain = self.devnet.chain_config
        assert chain is not None

        async def main() -> Any:
            rpc = RpcClient(chain.rpc_url)
            try:
                return await coro(SettlementView(chain, rpc))
            finally:
                await rpc.aclose()

        return asyncio.run(main())

    def restart_gateway(self, *, crash: bool = False, **settings: Any) -> None:
        """Stops the gateway (SIGKILL when ``crash``), starts it with ``settings`` changed (same
        ticket book) and waits until the workers are back on its feed."""
        devnet = self.devnet
        if crash:
            devnet.gateway.kill()
            devnet.gateway = None
        else:
            devnet.stop_gateway()
        devnet.config.gateway_settings.update(settings)
        devnet.start_gateway()
        devnet.wait_for_feeds(devnet.config.workers)

    def status(self, request_id: str) -> dict[str, Any]:
        response = httpx.get(f"{self.gateway_url}/_status/requests/{request_id}")
        response.raise_for_status()
        doc: dict[str, Any] = response.json()
        return doc


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Polls ``predicate`` until it returns something truthy (returned); fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout} s")
