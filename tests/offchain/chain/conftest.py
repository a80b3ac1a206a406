"""Chain-access fixtures: the real contracts on ape's anvil, reached over plain JSON-RPC."""

from __future__ import annotations

from typing import Any

import pytest

from peerhost.chain import ChainConfig
from peerhost.deploy import Deployment


@pytest.fixture
def chain_config(deployment: Deployment, chain: Any) -> ChainConfig:
    provider = chain.provider
    return ChainConfig(
        rpc_url=provider.uri,
        ws_url=provider.ws_uri,
        chain_id=chain.chain_id,
        **deployment.addresses,
    )
