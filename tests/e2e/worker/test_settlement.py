"""Honest workers settle a request and get paid; a lying worker is slashed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lying_worker
from worker_helpers import events, wait_until

from peerhost.wire import recover_signer, result_hash

FINALIZED = 2


def test_three_honest_workers__request_finalizes__paid_withdrawn_earliest_gets_bonus(
    hello, request_job, spawn_workers, workers, coordinator, chain_config, inbox
):
    procs = spawn_workers(workers[:3])
    for proc, account in zip(procs, workers[:3], strict=True):  # the key is never on argv
        key = str(account.private_key).removeprefix("0x")
        assert key not in Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode(errors="replace")
    rid = request_job(hello, reply_to=inbox.url)

    wait_until(lambda: coordinator.getRequest(rid).status == FINALIZED, 60)
    request = coordinator.getRequest(rid)
    committers = list(coordinator.committers(rid))
    assert sorted(committers) == sorted(p.address for p in procs)
    assert request.fastest == committers[0]

    rewards = {
        e["worker"]: e["amount"] for e in events(chain_config, "WorkerRewarded", requestId=rid)
    }
    assert set(rewards) == set(committers)
    others = [rewards[w] for w in committers[1:]]
    assert rewards[committers[0]] > max(others), "the earliest committer gets the speed bonus"
    assert len(set(others)) == 1

    by_address = {p.address: p for p in procs}
    for address, amount in rewards.items():
        proc = by_address[address]
        wait_until(lambda p=proc, a=amount: p.metrics()["withdrawn_wei"] == a, 15)
        assert coordinator.pendingWithdrawal(address) == 0
        m: dict[str, Any] = proc.metrics()
        assert m["committed"] == m["revealed"] == 1
        assert m["earned_wei"] == amount
        assert m["won"] == (1 if address == committers[0] else 0)
        assert m["slashed"] == 0

    # every worker posted the output to the inbox, signed over (requestId, resultHash)
    wait_until(lambda: len(inbox.posts) == 3, 5)
    for post in inbox.posts:
        assert post.path == "/_inbox/0x" + rid.hex()
        assert post.content_type == "application/octet-stream"
        assert result_hash(post.body) == request.resultHash
        signer = recover_signer(
            bytes.fromhex(post.signature[2:]),
            chain_config.chain_id,
            chain_config.coordinator,
            rid,
            request.resultHash,
        )
        assert signer == post.worker and signer in committers
        assert b"hello world" in post.body
    for proc, account in zip(procs, workers[:3], strict=True):  # nor in its logs
        assert str(account.private_key).removeprefix("0x") not in proc.log_path.read_text()


def test_liar_among_three_honest__liar_slashed__honest_paid(
    hello,
    request_job,
    spawn_workers,
    spawn_worker,
    workers,
    coordinator,
    chain_config,
    deploy_params,
    worker_registry,
):
    honest = spawn_workers(workers[:3])
    liar = spawn_worker(workers[3], program=lying_worker.PROGRAM)
    rid = request_job(hello)

    wait_until(lambda: coordinator.getRequest(rid).status == FINALIZED, 60)
    request = coordinator.getRequest(rid)
    assert coordinator.getRequest(rid).commitCount == 4

    slashes = events(chain_config, "WorkerSlashed", requestId=rid)
    assert [(s["worker"], s["amount"], s["reason"]) for s in slashes] == [
        (liar.address, deploy_params.wrong_reveal_slash, 0)
    ]
    liar_commitment = coordinator.getCommitment(rid, liar.address)
    assert liar_commitment.revealed and liar_commitment.resultHash != request.resultHash
    assert worker_registry.reputation(liar.address).jobsSlashed == 1

    rewarded = {e["worker"] for e in events(chain_config, "WorkerRewarded", requestId=rid)}
    assert rewarded == {p.address for p in honest}
    wait_until(lambda: liar.metrics()["slashed"] == 1, 10)
    assert liar.metrics()["slashed_wei"] == deploy_params.wrong_reveal_slash
    assert liar.metrics()["earned_wei"] == 0
    for p in honest:
        wait_until(lambda p=p: p.metrics()["earned_wei"] > 0, 10)
        assert p.metrics()["slashed"] == 0
