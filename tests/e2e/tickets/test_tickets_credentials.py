"""A declared ``authorization`` on the ticket path: it reaches the function through the workers
(fetched from the gateway off-chain) in every mode, and no transaction or log of the chain
carries it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from test_tickets_examples import MODES, settled
from ticket_stack import TicketStack

from peerhost.publishing import Publisher, load_project
from peerhost.storage import open_store

pytestmark = pytest.mark.usefixtures("automine")  # publishes through ape

WHOAMI = """export async function handler(req) {
  return { authorization: req.headers.authorization ?? null, cookie: req.headers.cookie ?? null };
}
"""


@pytest.fixture(scope="module")
def whoami(tickets_stack: TicketStack, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One more function of the examples project (its settlement reserve is already funded),
    ``whoami``, declaring authorization; publishing leaves the project's other functions as
    they are."""
    devnet = tickets_stack.devnet
    folder = tmp_path_factory.mktemp("authed")
    (folder / "functions").mkdir()
    (folder / "functions" / "whoami.js").write_text(WHOAMI)
    manifest = {"functions": {"whoami": {"headers": ["authorization"]}}}
    (folder / "project.json").write_text(json.dumps(manifest))
    assert devnet.deployment is not None
    with tickets_stack.ape():
        report = Publisher(
            devnet.deployment.registry,
            tickets_stack.developer,
            open_store(devnet.store_spec),
            tickets_stack.gateway_url,
        ).publish(load_project(folder, tickets_stack.examples))
    assert [(f.name, f.action) for f in report.functions] == [("whoami", "published")]
    return tickets_stack.example("whoami")


def _on_chain(rpc_url: str) -> list[bytes]:
    """Every transaction's calldata and every log's topics and data, from block 0 to the head."""

    def call(method: str, *params: Any) -> Any:
        doc = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        return httpx.post(rpc_url, json=doc, timeout=30.0).json()["result"]

    head = int(call("eth_blockNumber"), 16)
    blobs = [
        bytes.fromhex(tx["input"][2:])
        for n in range(head + 1)
        for tx in call("eth_getBlockByNumber", hex(n), True)["transactions"]
    ]
    for log in call("eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(head)}):
        blobs.append(bytes.fromhex("".join(t[2:] for t in log["topics"]) + log["data"][2:]))
    return blobs


def test_declared_authorization__every_ticket_mode__reaches_the_function_never_the_chain(
    tickets_stack: TicketStack, http: httpx.Client, whoami: str
) -> None:
    tokens = {mode: f"Bearer tok-{mode}-7e1d" for mode in MODES}
    for mode, token in tokens.items():
        response = http.get(
            whoami,
            headers={"authorization": token, "cookie": "s=undeclared", "x-peerhost-mode": mode},
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"authorization": token, "cookie": None}
        settled(tickets_stack, response, mode)
    blobs = _on_chain(tickets_stack.devnet.rpc_url)
    assert any(b"whoami" in blob for blob in blobs), "the scan sees the publishing calldata"
    for blob in blobs:
        for token in tokens.values():
            assert token.encode() not in blob
        assert b"s=undeclared" not in blob
