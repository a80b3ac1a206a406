"""A worker never commits what it cannot answer honestly: missing code, a wall-clock backstop."""

from __future__ import annotations

import time

import pytest
from worker_helpers import wait_until

from peerhost.storage.cid import cid_to_bytes
from peerhost.storage.unixfs import compute_cid

EMPTY = b"\x00" * 32
SPIN_JS = b"export async function handler(req) { for (;;) {} }\n"


def _publish(registry, developer, name: str, cid: str, fuel: int) -> bytes:
    registry.publish("demo", name, "js", cid_to_bytes(cid), fuel, 64 * 2**20, 0, sender=developer)
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


@pytest.mark.xfail(
    reason="open defect: since the js prelude landed the backstop skip is not always seen in 90 s",
    strict=False,
)
def test_wall_clock_backstop_fires__job_skipped__never_committed(
    registry, developer, request_job, spawn_worker, workers, coordinator, store_spec
):
    from peerhost.storage.spec import open_store

    worker = spawn_worker(workers[0], wall_clock_seconds=0.5)
    cid = open_store(store_spec).put(SPIN_JS)
    rid = request_job(_publish(registry, developer, "spin", cid, 10_000_000_000))

    # the first js job compiles the engine in the worker first (10-30 s on a busy machine)
    wait_until(lambda: worker.metrics()["skipped"] == 1, 90)
    (skip,) = worker.events("job_skipped")
    assert "backstop" in skip["detail"]
    assert coordinator.getCommitment(rid, worker.address).commitment == EMPTY
