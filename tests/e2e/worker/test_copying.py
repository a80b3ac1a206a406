"""A commitment is bound to its worker: copying one from the chain earns nothing but a slash."""

from __future__ import annotations

import asyncio

from eth_abi import decode
from hexbytes import HexBytes
from worker_helpers import events, wait_until

from peerhost.chain import Protocol, RpcClient, TransactionReverted, TxSender

FINALIZED = 2
EMPTY = b"\x00" * 32


def test_copier_of_a_commitment__cannot_reveal_it__and_is_slashed(
    hello, request_job, spawn_workers, workers, coordinator, chain_config, deploy_params
):
    honest = spawn_workers(workers[:3])
    copier = workers[3]

    async def as_copier(action):
        rpc = RpcClient(chain_config.rpc_url)
        protocol = Protocol(chain_config, TxSender(rpc, copier.private_key, chain_config.chain_id))
        try:
            return await action(protocol)
        finally:
            await rpc.aclose()

    async def register(p: Protocol) -> None:
        await p.confirm(await p.register(b"\x22" * 32, 2 * 10**18), "register")

    async def copy(p: Protocol) -> None:
        copied = (await p.get_commitment(rid, victim))["commitment"]
        await p.confirm(await p.commit(rid, copied), "commit")

    asyncio.run(as_copier(register))  # staked before the request: only the copy races the window
    rid = request_job(hello)
    victim = honest[0].address
    wait_until(lambda: len(coordinator.committers(rid)) == 3, 15, every=0.02)
    asyncio.run(as_copier(copy))
    assert coordinator.getCommitment(rid, copier.address).commitment == (
        coordinator.getCommitment(rid, victim).commitment
    )

    # once the victim revealed, its result hash and salt are public: the copier replays them
    wait_until(lambda: coordinator.getCommitment(rid, victim).revealed, 20)
    (revealed,) = events(chain_config, "ResultRevealed", requestId=rid, worker=victim)
    tx = asyncio.run(_transaction(chain_config.rpc_url, revealed["_tx"]))
    _, result_hash, salt = decode(
        ["bytes32", "bytes32", "bytes32"], bytes(HexBytes(tx["input"]))[4:]
    )

    async def replay(p: Protocol) -> str:
        try:
            await p.confirm(await p.reveal(rid, result_hash, salt), "reveal")
        except TransactionReverted as exc:
            return exc.reason
        return "accepted"

    reason = asyncio.run(as_copier(replay))
    assert reason.startswith("CommitmentMismatch"), reason

    wait_until(lambda: coordinator.getRequest(rid).status == FINALIZED, 60)
    slashes = events(chain_config, "WorkerSlashed", requestId=rid)
    assert [(s["worker"], s["reason"]) for s in slashes] == [(copier.address, 1)]
    assert slashes[0]["amount"] == deploy_params.missed_reveal_slash
    rewarded = {e["worker"] for e in events(chain_config, "WorkerRewarded", requestId=rid)}
    assert rewarded == {p.address for p in honest}


async def _transaction(rpc_url: str, tx_hash: str) -> dict:
    rpc = RpcClient(rpc_url)
    try:
        return dict(await rpc.call("eth_getTransactionByHash", [tx_hash]))
    finally:
        await rpc.aclose()
