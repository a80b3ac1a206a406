"""The status page on the ticket path (the devnet's default): the staked workers and the batches
of the settlement contracts for anyone, an owner's ticket calls with their result hashes, batch,
spend and reserve; checked over HTTP and in Debian's chromium (screenshots saved)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e.browser_pages import page_dom, screenshot
from eth_account import Account
from eth_account.messages import encode_defunct
from ticket_stack import TicketStack, wait_for

from peerhost.functionlogs.access import key_signer
from peerhost.gateway.dashboard.access import owner_link


@pytest.fixture(scope="module")
def verified(tickets_stack: TicketStack, http: httpx.Client) -> httpx.Response:
    """One verified ticket call: its batch was posted and settled by the committee."""
    response = http.get(tickets_stack.example("hello"), headers={"x-peerhost-mode": "verified"})
    assert response.status_code == 200, response.text
    return response


def _public(stack: TicketStack, http: httpx.Client) -> dict[str, Any]:
    data: dict[str, Any] = http.get(f"{stack.gateway_url}/_dashboard/data").json()
    return data


def _owner_url(stack: TicketStack) -> str:
    return owner_link(stack.gateway_url, stack.owner, key_signer(stack.developer.private_key))


def test_dashboard__ticket_path__public_view_lists_stakers_and_settled_batches(
    tickets_stack: TicketStack, http: httpx.Client, verified: httpx.Response
) -> None:
    workers = {w.address for w in tickets_stack.devnet.workers}
    data = wait_for(
        lambda: (
            (d := _public(tickets_stack, http))["batches"]
            and any(b["phase"] in ("finalized", "closed") for b in d["batches"])
            and d
        )
    )
    assert data["tickets"] is True
    assert workers <= {s["address"] for s in data["stakers"]}
    assert all(s["stake"] > 0 for s in data["stakers"])
    assert sum(s["seats"] for s in data["stakers"]) > 0  # committees were drawn from them
    settled = next(b for b in data["batches"] if b["phase"] in ("finalized", "closed"))
    assert settled["leaves"] >= 1 and settled["escrow"] > 0 and settled["settled"] >= 1
    assert settled["gateway"].lower() == tickets_stack.devnet.gateway_key.address.lower()


def test_dashboard__ticket_path__owner_view_shows_result_hash_batch_spend_and_reserve(
    tickets_stack: TicketStack, http: httpx.Client, verified: httpx.Response
) -> None:
    rid = verified.headers["x-peerhost-request-id"]
    url = _owner_url(tickets_stack).replace("?", "/data?", 1)
    data = http.get(url).json()
    row = next(r for r in data["requests"] if r["request_id"] == rid)
    assert row["result_hash"] == verified.headers["x-peerhost-result-hash"]
    assert row["mode"] == "verified" and row["settled"].startswith("batch ")
    project = next(p for p in data["projects"] if p["name"] == tickets_stack.examples)
    assert project["spent"] > 0
    assert project["reserve"] is not None and project["reserve"] > 0


def test_dashboard_in_browser__ticket_path__batches_stakers_and_owner_requests(
    tickets_stack: TicketStack, http: httpx.Client, verified: httpx.Response
) -> None:
    wait_for(lambda: _public(tickets_stack, http)["batches"])
    public = f"{tickets_stack.gateway_url}/_dashboard"
    dom = page_dom(public)
    assert "Recent batches" in dom and re.search(r"<td>#\d+</td>", dom), dom[:4000]
    for worker in tickets_stack.devnet.workers:
        assert worker.address in dom
    screenshot(public, "dashboard-tickets-public")
    link = _owner_url(tickets_stack)
    dom = page_dom(link)
    assert f"Project {tickets_stack.examples}" in dom and "ticket reserve" in dom, dom[:3000]
    assert verified.headers["x-peerhost-result-hash"][:8] in dom
    screenshot(link, "dashboard-tickets-owner")


def test_dashboard_link__ape_run__prints_a_link_that_opens_the_owner_page(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    ape = str(Path(sys.executable).with_name("ape"))
    done = subprocess.run(
        [
            ape,
            "run",
            "dashboard-link",
            "--account",
            "TEST::1",
            "--gateway-url",
            tickets_stack.gateway_url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[3],  # the ape project: its scripts/
    )
    assert done.returncode == 0, done.stdout + done.stderr
    link = done.stdout.strip().splitlines()[-1]
    assert link.startswith(f"{tickets_stack.gateway_url}/_dashboard/owner/{tickets_stack.owner}?")
    page = http.get(link)
    assert page.status_code == 200 and f"Project {tickets_stack.examples}" in page.text


def test_dashboard_connect__wallet_signs_the_served_message__owner_page_opens(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    """What "Connect wallet" does in the browser: fetch the text, personal_sign it, open the page."""
    base = f"{tickets_stack.gateway_url}/_dashboard"
    wallet = tickets_stack.owner
    now = http.get(f"{base}/link-message", params={"wallet": wallet, "expires": 0}).json()["now"]
    expires = int(now) + 600
    served = http.get(f"{base}/link-message", params={"wallet": wallet, "expires": expires}).json()
    assert wallet.lower() in served["message"].lower()
    signed = Account.sign_message(
        encode_defunct(text=served["message"]), tickets_stack.developer.private_key
    )
    query = {"expires": expires, "signature": "0x" + bytes(signed.signature).hex()}
    page = http.get(f"{base}/owner/{wallet}", params=query)
    assert page.status_code == 200 and f"Project {tickets_stack.examples}" in page.text
    stranger = Account.sign_message(encode_defunct(text=served["message"]), "0x" + "22" * 32)
    query["signature"] = "0x" + bytes(stranger.signature).hex()
    assert http.get(f"{base}/owner/{wallet}", params=query).status_code == 403
