"""A shallow reorg (``anvil_reorg``) drops a worker's mined transactions on the real chain: its
sender re-sends what the chain lost instead of queueing behind the dropped nonce, and its
committee duty commits again and reveals."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.sender import TxSender
from peerhost.chain.settlement import SettlementView
from peerhost.wire.batch import ABSTAIN, vector_hash
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.committee import Committee

GOOD = b"\x11" * 32
PH_COMMIT, PH_REVEAL = 2, 3


def _key(account: Any) -> bytes:
    return bytes.fromhex(str(account.private_key).removeprefix("0x"))


def _wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds:.0f} s")
        time.sleep(0.1)


@pytest.fixture
def config_v2(settlement: Any, deployment: Any, chain: Any) -> ChainConfig:
    uri = str(chain.provider.uri)
    v2 = settlement.addresses
    return ChainConfig(
        uri,
        uri,
        chain.chain_id,
        **deployment.addresses,
        stakes=v2["stakes"],
        gateways=v2["gateways"],
        settlement=v2["settlement"],
    )


class Loop:
    """An event loop on its own thread (the worker's), while the test drives the chain."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def loop() -> Iterator[Loop]:
    running = Loop()
    yield running
    running.close()


def test_sender__mined_transaction_dropped_by_reorg__next_send_mines_and_lost_one_resent(
    config_v2: ChainConfig, stranger: Any, chain: Any, loop: Loop
) -> None:
    rpc = RpcClient(config_v2.rpc_url)
    sender = TxSender(rpc, _key(stranger), config_v2.chain_id)
    to = "0x000000000000000000000000000000000000dEaD"

    async def first() -> dict[str, Any]:
        return await sender.wait(await sender.send(to, b"", gas=21_000, value=1), timeout=20)

    receipt = loop.run(first())
    chain.provider.make_request("anvil_reorg", [1, []])
    assert (
        chain.provider.make_request("eth_getTransactionReceipt", [receipt["transactionHash"]])
        is None
    )

    async def second() -> dict[str, Any]:
        # the local nonce is one past the chain's: without a resync this waits behind the gap
        return await sender.wait(await sender.send(to, b"", gas=21_000, value=2), timeout=20)

    again = loop.run(second())
    assert int(again["status"], 16) == 1
    assert int(again["blockNumber"], 16) >= int(receipt["blockNumber"], 16)
    assert sender.resent == 1  # the second send went out behind the gap and was sent again
    loop.run(rpc.aclose())


def test_committee__commit_and_reveal_dropped_by_reorg__worker_sends_both_again(
    ready: Any,
    config_v2: ChainConfig,
    accounts_by_address: dict[str, Any],
    chain: Any,
    loop: Loop,
    tmp_path: Path,
) -> None:
    kit = ready
    tickets = kit.tickets(1)
    posted = kit.post(tickets=tickets)
    holders = kit.seat(posted.batch_id)
    me = accounts_by_address[holders[0]]
    others = [accounts_by_address[h] for h in holders[1:]]
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    ledger.claim(tickets[0], b"\x01" * 32, kit.project_id, b"\x02" * 65)
    ledger.attest(tickets[0], GOOD, b"\x03" * 65)  # the worker ran it: its result is known
    rpc = RpcClient(config_v2.rpc_url)
    view = SettlementView(config_v2, rpc, TxSender(rpc, _key(me), config_v2.chain_id))
    committee = Committee(
        view,
        None,  # type: ignore[arg-type]  # never runs a leaf: its result is in the ledger
        ledger,
        _key(me),
        str(me.address),
        dict,
        challenges=False,
        poll=0.1,
    )
    coordinator = kit.coordinator
    duty = loop.start(committee.duty(posted.batch_id, {}))

    def vote() -> bytes:
        return bytes(coordinator.voteOf(posted.batch_id, me.address))

    _wait(lambda: vote() != bytes(32), 30, "the worker's commitment")
    chain.provider.make_request("anvil_reorg", [1, []])
    assert vote() == bytes(32), "the reorg did not drop the commitment"
    assert coordinator.phaseOf(posted.batch_id) == PH_COMMIT
    _wait(lambda: vote() != bytes(32), 30, "the commitment sent again after the reorg")

    for other in others:
        kit.commit(posted.batch_id, other, [GOOD])
    if coordinator.phaseOf(posted.batch_id) == PH_COMMIT:
        chain.mine(deltatime=int(kit.params.commit_window) + 1)
    _wait(lambda: coordinator.phaseOf(posted.batch_id) != PH_COMMIT, 30, "the reveal phase")
    audited = int(coordinator.getBatch(posted.batch_id).auditMask) & 1
    revealed = vector_hash([GOOD if audited else ABSTAIN])
    _wait(lambda: vote() == revealed, 30, "the worker's reveal")
    chain.provider.make_request("anvil_reorg", [1, []])  # drops the reveal: the commitment again
    assert vote() not in (revealed, bytes(32)), "the reorg did not drop the reveal"
    _wait(lambda: vote() == revealed, 30, "the reveal sent again after the reorg")
    duty.cancel()
    loop.run(committee.close())
    loop.run(rpc.aclose())
    ledger.close()
