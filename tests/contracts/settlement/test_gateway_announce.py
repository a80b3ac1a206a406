"""The gateway's start-up announcement (peerhost.gateway.announce) against the real GatewayRegistry:
sent once when bonded, nothing sent when unchanged, unbonded or not a usable URL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.sender import TxSender
from peerhost.chain.settlement import SettlementView
from peerhost.gateway.announce import announce_endpoint

URL = "https://gw.example.org:8443"


@pytest.fixture
def announce(v2_config: ChainConfig, chain: Any, gateway: Any) -> Any:
    """``announce(url) -> (outcome, endpoint on-chain, transactions the gateway sent)``."""
    config = v2_config

    def run(url: str) -> tuple[str, str, int]:
        async def main() -> tuple[str, str, int]:
            rpc = RpcClient(config.rpc_url)
            sender = TxSender(rpc, gateway.private_key, chain.chain_id)
            view = SettlementView(config, rpc)

            async def transact(to: str, data: bytes, gas: int) -> dict[str, object]:
                return dict(await sender.wait(await sender.send(to, data, gas=gas)))

            try:
                before = int(
                    await rpc.call("eth_getTransactionCount", [gateway.address, "latest"]), 16
                )
                outcome = await announce_endpoint(view, transact, gateway.address, url)
                after = int(
                    await rpc.call("eth_getTransactionCount", [gateway.address, "latest"]), 16
                )
                return outcome, await view.endpoint_of(gateway.address), after - before
            finally:
                await rpc.aclose()

        return asyncio.run(main())

    return run


def test_announce__bonded_gateway__sent_once_then_unchanged(announce, settlement, gateway, kit):
    settlement.gateways.bond(value=kit.params.min_gateway_bond, sender=gateway)
    assert announce(URL + "/") == ("announced", URL, 1)
    assert announce(URL) == ("unchanged", URL, 0)


def test_announce__unbonded_gateway__skipped_nothing_sent(announce):
    assert announce(URL) == ("skipped", "", 0)


def test_announce__unusable_url__skipped_nothing_sent(announce, settlement, gateway, kit):
    settlement.gateways.bond(value=kit.params.min_gateway_bond, sender=gateway)
    assert announce("ftp://gw.example.org") == ("skipped", "", 0)
