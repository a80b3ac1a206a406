"""Hostile job-feed connections (``feed_corpus.json``) against the devnet's gateway: each closed
with a code and a reason (or, once linked, dropped message by message with the link kept), no
ticket issued, and the gateway's feed keeps serving its real workers."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from edge_client import expand, probe
from edge_ledger import assert_no_cost, ledger
from edge_ws import RawWebSocket, frame
from eth_account import Account
from ticket_stack import TicketStack

from peerhost.wire.feed import (
    FEED_PATH,
    Answer,
    Challenge,
    Hello,
    decode_message,
    encode_message,
    hello_digest,
    sign_digest,
)

CORPUS = json.loads((Path(__file__).parent / "feed_corpus.json").read_text())
CASES: list[dict[str, Any]] = CORPUS["cases"]
OTHER_GATEWAY = "0x" + "11" * 20


def _challenge(ws: RawWebSocket) -> Challenge:
    message = decode_message(ws.receive_text())
    assert isinstance(message, Challenge)
    return message


def _hello(challenge: Challenge, key: bytes, variant: dict[str, str], stale_nonce: bytes) -> str:
    worker = Account.from_key(key).address
    nonce = stale_nonce if variant.get("nonce") == "other" else challenge.nonce
    gateway = OTHER_GATEWAY if variant.get("signature") == "other_gateway" else challenge.gateway
    signature = sign_digest(key, hello_digest(gateway, nonce))
    if variant.get("signature") == "garbage":
        signature = os.urandom(64) + b"\x1b"
    if variant.get("signature") == "short":
        signature = os.urandom(10)
    if variant.get("worker") == "other":
        worker = Account.create().address
    return encode_message(Hello(worker, nonce, signature))


def _send(ws: RawWebSocket, step: dict[str, Any], challenge: Challenge, key: bytes) -> None:
    if "text" in step:
        ws.send_text(step["text"])
    elif "hello" in step:
        ws.send_text(_hello(challenge, key, step["hello"], os.urandom(32)))
    elif "answer" in step:
        answer = Answer(os.urandom(32), os.urandom(32), b"output", os.urandom(64) + b"\x1b")
        ws.send_text(encode_message(answer))
    else:
        spec = step["frame"]
        payload = (
            bytes.fromhex(spec["payload_hex"])
            if "payload_hex" in spec
            else expand(spec["payload"], {})
        )
        ws.send_raw(
            frame(
                spec["opcode"],
                payload,
                fin=spec.get("fin", True),
                mask=spec.get("mask", True),
                rsv=spec.get("rsv", 0),
            )
        )


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_feed_connection__corpus_case__refused_with_reason(
    edge_stack: TicketStack, case: dict[str, Any]
) -> None:
    port = urlsplit(edge_stack.gateway_url).port
    assert port is not None
    before = ledger(edge_stack)
    links_before = edge_stack.devnet.gateway.health()["feed_links"]
    key = os.urandom(32)
    ws = RawWebSocket(port, FEED_PATH)
    try:
        challenge = _challenge(ws)
        if case["after_hello"]:
            ws.send_text(_hello(challenge, key, {}, b""))
        for step in case["send"]:
            _send(ws, step, challenge, key)
        expect = case["expect"]
        if expect.get("open"):
            assert ws.still_open(), case["why"]
        else:
            closed = ws.close_frame()
            assert closed.close_code == expect["close"], (closed.close_code, closed.close_reason)
            assert expect.get("reason", "") in closed.close_reason
    finally:
        ws.close()
    assert probe(port) == 200
    assert_no_cost(before, ledger(edge_stack))
    edge_stack.devnet.wait_for_feeds(links_before, timeout=10.0)  # the real workers still linked
