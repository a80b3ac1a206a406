"""find_deployment: the one way the console, publishing and secrets find their contracts."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from peerhost.deploy import Deployment, deployment_key, record_deployment
from peerhost.deployments import (
    DEFAULT_GATEWAY_URL,
    GATEWAY_URL_ENV,
    DeploymentNotFound,
    find_deployment,
    gateway_url_of,
)
from peerhost.devnet_state import STATE_DIR_ENV, DevnetState


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "devnet"
    directory.mkdir()
    monkeypatch.setenv(STATE_DIR_ENV, str(directory))
    return directory


def _devnet(chain: Any, state_dir: Path, deployments: Path, contracts: dict[str, str]) -> None:
    DevnetState(
        rpc_url=chain.provider.uri,
        chain_id=chain.chain_id,
        gateway_url="http://127.0.0.1:1",
        store="local:" + str(state_dir / "store"),
        deployments=str(deployments),
        project="examples",
        owner="0x" + "00" * 20,
        gateway_account="0x" + "00" * 20,
        contracts=contracts,
        pid=os.getpid(),
    ).save(state_dir)


def test_find_deployment__nothing_recorded__names_network_and_file(
    project: Any, chain: Any, state_dir: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "none.json"
    with pytest.raises(DeploymentNotFound, match=f"{deployment_key(chain)}: none recorded in"):
        find_deployment(project, chain, missing)


def test_find_deployment__deployments_file__its_live_contracts(
    project: Any, chain: Any, deployment: Deployment, state_dir: Path, tmp_path: Path
) -> None:
    path = record_deployment(deployment, tmp_path / "deployments.json")
    found = find_deployment(project, chain, path)
    assert (found.deployment.addresses, found.devnet) == (deployment.addresses, None)


def test_find_deployment__devnet_on_this_chain__its_contracts_without_a_file(
    project: Any, chain: Any, deployment: Deployment, state_dir: Path, tmp_path: Path
) -> None:
    _devnet(chain, state_dir, tmp_path / "absent.json", deployment.addresses)
    found = find_deployment(project, chain)
    assert found.devnet is not None and found.devnet.gateway_url == "http://127.0.0.1:1"
    assert found.deployment.addresses == deployment.addresses


def test_find_deployment__explicit_file_beats_devnet__refused_when_empty(
    project: Any, chain: Any, deployment: Deployment, state_dir: Path, tmp_path: Path
) -> None:
    _devnet(chain, state_dir, tmp_path / "absent.json", deployment.addresses)
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({}))
    with pytest.raises(DeploymentNotFound, match="empty.json"):
        find_deployment(project, chain, empty)


def test_gateway_url_of__each_source_missing_in_turn__next_one_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    devnet = DevnetState(
        rpc_url="http://127.0.0.1:1",
        chain_id=31337,
        gateway_url="http://devnet.test:8080",
        store="local:/nowhere",
        deployments="deployments.json",
        project="examples",
        owner="0x" + "00" * 20,
        gateway_account="0x" + "00" * 20,
    )
    monkeypatch.setenv(GATEWAY_URL_ENV, "http://env.test")
    assert gateway_url_of(devnet, "http://given.test") == "http://given.test"
    assert gateway_url_of(devnet) == "http://devnet.test:8080"
    assert gateway_url_of(None) == "http://env.test"
    monkeypatch.delenv(GATEWAY_URL_ENV)
    assert gateway_url_of(None) == DEFAULT_GATEWAY_URL
