"""Functions as their authors write them, over real HTTP on the whole stack: a function that
imports project code and an npm package (bundled at publish), and credentials that never
reach the chain."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_http_stack import Stack
from eth_account import Account
from eth_account.messages import encode_defunct
from test_http_examples import MODES, assert_settled
from test_http_publish import publisher

from peerhost.console import PeerHost
from peerhost.publishing import load_project
from peerhost.wire.credentials import disclosure_digest

USER = {"email": "Ada@Example.com", "name": "Ada Lovelace"}
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.mark.parametrize("mode", MODES)
def test_users_create__imports_local_module_and_npm_package__answers_over_http(
    stack: Stack, http: httpx.Client, mode: str
) -> None:
    response = http.post(
        stack.example("users-create"), json=USER, headers={"x-peerhost-mode": mode}
    )
    assert response.status_code == 200, response.text
    user = response.json()
    assert user["email"] == "ada@example.com"  # ../lib/users.js
    assert user["handle"] == "ada-lovelace"  # slugify, from npm
    assert user["id"] == "u_" + hashlib.sha256(b"ada@example.com").hexdigest()[:12]
    assert_settled(stack, response, mode)


def test_users_create__bad_email__error_names_the_original_file(
    stack: Stack, http: httpx.Client
) -> None:
    response = http.post(stack.example("users-create"), json={"email": "nope"})
    assert response.status_code == 502
    detail = response.json()["detail"]
    assert detail.startswith("TypeError: email must look like name@example.com")
    assert "(lib/users.js:" in detail and "(functions/users-create.js:" in detail


def test_credentials__authorization_and_cookie__absent_from_everything_on_chain(
    stack: Stack, http: httpx.Client, chain: Any
) -> None:
    token, cookie = "Bearer tok-9f2c1e7d", "session=ck-4b8a0d3e"
    response = http.post(
        stack.example("users-create"),
        json=USER,
        headers={"x-peerhost-mode": "verified", "authorization": token, "cookie": cookie},
    )
    assert response.status_code == 200, response.text
    request_id = response.headers["x-peerhost-request-id"]
    with stack.ape():
        history = PeerHost(stack.deployment, chain).history(request_id)
        web3 = chain.provider.web3
        calldata = [
            bytes(web3.eth.get_transaction(tx)["input"])
            for tx in {e.tx_hash for e in history.events}
        ]
    job = next(e for e in history.events if e.name == "ExecutionRequested").args["job"]
    assert b"ada@example.com" not in bytes(job["input"])  # the raw body is there, lowercase is not
    assert b"Ada@Example.com" in bytes(job["input"])  # the check below can see the input
    on_chain = [bytes(job["input"]), repr([e.args for e in history.events]).encode(), *calldata]
    assert calldata, "the request's transactions were found"
    for blob in on_chain:
        for secret in (b"tok-9f2c1e7d", b"ck-4b8a0d3e", b"authorization", b"cookie"):
            assert secret not in blob.lower()


HEADERS_ECHO = """export default {
  async fetch(request) {
    return Response.json(Object.fromEntries(request.headers));
  },
};
"""


def test_declared_header__reaches_the_function_and_undeclared_ones_do_not(
    stack: Stack, http: httpx.Client, tmp_path: Path
) -> None:
    folder = tmp_path / "hooks"
    (folder / "functions").mkdir(parents=True)
    (folder / "functions" / "hub.js").write_text(HEADERS_ECHO)
    manifest = {"project": "hooks", "functions": {"hub": {"headers": ["X-Hub-Signature-256"]}}}
    (folder / "project.json").write_text(json.dumps(manifest))
    with stack.ape():
        report = publisher(stack).publish(load_project(folder))
    response = http.post(
        report.urls()["hub"],
        content=b"{}",
        headers={
            "content-type": "application/json",
            "x-hub-signature-256": "sha256=abc123",
            "x-undeclared": "nope",
            "authorization": "Bearer tok-1",
        },
    )
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["x-hub-signature-256"] == "sha256=abc123"
    assert "x-undeclared" not in seen and "authorization" not in seen


WHOAMI = """export async function handler(req) {
  return { authorization: req.headers.authorization ?? null, cookie: req.headers.cookie ?? null };
}
"""


def test_declared_authorization__reaches_every_worker_off_chain__only_a_commitment_on_chain(
    stack: Stack, http: httpx.Client, tmp_path: Path, chain: Any
) -> None:
    folder = tmp_path / "authed"
    (folder / "functions").mkdir(parents=True)
    (folder / "functions" / "whoami.js").write_text(WHOAMI)
    manifest = {"project": "authed", "functions": {"whoami": {"headers": ["authorization"]}}}
    (folder / "project.json").write_text(json.dumps(manifest))
    with stack.ape():
        report = publisher(stack).publish(load_project(folder))
    token = "Bearer tok-c0ffee-51"
    response = http.get(
        report.urls()["whoami"],
        headers={"authorization": token, "cookie": "s=undeclared", "x-peerhost-mode": "verified"},
    )
    # verified: the committee's workers each opened the credential and agreed on the result
    assert response.status_code == 200, response.text
    assert response.json() == {"authorization": token, "cookie": None}
    request_id = response.headers["x-peerhost-request-id"]
    assert stack.status(request_id)["status"] == "finalized"
    with stack.ape():
        history = PeerHost(stack.deployment, chain).history(request_id)
        web3 = chain.provider.web3
        calldata = [
            bytes(web3.eth.get_transaction(tx)["input"])
            for tx in {e.tx_hash for e in history.events}
        ]
    job = next(e for e in history.events if e.name == "ExecutionRequested").args["job"]
    on_chain_headers = json.loads(bytes(job["input"]))["headers"]
    assert on_chain_headers["authorization"].startswith("sealed:0x")
    for blob in [bytes(job["input"]), repr([e.args for e in history.events]).encode(), *calldata]:
        assert b"tok-c0ffee-51" not in blob and b"undeclared" not in blob


def test_credentials_endpoint__not_a_worker_or_bad_signature__refused(
    stack: Stack, http: httpx.Client
) -> None:
    outsider = Account.create()
    input_hash = b"\x42" * 32
    issued = int(time.time())
    digest = disclosure_digest(stack.devnet.chain_config.chain_id, input_hash, issued)
    signature = outsider.sign_message(encode_defunct(primitive=digest)).signature
    url = f"{stack.gateway_url}/_inbox/credentials/0x{input_hash.hex()}"
    signed = {"x-peerhost-worker": outsider.address, "x-peerhost-issued-at": str(issued)}
    not_worker = http.get(
        url, headers={**signed, "x-peerhost-signature": "0x" + bytes(signature).hex()}
    )
    assert not_worker.status_code == 403, not_worker.text
    other = Account.create().sign_message(encode_defunct(primitive=digest)).signature
    wrong = http.get(url, headers={**signed, "x-peerhost-signature": "0x" + bytes(other).hex()})
    assert wrong.status_code == 401, wrong.text


def test_stripe_webhook__signed_accepted_and_tampered_refused__over_http(
    stack: Stack, http: httpx.Client, tmp_path: Path
) -> None:
    """The example as its author deploys it: its secret set with `ape run secrets set`, the
    signature header declared, the events posted by the sender over HTTP."""
    secret = "whsec_e2e_4f1c9a"
    folder = tmp_path / "hooks"
    (folder / "functions").mkdir(parents=True)
    shutil.copy(EXAMPLES / "functions" / "stripe-webhook.js", folder / "functions")
    manifest = {
        "project": "hooks",
        "secrets": ["STRIPE_WEBHOOK_SECRET"],
        "functions": {"stripe-webhook": {"headers": ["stripe-signature"]}},
    }
    (folder / "project.json").write_text(json.dumps(manifest))
    env = {
        **os.environ,
        "APE_FOUNDRY_HOST": stack.devnet.rpc_url,
        "PEERHOST_DEVNET_DIR": str(stack.devnet.state_dir),
    }
    ape = str(Path(sys.executable).with_name("ape"))
    done = subprocess.run(
        [ape, "run", "secrets", "set", "hooks", "STRIPE_WEBHOOK_SECRET", "--account", "TEST::1"],
        input=secret + "\n", env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    with stack.ape():
        url = publisher(stack).publish(load_project(folder)).urls()["stripe-webhook"]

    event = b'{"id":"evt_e2e","type":"invoice.paid","data":{"amount":1200}}'
    t = int(time.time())  # the function's clock is the request's block time
    mac = hmac.new(secret.encode(), f"{t}.".encode() + event, hashlib.sha256).hexdigest()
    headers = {"content-type": "application/json", "stripe-signature": f"t={t},v1={mac}"}
    signed = http.post(url, content=event, headers={**headers, "x-peerhost-mode": "verified"})
    assert signed.status_code == 200, signed.text
    assert signed.json() == {"received": True, "id": "evt_e2e", "type": "invoice.paid"}
    tampered = http.post(url, content=event.replace(b"1200", b"9200"), headers=headers)
    assert tampered.status_code == 400, tampered.text
    assert tampered.json()["detail"] == "no v1 signature matches the payload"
