"""The inbox wire format: a worker's post is what the gateway's inbox route reads."""

from __future__ import annotations

from eth_account import Account

from peerhost.wire import recover_signer, request_id_text, sign_result
from peerhost.wire.headers import HEADER_PREFIX, SIGNATURE_HEADER, WORKER_HEADER
from peerhost.wire.inbox import INBOX_PATH, inbox_base_url, post_headers, post_url

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
COORDINATOR = "0x" + "ab" * 20
RID = bytes(range(32))


def test_post_url__base_with_or_without_slash__same_url() -> None:
    base = inbox_base_url("http://gw.test:8080/")
    assert base == "http://gw.test:8080" + INBOX_PATH
    assert post_url(base, RID) == post_url(base + "/", RID) == f"{base}/0x{RID.hex()}"
    assert request_id_text(RID) == "0x" + RID.hex()


def test_post_headers__signature__recovers_to_named_worker() -> None:
    worker = Account.from_key(KEY).address
    result = b"\x02" * 32
    headers = post_headers(worker, sign_result(KEY, 31337, COORDINATOR, RID, result))
    assert headers[WORKER_HEADER] == worker
    assert all(name.startswith(HEADER_PREFIX) for name in (WORKER_HEADER, SIGNATURE_HEADER))
    signature = bytes.fromhex(headers[SIGNATURE_HEADER].removeprefix("0x"))
    assert recover_signer(signature, 31337, COORDINATOR, RID, result) == worker
    assert recover_signer(signature, 31337, COORDINATOR, RID, b"\x03" * 32) != worker
