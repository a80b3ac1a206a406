"""Every example function answered on the ticket path, in its three modes; verified answers are
final on-chain with the result hash in the headers; the function's log reaches its owner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from ticket_stack import TicketStack

from peerhost.devnet.accounts import DEVELOPER, derive
from peerhost.devnet.run import banner
from peerhost.devnet.webhook import DEV_PREFIX, SECRET_FILE, dev_secret
from peerhost.functionlogs import key_signer, sign_access
from peerhost.wire.feed import parse_attestations_header

MODES = ["fast", "attested", "verified"]


def settled(stack: TicketStack, response: httpx.Response, mode: str) -> None:
    assert response.headers["x-peerhost-mode"] == mode
    attesters = parse_attestations_header(response.headers["x-peerhost-attestations"])
    assert len(attesters) >= (2 if mode == "attested" else 1)
    if mode == "verified":
        status = stack.status(response.headers["x-peerhost-request-id"])
        assert status["settlement"]["leaf_state"] == "final"
        results = {a["result_hash"] for a in status["attestations"]}
        assert response.headers["x-peerhost-result-hash"] in results


@pytest.mark.parametrize("mode", MODES)
def test_echo__post__returns_the_canonical_request(
    tickets_stack: TicketStack, http: httpx.Client, mode: str
) -> None:
    response = http.post(
        tickets_stack.example("echo") + "/sub/path?x=1",
        json={"ping": 1},
        headers={"x-peerhost-mode": mode, "authorization": "Bearer never-on-chain"},
    )
    assert response.status_code == 200, response.text
    echoed = response.json()
    assert (echoed["method"], echoed["path"], echoed["query"]) == ("POST", "/sub/path", {"x": "1"})
    assert json.loads(echoed["body"]) == {"ping": 1}
    assert "authorization" not in echoed["headers"]
    settled(tickets_stack, response, mode)


@pytest.mark.parametrize("mode", MODES)
def test_orders_create__valid_order__201_with_totals(
    tickets_stack: TicketStack, http: httpx.Client, mode: str
) -> None:
    order = {"customer": "alice", "items": [{"sku": "A-1", "qty": 2, "price_cents": 1250}]}
    response = http.post(
        tickets_stack.example("orders-create"), json=order, headers={"x-peerhost-mode": mode}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["subtotal_cents"], body["tax_cents"], body["total_cents"]) == (2500, 206, 2706)
    assert body["order_id"] == response.headers["x-peerhost-request-id"]
    settled(tickets_stack, response, mode)


@pytest.mark.parametrize("mode", MODES)
def test_clock_and_dice__get__dice_within_sides_at_the_tickets_time(
    tickets_stack: TicketStack, http: httpx.Client, mode: str
) -> None:
    response = http.get(
        tickets_stack.example("clock-and-dice"),
        params={"sides": "20"},
        headers={"x-peerhost-mode": mode},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["dice"]) == 3 and all(1 <= d <= 20 for d in body["dice"])
    status = tickets_stack.status(response.headers["x-peerhost-request-id"])
    assert body["now_ms"] == status["ticket"]["issuedAt"] * 1000  # the ticket's clock
    settled(tickets_stack, response, mode)


@pytest.mark.parametrize("mode", MODES)
def test_report__python_function__summary_at_the_tickets_time_and_its_log_for_the_owner(
    tickets_stack: TicketStack, http: httpx.Client, mode: str
) -> None:
    response = http.post(
        tickets_stack.example("report"),
        json={"xs": [3, 1, 4, 1, 5, 9]},
        headers={"x-peerhost-mode": mode},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["count"], body["sum"], body["median"]) == (6, 23, 3.5)
    rid = response.headers["x-peerhost-request-id"]
    issued_at = tickets_stack.status(rid)["ticket"]["issuedAt"]
    assert body["generated_at"] == datetime.fromtimestamp(issued_at, UTC).isoformat()
    settled(tickets_stack, response, mode)
    owner = derive(DEVELOPER)
    headers = sign_access(key_signer(owner.private_key), owner.address, tickets_stack.examples)
    logs = http.get(
        f"{tickets_stack.gateway_url}/_logs/{owner.address}/{tickets_stack.examples}",
        params={"request": rid},
        headers=headers,
    )
    assert logs.status_code == 200, logs.text
    lines = [line for entry in logs.json()["entries"] for line in entry["lines"]]
    assert any("report over 6 numbers" in line for line in lines), lines


def test_stripe_webhook__the_banners_curl__signed_event_answers_200_and_the_secret_stays_out(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    devnet = tickets_stack.devnet
    lines = banner(devnet)
    curl = next(line.strip() for line in lines if "/stripe-webhook" in line and "curl" in line)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", curl], env=env, capture_output=True, text=True, timeout=120
    )  # the command exactly as a person pastes it
    assert done.returncode == 0, done.stderr
    head, _, body = done.stdout.replace("\r\n", "\n").partition("\n\n")
    assert head.split()[1] == "200", done.stdout
    assert json.loads(body) == {"received": True, "id": "evt_devnet_1", "type": "invoice.paid"}
    # The secret is set (not a 500 "is not set"): an unsigned event is refused for its signature.
    unsigned = http.post(tickets_stack.example("stripe-webhook"), content=b'{"id": "evt_x"}')
    assert unsigned.status_code == 400, unsigned.text
    assert unsigned.json()["error"] == "invalid_signature"
    secret = dev_secret(devnet.state_dir)
    assert secret.startswith(DEV_PREFIX)
    assert secret not in "\n".join(lines) + done.stdout + done.stderr
    for path in devnet.state_dir.rglob("*"):
        if path.is_file() and path.name != SECRET_FILE:
            assert secret.encode() not in path.read_bytes(), path
