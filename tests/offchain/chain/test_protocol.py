"""Protocol, TxSender and RpcClient against the real contracts on anvil, over plain JSON-RPC."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from ape.api import AccountAPI
from ape.contracts import ContractInstance

from peerhost.chain import (
    ChainConfig,
    ChainUnavailable,
    Protocol,
    RpcClient,
    TransactionReverted,
    TxSender,
)


def _protocol(config: ChainConfig, account: AccountAPI) -> Protocol:
    rpc = RpcClient(config.rpc_url)
    return Protocol(config, TxSender(rpc, account.private_key, config.chain_id))


def test_sender__many_in_flight__all_mined(
    chain_config: ChainConfig,
    coordinator: ContractInstance,
    registry: ContractInstance,
    stranger: AccountAPI,
) -> None:
    count = 25
    project_id = registry.projectIdOf(stranger, "shop")
    before = coordinator.projectAccount(project_id).balance

    async def run() -> list[dict[str, Any]]:
        protocol = _protocol(chain_config, stranger)
        data = protocol.coordinator.encode_call("fundProject", stranger.address, "shop")
        assert protocol.sender is not None
        sends = [
            protocol.sender.send(chain_config.coordinator, data, gas=200_000, value=1)
            for _ in range(count)
        ]
        hashes = await asyncio.gather(*sends)
        receipts = [await protocol.confirm(h, "fundProject") for h in hashes]
        await protocol.aclose()
        return receipts

    receipts = asyncio.run(run())
    assert all(int(r["status"], 16) == 1 for r in receipts)
    assert len({r["transactionHash"] for r in receipts}) == count
    assert coordinator.projectAccount(project_id).balance == before + count


def test_sender__after_failed_send__resyncs_nonce(
    chain_config: ChainConfig, stranger: AccountAPI
) -> None:
    async def run() -> dict[str, Any]:
        protocol = _protocol(chain_config, stranger)
        assert protocol.sender is not None
        data = protocol.coordinator.encode_call("fundProject", stranger.address, "shop")
        with pytest.raises(Exception, match="(?i)insufficient|funds"):
            # more value than the account holds: the node refuses it, the nonce is not used
            await protocol.sender.send(chain_config.coordinator, data, gas=200_000, value=10**30)
        receipt = await protocol.confirm(
            await protocol.sender.send(chain_config.coordinator, data, gas=200_000, value=1),
            "fundProject",
        )
        await protocol.aclose()
        return receipt

    assert int(asyncio.run(run())["status"], 16) == 1


def test_confirm__reverted_commit__names_custom_error(
    chain_config: ChainConfig, stranger: AccountAPI
) -> None:
    async def run() -> None:
        protocol = _protocol(chain_config, stranger)
        try:
            tx = await protocol.commit(b"\x01" * 32, b"\x02" * 32)
            await protocol.confirm(tx, "commit")
        finally:
            await protocol.aclose()

    with pytest.raises(TransactionReverted, match="UnknownRequest|WorkerNotActive"):
        asyncio.run(run())


def test_call__unknown_function__decoded(chain_config: ChainConfig, stranger: AccountAPI) -> None:
    async def run() -> None:
        protocol = Protocol(chain_config)
        try:
            await protocol.resolve(stranger.address, "nope", "missing")
        finally:
            await protocol.aclose()

    with pytest.raises(TransactionReverted, match=r"UnknownFunction\(functionId=0x"):
        asyncio.run(run())


def test_resolve__published_function__returns_active_version(
    chain_config: ChainConfig, published_function: bytes, developer: AccountAPI
) -> None:
    async def run() -> tuple[bytes, dict[str, Any], dict[str, Any]]:
        protocol = Protocol(chain_config)
        try:
            return await protocol.resolve(developer.address, "shop", "orders-create")
        finally:
            await protocol.aclose()

    fid, info, version = asyncio.run(run())
    assert fid == published_function
    assert info["owner"] == developer.address and info["activeVersion"] == 1
    assert version["runtime"] == "wasi"


def test_rpc__node_down__chain_unavailable_names_url() -> None:
    async def run() -> None:
        rpc = RpcClient("http://127.0.0.1:9", timeout=2)
        try:
            await rpc.call("eth_blockNumber")
        finally:
            await rpc.aclose()

    with pytest.raises(ChainUnavailable, match=r"127\.0\.0\.1:9.*Start a node"):
        asyncio.run(run())


def test_params__match_deployment(chain_config: ChainConfig, deploy_params: Any) -> None:
    async def run() -> dict[str, Any]:
        protocol = Protocol(chain_config)
        try:
            return await protocol.params()
        finally:
            await protocol.aclose()

    params = asyncio.run(run())
    assert params["maxCommits"] == deploy_params.max_commits
    assert params["minReward"] == deploy_params.min_reward
