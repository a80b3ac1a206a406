"""Helpers for the worker end-to-end tests: polling and reading the coordinator's events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from peerhost.chain import ChainConfig, Protocol, RpcClient


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, every: float = 0.1) -> Any:
    """Polls ``predicate`` until it returns something truthy; fails the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:.0f} s")
        time.sleep(every)


def events(config: ChainConfig, name: str, **match: Any) -> list[dict[str, Any]]:
    """Decoded coordinator events called ``name`` whose args equal ``match`` (plus ``_tx``)."""

    async def _read() -> list[dict[str, Any]]:
        rpc = RpcClient(config.rpc_url)
        try:
            protocol = Protocol(config, rpc=rpc)
            raw = await rpc.call(
                "eth_getLogs", [{"address": [config.coordinator], "fromBlock": "0x0"}]
            )
        finally:
            await rpc.aclose()
        out = []
        for entry in raw:
            decoded = protocol.decode_log(entry)
            if (
                decoded
                and decoded[0] == name
                and all(decoded[1].get(k) == v for k, v in match.items())
            ):
                out.append({**decoded[1], "_tx": entry["transactionHash"]})
        return out

    return asyncio.run(_read())
