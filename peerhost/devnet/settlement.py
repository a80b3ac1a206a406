"""The devnet's settlement side: the ticket contracts beside the request contracts, a bonded and
authorized gateway, a funded project reserve, and the first epoch once the workers have staked."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.sender import TxSender
from peerhost.chain.settlement import SettlementView
from peerhost.deploy import ETHER, CourtParams, Settlement, SettlementParams, deploy_settlement


def devnet_settlement_params(workers: int) -> SettlementParams:
    """Settlement parameters a devnet of ``workers`` honest workers can always settle: K seats
    of which more than half agree, one-second epochs (the devnet starts the first one itself)."""
    k = max(1, min(3, workers))
    # orphans after 10 s (not 300): a withheld batch's attesters post it within a devnet session
    return SettlementParams(seats=k, quorum=k // 2 + 1, epoch_length=1, orphan_delay=10)


def devnet_court_params() -> CourtParams:
    """Accountability parameters of a devnet session: a 10 s challenge window (not 300 s), so a
    finalized leaf's liars are punished and its attestations become presentable within a session,
    and 10 s windows for a tier-2 vote and a data-availability challenge."""
    return CourtParams(challenge_window=10, commit_window=10, reveal_window=10, data_window=10)


def setup_settlement(
    project: Any,
    deployer: Any,
    developer: Any,
    gateway: Any,
    registry: Any,
    project_name: str,
    params: SettlementParams,
    *,
    reserve: int,
    bond: int = 2 * ETHER,
    court_params: CourtParams | None = None,
) -> Settlement:
    """Deploys the settlement contracts (ape), bonds ``gateway``, funds and authorizes it on the
    developer's project."""
    settlement = deploy_settlement(
        project, deployer, registry, params, court_params or devnet_court_params()
    )
    gateways = settlement.gateways
    project_id = bytes(registry.projectIdOf(developer, project_name))
    if reserve:
        gateways.fundReserve(project_id, value=reserve, sender=developer)
    gateways.setGatewayAuthorization(project_name, gateway, True, sender=developer)
    if int(gateways.bondOf(gateway).amount) < params.min_gateway_bond:
        gateways.bond(value=max(bond, params.min_gateway_bond), sender=gateway)
    return settlement


def start_epoch(chain: ChainConfig, private_key: str, members: int, timeout: float = 30.0) -> int:
    """Advances the stake epoch until it counts ``members`` workers; returns the epoch."""
    return asyncio.run(_start_epoch(chain, private_key, members, timeout))


async def _start_epoch(chain: ChainConfig, private_key: str, members: int, timeout: float) -> int:
    rpc = RpcClient(chain.rpc_url)
    try:
        view = SettlementView(chain, rpc, TxSender(rpc, private_key, chain.chain_id))
        deadline = time.monotonic() + timeout
        while True:
            active = await view.active_set()
            if len(active.members) >= members:
                return active.epoch
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the stake epoch counts {len(active.members)} of {members} workers"
                )
            await asyncio.sleep(1.0)
            data = view.stakes.encode_call("advanceEpoch")
            assert view.sender is not None
            tx = await view.sender.send(chain.stakes, data, gas=3_000_000)
            await view.sender.wait(tx, timeout=30.0)
    finally:
        await rpc.aclose()
