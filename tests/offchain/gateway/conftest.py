"""Gateway fixtures: the real contracts on ape's anvil, settings pointing at them, fake workers.

The chain is never mocked: the gateway under test talks JSON-RPC and WebSocket to the same anvil
ape deployed to. "Workers" here are test keys of registered workers that sign outputs and post
them to the inbox, and drive commit/reveal/finalize through ape when a test needs finalization.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from ape.api import AccountAPI
from ape.contracts import ContractInstance
from gateway_helpers import DOMAIN, FUNCTION, PROJECT, Background

from peerhost.chain.config import ChainConfig
from peerhost.deploy import ETHER, DeployParams
from peerhost.gateway import GatewaySettings


@pytest.fixture
def background() -> Iterator[Background]:
    """Blocking calls the test runs on other threads beside the gateway; stopped afterwards."""
    bg = Background()
    yield bg
    bg.close()


@pytest.fixture
def settings(chain_config: ChainConfig, gateway: AccountAPI) -> GatewaySettings:
    return GatewaySettings(
        chain=chain_config,
        private_key=gateway.private_key,
        domain=DOMAIN,
        public_url="http://testserver",
        rate_limit=0,
        fast_timeout=5.0,
        verified_timeout=20.0,
        confirm_poll_interval=0.01,
    )


@pytest.fixture
def hello(publish: Callable[..., bytes]) -> bytes:
    """developer's shop/hello, fast by default."""
    return publish(FUNCTION, PROJECT)


@pytest.fixture
def hello_verified(publish: Callable[..., bytes]) -> bytes:
    """developer's shop/hello-verified, verified by default."""
    return publish("hello-verified", PROJECT, mode=1)


@pytest.fixture
def funded_project(
    coordinator: ContractInstance,
    developer: AccountAPI,
    gateway: AccountAPI,
    deploy_params: DeployParams,
) -> int:
    """developer's shop: priced at the minimum reward, funded, the gateway authorized."""
    price = deploy_params.min_reward
    coordinator.setProjectPrice(PROJECT, price, sender=developer)
    coordinator.fundProject(developer.address, PROJECT, value=ETHER, sender=developer)
    coordinator.setGatewayAuthorization(PROJECT, gateway.address, True, sender=developer)
    return price


@pytest.fixture
def active_workers(registered_workers: list[AccountAPI]) -> list[AccountAPI]:
    return registered_workers[:3]
