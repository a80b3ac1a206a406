"""A Chainlink Functions source on the ticket path: published with runtime clf, called over HTTP
with args, a secret and bytesArgs, answered by the workers with the raw bytes the encoding gives
(base64 in the signed envelope), attested, and its log the owner's."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from eth_abi import encode as abi_encode
from ticket_stack import TicketStack

from peerhost.client import check_attestations
from peerhost.wire.clf import json_args

SOURCE = """const [a, b] = args;
const key = await Promise.resolve(secrets.SCALE_KEY);
console.log(`scaling with ${key}`);
const scale = BigInt(parseInt(bytesArgs[0].slice(2), 16));
return Functions.encodeInt256((BigInt(a) - BigInt(b)) * scale);
"""


def test_clf_source__called_over_http__attested_raw_abi_bytes(
    tickets_stack: TicketStack, http: httpx.Client, tmp_path: Path
) -> None:
    folder = tmp_path / "clf-e2e"
    (folder / "functions").mkdir(parents=True)
    (folder / "functions" / "diff.js").write_text(SOURCE)
    manifest = {
        "project": "clf-e2e",
        "functions": {"diff": {"runtime": "clf", "secrets": ["SCALE_KEY"]}},
    }
    (folder / "project.json").write_text(json.dumps(manifest))
    tickets_stack.set_secret("clf-e2e", "SCALE_KEY", "k-42")
    url = tickets_stack.publish(folder)["diff"]
    response = http.post(
        url,
        content=json_args(["5", "12"], [b"\x03"]),
        headers={"content-type": "application/json", "x-peerhost-mode": "attested"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == abi_encode(["int256"], [-21])
    assert response.headers["x-peerhost-mode"] == "attested"
    chain_config = tickets_stack.devnet.chain_config
    assert chain_config is not None and chain_config.settlement is not None
    active = tickets_stack.view(lambda view: view.active_set())
    check = check_attestations(
        response.headers, chain_config.chain_id, chain_config.settlement, active.members
    )
    assert check.ok and len(check.attesters) == 2, check
    # An encoding out of range fails the run with the range named (a 502 problem, as any js_error).
    huge = http.post(
        url,
        content=json_args(["1" + "0" * 80, "0"], [b"\x01"]),
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 502, huge.text
    assert "Functions.encodeInt256" in huge.text and "out of range" in huge.text
