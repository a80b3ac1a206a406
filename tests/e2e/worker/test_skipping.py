"""A worker never commits what it cannot answer honestly: missing code, a wall-clock backstop."""

from __future__ import annotations

import time

import pytest
from worker_helpers import wait_until

from peerhost.storage.cid import cid_to_bytes
from peerhost.storage.spec import open_store
from peerhost.storage.unixfs import compute_cid

EMPTY = b"\x00" * 32


def _publish(registry, developer, name: str, cid: str, fuel: int, runtime: str = "js") -> bytes:
    registry.publish(
        "demo", name, runtime, cid_to_bytes(cid), fuel, 64 * 2**20, 0, sender=developer
    )
    function_id: bytes = registry.functionIdOf(developer, "demo", name)
    return function_id


def test_code_not_in_any_store__job_skipped__never_committed(
    registry, developer, request_job, spawn_worker, workers, coordinator
):
    worker = spawn_worker(workers[0])
    nowhere = compute_cid(b"export async function handler() { return {status: 200} }")
    rid = request_job(_publish(registry, developer, "ghost", nowhere, 50_000_000))

    wait_until(lambda: worker.metrics()["skipped"] == 1, 15)
    (skip,) = worker.events("job_skipped")
    assert skip["request_id"] == "0x" + rid.hex() and "code unavailable" in skip["detail"]
    time.sleep(0.5)
    assert coordinator.getCommitment(rid, worker.address).commitment == EMPTY
    assert worker.metrics()["committed"] == 0


# A handler that never returns, in each runtime the backstop guards (the same epoch deadline
# stops a wasm module; the sandbox tests cover that one).
SPINNERS = {
    "js": b"export async function handler(req) { for (;;) {} }\n",
    "python": b"def handler(req):\n    while True:\n        pass\n",
}


@pytest.mark.parametrize("runtime", sorted(SPINNERS))
def test_wall_clock_backstop_fires__job_skipped__never_committed(
    runtime, registry, developer, request_job, spawn_worker, workers, coordinator, store_spec
):
    # The most fuel a version may declare: since the JS engine runs from its snapshot, js spins
    # through it in about 0.4 s, so the backstop is set well below that (0.1 s; the epoch ticker
    # counts in 50 ms steps). Had the backstop not fired, the run would end out of fuel,
    # committable, and be committed.
    worker = spawn_worker(workers[0], wall_clock_seconds=0.1)
    cid = open_store(store_spec).put(SPINNERS[runtime])
    fid = _publish(registry, developer, f"spin-{runtime}", cid, registry.maxFuelLimit(), runtime)
    rid = request_job(fid)

    # Both runtimes are compiled into the shared sandbox cache before the worker starts, and the
    # worker loads the JS engine before it reports ready: the skip comes about 0.1 s after the job
    # is seen. The wait only bounds a loaded machine; a commit ends it too, and fails below.
    wait_until(lambda: worker.metrics()["skipped"] + worker.metrics()["committed"] >= 1, 30)
    assert worker.metrics()["committed"] == 0
    (skip,) = worker.events("job_skipped")
    assert skip["request_id"] == "0x" + rid.hex()
    assert skip["detail"] == "the wall-clock backstop fired"
    assert coordinator.getCommitment(rid, worker.address).commitment == EMPTY
