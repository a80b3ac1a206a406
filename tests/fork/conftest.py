"""Fixtures for the fork tests: an upstream chain (anvil, chain id 1) loaded from a saved state that
holds a PeerHost deployment, and ape connected to ``ethereum:mainnet-fork:foundry`` forked from it.

Everything runs inside the normal ``ape test`` session (on the local network): the upstream gets a
free port, and the fork provider is given that URL as its ``upstream_provider`` in the provider
settings, so no fixed port and no ``--network`` option is needed. The fork anvil itself also gets a
random port (``host: auto``), so a chain another process uses is never touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .upstream import UpstreamState, build_state, start_upstream, stop_anvil


@dataclass(frozen=True)
class Upstream:
    url: str
    state_file: Path
    state: UpstreamState


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    """A fresh saved state (deploy, publish, fund, register through a dumping anvil), served by
    ``anvil --chain-id 1 --load-state`` on a free port."""
    state_file = tmp_path_factory.mktemp("fork") / "state.json"
    state = build_state(state_file)
    process, url = start_upstream(state_file)
    try:
        yield Upstream(url=url, state_file=state_file, state=state)
    finally:
        stop_anvil(process)


@pytest.fixture
def fork(upstream: Upstream, networks: Any) -> Iterator[Any]:
    """ape connected to ``ethereum:mainnet-fork:foundry`` forked from the upstream, for one test."""
    settings = {
        "host": "auto",
        "fork": {"ethereum": {"mainnet": {"upstream_provider": upstream.url}}},
    }
    mainnet_fork = networks.ethereum.mainnet_fork
    with mainnet_fork.use_provider(
        "foundry", provider_settings=settings, disconnect_after=True
    ) as provider:
        yield provider
