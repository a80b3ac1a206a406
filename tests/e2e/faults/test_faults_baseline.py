"""The scenarios' stake baseline and loss window agree, whatever blocks land between their reads:
the stakes are read at the block the baseline names, and the run's slashes are those of the
blocks after it. Real contracts on the session's chain, the slash a real ``StakeRegistry.slash``
from the coordinator's address; no stack."""

from __future__ import annotations

import asyncio
from typing import Any

from fault_scenarios import baseline, losses

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.settlement import SettlementView
from peerhost.deploy import ETHER, SettlementParams, deploy_settlement

KEY = bytes.fromhex("11" * 32)
SLASH = ETHER // 20


class _BlockLandsAfterHeadRead(SettlementView):
    """A view after whose first head-number read a slash is mined, before the next read (what a
    1 s block did to ``worker-killed-commit-restarted`` seed 800)."""

    def __init__(self, config: ChainConfig, rpc: RpcClient, land: Any) -> None:
        super().__init__(config, rpc)
        self.land = [land]

    async def block_number(self) -> int:
        number = await super().block_number()
        if self.land:
            self.land.pop()()
        return number


def _setup(project: Any, owner: Any, deployment: Any, chain: Any, accounts: Any) -> Any:
    settlement = deploy_settlement(project, owner, deployment.registry, SettlementParams())
    worker = accounts[8]
    settlement.stakes.register(KEY, value=2 * ETHER, sender=worker)
    config = ChainConfig(
        rpc_url=chain.provider.uri,
        ws_url=chain.provider.uri,
        chain_id=int(chain.chain_id),
        registry=str(deployment.registry.address),
        workers=str(deployment.workers.address),
        coordinator=str(deployment.coordinator.address),
        stakes=str(settlement.stakes.address),
        gateways=str(settlement.gateways.address),
        settlement=str(settlement.coordinator.address),
    )
    coordinator = accounts[str(settlement.coordinator.address)]  # impersonated on the test node
    chain.provider.set_balance(coordinator.address, ETHER)

    def slash() -> None:
        settlement.stakes.slash(worker, SLASH, sender=coordinator)

    return config, str(worker.address), slash


def _read(config: ChainConfig, worker: str, land: Any = None) -> tuple[int, int, int]:
    """(stake lost, wei the window's ``StakeSlashed`` explains, the window's slash count)."""

    async def main() -> tuple[int, int, int]:
        rpc = RpcClient(config.rpc_url)
        try:
            view = (
                _BlockLandsAfterHeadRead(config, rpc, land) if land else SettlementView(config, rpc)
            )
            block, before = await baseline(view, [worker])
            after, items = await losses(SettlementView(config, rpc), [worker], block)
            got = items.get(worker.lower(), {})
            return before[worker] - after[worker], got.get("stake", 0), len(got)
        finally:
            await rpc.aclose()

    return asyncio.run(main())


def test_baseline__slash_mined_between_head_and_stake_reads__counted_once_in_the_window(
    project, owner, deployment, chain, accounts
):
    config, worker, slash = _setup(project, owner, deployment, chain, accounts)
    lost, explained, _ = _read(config, worker, land=slash)
    # read apart, the baseline had it taken off (lost 0) while the window counted it
    assert lost == explained == SLASH


def test_baseline__slash_in_the_baseline_block__not_in_the_window(
    project, owner, deployment, chain, accounts
):
    config, worker, slash = _setup(project, owner, deployment, chain, accounts)
    slash()  # mined in the block the baseline reads: already off its stakes
    lost, explained, kinds = _read(config, worker)
    assert (lost, explained, kinds) == (0, 0, 0)
