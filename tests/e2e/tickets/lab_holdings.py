"""What a lab devnet's workers hold and lose on-chain (imported by module name, never from a
conftest): the strategy e2e tests compare deviating worker processes with honest ones by these."""

from __future__ import annotations

from peerhost.chain.courts import CourtsView
from peerhost.chain.settlement import SettlementView


async def holdings(view: SettlementView, worker: str) -> dict[str, int]:
    """Wei ``worker`` holds or is owed: balance, credits in the three contracts, seat pay not
    claimed yet (a worker claims it a while after each batch's window), stake."""
    courts = await CourtsView.load(view)
    staker = await view.staker(worker)
    balance = int(await view.rpc.call("eth_getBalance", [worker, "latest"]), 16)
    credits = await view.pending_withdrawal(worker) + sum(await courts.pending_withdrawal(worker))
    for batch_id in range(1, await view.batch_count() + 1):
        credits += await view.seat_pay_of(batch_id, worker)
    stake = int(staker["stake"]) + int(staker["unbonding"])
    return {"total": balance + credits + stake, "stake": stake}


async def all_settled(view: SettlementView, leaves: set[tuple[int, int]]) -> bool:
    """Whether each leaf's result is final: its window passed and any case on it closed."""
    courts = await CourtsView.load(view)
    for batch_id, index in leaves:
        done, _ = await courts.settled_value(batch_id, index, bytes(32))
        if not done:
            return False
    return True


async def slashed_wei(view: SettlementView, worker: str, start: int) -> int:
    """Wei the stake registry took from ``worker`` after block ``start``."""
    logs = await view.logs("StakeSlashed", start + 1, "latest", contract="stakes", account=worker)
    return sum(int(args["amount"]) for _, args in logs)
