"""A secret value that reaches a line of the worker's own log (here: in the text of an error, the
unreachable reply URL a requester chose) appears there only as ``[REDACTED]``: the worker's log
redactor learns each value as it opens the bundle."""

from __future__ import annotations

import time
from typing import Any

from worker_helpers import wait_until

from peerhost.secrets import seal_bundle
from peerhost.storage.cid import cid_to_bytes
from peerhost.storage.spec import open_store

SECRET = "s3cr3t-token-in-an-error-text"
GREETING_JS = b"""export async function handler(req) {
  return { status: 200, body: process.env.TOKEN.length + " characters" };
}
"""


def test_secret__in_an_error_text_of_the_worker_log__redacted(
    registry: Any,
    worker_registry: Any,
    developer: Any,
    request_job: Any,
    spawn_worker: Any,
    workers: Any,
    store_spec: str,
    chain_config: Any,
) -> None:
    worker = spawn_worker(workers[0])
    store = open_store(store_spec)
    code = store.put(GREETING_JS)
    registry.publish(
        "vault-log", "greet", "js", cid_to_bytes(code), 50_000_000, 64 * 2**20, 0, sender=developer
    )
    function_id = registry.functionIdOf(developer, "vault-log", "greet")
    key = bytes(worker_registry.getWorker(worker.address).encryptionKey)
    bundle = seal_bundle(
        {"TOKEN": SECRET},
        [(worker.address, key)],
        developer.private_key,
        developer.address,
        "vault-log",
        int(time.time()) + 3600,
        chain_config.chain_id,
        chain_config.registry,
        owner_share=False,
    )
    registry.setSecretsBundle("vault-log", cid_to_bytes(store.put(bundle)), sender=developer)

    # nothing listens there: the worker logs the URL it could not post to, secret and all
    request_job(function_id, reply_to=f"http://127.0.0.1:9/{SECRET}")

    wait_until(lambda: worker.events("output_not_posted"), 30)
    (line,) = worker.events("output_not_posted")
    assert "[REDACTED]" in str(line["url"]), line
    assert SECRET not in worker.log_path.read_text()
