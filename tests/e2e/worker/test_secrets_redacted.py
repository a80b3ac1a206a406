"""A secret value that reaches a line of the worker's own log (here: in the text of an error, the
unreachable reply URL a requester chose) appears there only as ``[REDACTED]``: the worker's log
redactor learns each value as it opens the bundle. A function that writes a secret to its stderr
(its log) has it masked by the worker before the log leaves it: the log posted to the inbox (what
the gateway returns to the owner and stores) and the worker's own log show only ``[REDACTED]``."""

from __future__ import annotations

import time
from typing import Any

from worker_helpers import wait_until
from worker_inbox import RecordingInbox

from peerhost.secrets import seal_bundle
from peerhost.storage.cid import cid_to_bytes
from peerhost.storage.spec import open_store

SECRET = "s3cr3t-token-in-an-error-text"
GREETING_JS = b"""export async function handler(req) {
  return { status: 200, body: process.env.TOKEN.length + " characters" };
}
"""


STDERR_SECRET = "s3cr3t-token-on-stderr"
LEAKY_JS = b"""export async function handler(req) {
  console.log("using token " + process.env.TOKEN);
  console.error(JSON.stringify({ again: process.env.TOKEN }));
  return { status: 200, body: "done" };
}
"""


def _publish_with_secret(
    project: str,
    code_js: bytes,
    secret: str,
    worker: Any,
    registry: Any,
    worker_registry: Any,
    developer: Any,
    store_spec: str,
    chain_config: Any,
) -> bytes:
    """Publishes ``code_js`` as ``project``/greet with a bundle holding TOKEN = ``secret`` sealed
    to ``worker``; returns the function id."""
    store = open_store(store_spec)
    code = store.put(code_js)
    registry.publish(
        project, "greet", "js", cid_to_bytes(code), 50_000_000, 64 * 2**20, 0, sender=developer
    )
    key = bytes(worker_registry.getWorker(worker.address).encryptionKey)
    bundle = seal_bundle(
        {"TOKEN": secret},
        [(worker.address, key)],
        developer.private_key,
        developer.address,
        project,
        int(time.time()) + 3600,
        chain_config.chain_id,
        chain_config.registry,
        owner_share=False,
    )
    registry.setSecretsBundle(project, cid_to_bytes(store.put(bundle)), sender=developer)
    function_id: bytes = registry.functionIdOf(developer, project, "greet")
    return function_id


def test_secret__written_to_stderr_by_the_function__redacted_in_posted_log_and_worker_log(
    registry: Any,
    worker_registry: Any,
    developer: Any,
    request_job: Any,
    spawn_worker: Any,
    workers: Any,
    store_spec: str,
    chain_config: Any,
    inbox: RecordingInbox,
) -> None:
    worker = spawn_worker(workers[0])
    function_id = _publish_with_secret(
        "vault-stderr",
        LEAKY_JS,
        STDERR_SECRET,
        worker,
        registry,
        worker_registry,
        developer,
        store_spec,
        chain_config,
    )

    request_job(function_id, reply_to=inbox.url)

    wait_until(lambda: inbox.posts, 30)
    (post,) = inbox.posts
    lines = post.log.splitlines()
    # the run had the secret (it printed it), and only the mask left the worker
    assert lines == ["using token [REDACTED]", '{"again":"[REDACTED]"}'], lines
    assert STDERR_SECRET not in post.log and STDERR_SECRET.encode() not in post.body
    wait_until(lambda: worker.events("output_posted"), 30)
    assert STDERR_SECRET not in worker.log_path.read_text()


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
