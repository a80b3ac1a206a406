"""A worker survives a crash between commit and reveal, a dropped RPC connection and a restart."""

from __future__ import annotations

import time

from worker_helpers import events, wait_until

from peerhost.chain import ChainConfig

FINALIZED = 2
COMMIT = 1
EMPTY = b"\x00" * 32


def _committed(coordinator, rid, address):
    return coordinator.getCommitment(rid, address).commitment != EMPTY


def test_killed_after_commit__restarted__reveals_and_is_not_slashed(
    hello, request_job, spawn_workers, spawn_worker, workers, coordinator, chain_config
):
    procs = spawn_workers(workers[:3])
    victim = procs[0]
    rid = request_job(hello)

    wait_until(lambda: _committed(coordinator, rid, victim.address), 15, every=0.02)
    victim.kill()  # SIGKILL: no graceful shutdown
    assert not coordinator.getCommitment(rid, victim.address).revealed
    assert coordinator.phase(rid) == COMMIT

    restarted = spawn_worker(workers[0])  # same data dir: the salt is in its state
    assert restarted.events("job_resumed")

    wait_until(lambda: coordinator.getRequest(rid).status == FINALIZED, 60)
    assert coordinator.getCommitment(rid, victim.address).revealed
    assert not events(chain_config, "WorkerSlashed", requestId=rid)
    rewarded = {e["worker"] for e in events(chain_config, "WorkerRewarded", requestId=rid)}
    assert victim.address in rewarded and len(rewarded) == 3
    wait_until(lambda: restarted.metrics()["revealed"] == 1, 10)
    assert restarted.metrics()["slashed"] == 0


def test_rpc_connection_dropped__resumes_from_cursor__misses_no_job(
    hello, request_job, spawn_worker, workers, coordinator, chain_config, proxy
):
    through_proxy = ChainConfig(
        **{**chain_config.__dict__, "rpc_url": proxy.http_url, "ws_url": proxy.ws_url}
    )
    worker = spawn_worker(workers[0], chain=through_proxy)
    first = request_job(hello, body="one")
    wait_until(lambda: _committed(coordinator, first, worker.address), 10)

    proxy.cut()  # every connection (WebSocket and HTTP) drops; new ones are refused
    during = [request_job(hello, body="two"), request_job(hello, body="three")]
    time.sleep(1.5)
    assert not any(_committed(coordinator, rid, worker.address) for rid in during)
    proxy.restore()

    for rid in during:
        wait_until(lambda r=rid: _committed(coordinator, r, worker.address), 15)
    m = worker.metrics()
    assert m["reconnects"] >= 1
    assert m["seen"] == 3 and m["committed"] == 3
    seen = [e["request_id"] for e in worker.events("job_seen")]
    assert sorted(seen) == sorted("0x" + r.hex() for r in [first, *during])


def test_stopped_then_restarted__handles_jobs_requested_while_down(
    hello, request_job, spawn_worker, workers, coordinator
):
    worker = spawn_worker(workers[0])
    first = request_job(hello, body="before")
    wait_until(lambda: _committed(coordinator, first, worker.address), 10)
    assert worker.stop(timeout=20) == 0

    missed_while_down = request_job(hello, body="while down")
    worker = spawn_worker(workers[0])
    wait_until(lambda: _committed(coordinator, missed_while_down, worker.address), 15)
    seen = [e["request_id"] for e in worker.events("job_seen")]
    assert seen.count("0x" + missed_while_down.hex()) == 1
    assert seen.count("0x" + first.hex()) == 1  # the log is shared by both runs: seen once


def test_confirmation_depth__job_waits_until_buried(
    hello, request_job, spawn_worker, workers, coordinator, chain
):
    worker = spawn_worker(workers[0], confirmations=2)
    rid = request_job(hello)
    time.sleep(2.0)  # automine: no new block comes by itself
    assert not _committed(coordinator, rid, worker.address)
    assert worker.metrics()["seen"] == 0

    chain.mine(2)
    wait_until(lambda: _committed(coordinator, rid, worker.address), 10)
    assert worker.metrics()["seen"] == 1
