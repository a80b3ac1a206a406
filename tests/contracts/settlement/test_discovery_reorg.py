"""Gateway discovery (peerhost.worker.discovery) follows reorgs of the real chain: anvil's
``anvil_reorg`` and ``evm_snapshot``/``evm_revert`` remove, change and add ``GatewayEndpoint``
announcements under a worker that has already read them, and the worker's feeds follow."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.settlement import SettlementView
from peerhost.worker.discovery import GatewayDiscovery
from peerhost.worker.feed import FeedClient

URL_1 = "http://127.0.0.1:1"
URL_2 = "http://127.0.0.1:2"
URL_3 = "http://127.0.0.1:3"


async def _no_offer(*_: Any) -> Any:
    raise AssertionError("no offer expected")


class Worker:
    """A worker's discovery over plain JSON-RPC, driven one poll at a time on one event loop."""

    def __init__(self, config: ChainConfig, confirmations: int = 0) -> None:
        self.loop = asyncio.new_event_loop()
        self.rpc = RpcClient(config.rpc_url)

        def open_feed(url: str, gateway: str) -> FeedClient:
            return FeedClient(
                url, "0x" + "cc" * 20, b"\x01" * 32, _no_offer, expect_gateway=gateway
            )

        self.discovery = GatewayDiscovery(
            SettlementView(config, self.rpc), open_feed, [], confirmations=confirmations
        )

    def poll(self) -> dict[str, str]:
        """One poll; the feeds open afterwards, by gateway: their base URLs."""
        self.loop.run_until_complete(self.discovery.poll())
        return {g: f.base_url for g, f in self.discovery.feeds.items()}

    def close(self) -> None:
        self.loop.run_until_complete(self.discovery.stop())
        self.loop.run_until_complete(self.rpc.aclose())
        self.loop.close()


@pytest.fixture
def worker(v2_config: ChainConfig) -> Iterator[Worker]:
    w = Worker(v2_config)
    yield w
    w.close()


@pytest.fixture
def announce(settlement: Any, kit: Any) -> Any:
    """``announce(account, url)``: bonds ``account`` (once) and announces ``url``."""

    def run(account: Any, url: str) -> None:
        if settlement.gateways.bondOf(account.address).amount < kit.params.min_gateway_bond:
            settlement.gateways.bond(value=kit.params.min_gateway_bond, sender=account)
        settlement.gateways.setEndpoint(url, sender=account)

    return run


def rpc(chain: Any, method: str, *params: Any) -> Any:
    return chain.provider.make_request(method, list(params))


def test_poll__announcement_reorged_away__feed_closed(worker, announce, gateway, chain):
    announce(gateway, URL_1)
    assert worker.poll() == {gateway.address.lower(): URL_1}

    rpc(chain, "anvil_reorg", 1, [])  # the block of setEndpoint replaced by an empty one

    assert worker.poll() == {}
    assert worker.discovery.reorgs == 1
    assert worker.discovery.announced == {gateway.address.lower(): ""}


def test_poll__announcement_changed_by_reorg__feed_follows_the_new_branch(
    worker, announce, gateway, chain
):
    announce(gateway, URL_1)
    assert worker.poll() == {gateway.address.lower(): URL_1}
    snapshot = rpc(chain, "evm_snapshot")
    announce(gateway, URL_2)
    assert worker.poll() == {gateway.address.lower(): URL_2}

    assert rpc(chain, "evm_revert", snapshot) is True
    announce(gateway, URL_3)  # the new branch announces another URL at the same height

    assert worker.poll() == {gateway.address.lower(): URL_3}
    assert worker.discovery.reorgs == 1


def test_poll__gateway_announced_only_on_a_new_branch_below_the_read_head__found(
    worker, announce, gateway, stranger, chain
):
    announce(gateway, URL_1)
    worker.poll()
    snapshot = rpc(chain, "evm_snapshot")
    rpc(chain, "anvil_mine", 6)
    assert worker.poll() == {gateway.address.lower(): URL_1}  # read up to the longer branch

    assert rpc(chain, "evm_revert", snapshot) is True
    announce(stranger, URL_2)  # two blocks: below the head the worker had read

    assert worker.poll() == {gateway.address.lower(): URL_1, stranger.address.lower(): URL_2}
    assert worker.discovery.reorgs == 1


def test_poll__with_confirmations__served_once_buried_and_a_shallow_reorg_never_seen(
    v2_config, announce, gateway, chain
):
    worker = Worker(v2_config, confirmations=2)
    try:
        announce(gateway, URL_1)
        assert worker.poll() == {}  # not buried yet
        rpc(chain, "anvil_reorg", 1, [])  # gone before it ever counted
        rpc(chain, "anvil_mine", 2)
        assert worker.poll() == {}

        announce(gateway, URL_2)
        rpc(chain, "anvil_mine", 2)

        assert worker.poll() == {gateway.address.lower(): URL_2}
        assert worker.discovery.reorgs == 0
    finally:
        worker.close()
