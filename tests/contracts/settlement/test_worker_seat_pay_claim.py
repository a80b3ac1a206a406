"""A worker's seat claims its committee pay of a settled batch once the challenge window passed
(``Accountability.claim_seat_pay``): it is sent exactly what the coordinator held for it, and a
second claim sends no transaction. Real anvil, real coordinator, the worker's own sender."""

from __future__ import annotations

from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.sender import TxSender
from peerhost.chain.settlement import SettlementView
from peerhost.wire.batch import Leaf
from peerhost.worker.accountability import Accountability
from peerhost.worker.duties import DutyLog

from .conftest import GOOD, distinct, seat_until
from .worker_harness import ThreadLoop


@pytest.fixture
def k(kit: Any, workers: list[Any]) -> Any:
    kit.stake(workers[:5])
    kit.open_project()
    return kit


def test_claim_seat_pay__after_the_window__paid_once_then_nothing_sent(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    posted, holders = seat_until(k, distinct(3))
    b = posted.batch_id
    for h in holders:
        k.commit(b, accounts_by_address[h], [GOOD])
    for h in holders:
        k.reveal(b, accounts_by_address[h], [GOOD])
    me = accounts_by_address[holders[0]]

    async def leaves_of(batch_id: int) -> tuple[str, list[Leaf]]:
        return str(k.gateway.address), [Leaf.of(t) for t in posted.tickets]

    async def leaf_result(batch_id: int, index: int) -> bytes:
        return GOOD

    key = bytes.fromhex(str(me.private_key).removeprefix("0x"))
    rpc = RpcClient(v2_config.rpc_url)
    view = SettlementView(v2_config, rpc, TxSender(rpc, key, v2_config.chain_id))
    accountability = Accountability(
        view,
        str(me.address),
        leaves_of=leaves_of,
        leaf_result=leaf_result,
        attested=lambda gateway, seq: None,
        gateway_urls=dict,
        duties=DutyLog(":memory:"),
        challenges=False,
        poll=0.1,
    )
    k.wait_challenge_window(b)
    ends = int(k.coordinator.getBatch(b).finalizedAt) + int(k.s.court.courtParams().challengeWindow)
    owed = int(k.coordinator.seatPayOf(b, me))
    assert owed > 0
    before = int(k.chain.provider.get_balance(me.address))
    nonce = int(k.chain.provider.get_nonce(me.address))
    loop.run(accountability.claim_seat_pay(b, ends), 30)
    assert int(k.chain.provider.get_nonce(me.address)) == nonce + 1
    fee = before + owed - int(k.chain.provider.get_balance(me.address))
    assert (
        0 <= fee < 10**15
    )  # at most the claim's gas (free on this chain): the pay arrived in full
    assert int(k.coordinator.seatPayOf(b, me)) == 0
    loop.run(accountability.claim_seat_pay(b, ends), 30)  # nothing left: no transaction
    assert int(k.chain.provider.get_nonce(me.address)) == nonce + 1
    loop.run(accountability.close(), 30)
    loop.run(rpc.aclose(), 30)
