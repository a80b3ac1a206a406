"""A worker whose project secrets cannot be opened (the bundle expired, sealed without a share for
it, or signed by another wallet) skips the job and says why: it never runs the function with an
empty environment, never answers and never commits."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from worker_helpers import wait_until

from peerhost.secrets import seal_bundle
from peerhost.secrets.keys import generate_worker_keypair
from peerhost.storage.cid import cid_to_bytes
from peerhost.storage.spec import open_store

EMPTY = b"\x00" * 32
GREETING_JS = b"""export async function handler(req) {
  return { status: 200, body: String(process.env.GREETING) + ", " + req.body };
}
"""


@pytest.mark.parametrize("broken", ["expired", "no_share", "other_wallet"])
def test_secrets_unopened__bundle_broken__job_skipped_with_reason_never_run_or_committed(
    broken: str,
    registry: Any,
    worker_registry: Any,
    developer: Any,
    requester: Any,
    request_job: Any,
    spawn_worker: Any,
    workers: Any,
    store_spec: str,
    chain_config: Any,
    inbox: Any,
    coordinator: Any,
) -> None:
    worker = spawn_worker(workers[0])
    store = open_store(store_spec)
    project = f"vault-{broken.replace('_', '-')}"
    code = store.put(GREETING_JS)
    registry.publish(
        project, "greet", "js", cid_to_bytes(code), 50_000_000, 64 * 2**20, 0, sender=developer
    )
    function_id = registry.functionIdOf(developer, project, "greet")
    share = (worker.address, bytes(worker_registry.getWorker(worker.address).encryptionKey))
    owner = requester if broken == "other_wallet" else developer
    now = int(time.time())
    bundle = seal_bundle(
        {"GREETING": "bonjour"},
        [(workers[1].address, generate_worker_keypair()[1])] if broken == "no_share" else [share],
        owner.private_key,
        owner.address,
        project,
        now - 3600 if broken == "expired" else now + 3600,
        chain_config.chain_id,
        chain_config.registry,
        now=now - 7200 if broken == "expired" else now,
        owner_share=False,
    )
    registry.setSecretsBundle(project, cid_to_bytes(store.put(bundle)), sender=developer)

    rid = request_job(function_id, body="world", reply_to=inbox.url)

    wait_until(lambda: worker.metrics()["skipped"] == 1, 20)
    (skip,) = worker.events("job_skipped")
    assert skip["request_id"] == "0x" + rid.hex()
    assert "secrets unavailable" in skip["detail"], skip
    time.sleep(0.5)
    assert inbox.posts == []
    assert coordinator.getCommitment(rid, worker.address).commitment == EMPTY
    assert worker.metrics()["committed"] == 0
    assert os.fsencode("bonjour") not in worker.log_path.read_bytes()
