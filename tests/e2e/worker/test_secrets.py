"""A project's sealed secrets reach the function as environment variables, and never the logs."""

from __future__ import annotations

import time

from worker_helpers import wait_until

from peerhost.secrets import seal_bundle
from peerhost.storage.cid import cid_to_bytes
from peerhost.storage.spec import open_store

GREETING_JS = b"""export async function handler(req) {
  return { status: 200, body: process.env.GREETING + ", " + req.body };
}
"""
SECRET = "bonjour-from-the-vault"


def test_sealed_secret__reaches_the_function__and_is_never_logged(
    registry, worker_registry, developer, request_job, spawn_worker, workers, store_spec,
    chain_config, inbox,
):  # fmt: skip
    worker = spawn_worker(workers[0])
    code = open_store(store_spec).put(GREETING_JS)
    registry.publish(
        "demo", "greet", "js", cid_to_bytes(code), 50_000_000, 64 * 2**20, 0, sender=developer
    )
    function_id = registry.functionIdOf(developer, "demo", "greet")
    worker_key = bytes(worker_registry.getWorker(worker.address).encryptionKey)
    bundle = seal_bundle(
        {"GREETING": SECRET},
        [(worker.address, worker_key)],
        developer.private_key,
        developer.address,
        "demo",
        int(time.time()) + 3600,
        chain_config.chain_id,
        chain_config.registry,
        owner_share=False,
    )
    registry.setSecretsBundle(
        "demo", cid_to_bytes(open_store(store_spec).put(bundle)), sender=developer
    )

    rid = request_job(function_id, body="world", reply_to=inbox.url)

    wait_until(lambda: inbox.posts, 15)
    assert f"{SECRET}, world".encode() in inbox.posts[0].body
    assert inbox.posts[0].path.endswith(rid.hex())
    wait_until(lambda: worker.metrics()["committed"] == 1, 10)
    assert SECRET not in worker.log_path.read_text()
