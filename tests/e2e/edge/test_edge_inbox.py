"""Hostile posts to the gateway's result inbox (``inbox_corpus.json``): each refused with a reason,
nothing accepted or ticketed, the gateway answering a normal client during and after."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from edge_client import (
    Case,
    check_refusal,
    check_statuses,
    connect,
    load_cases,
    parse_replies,
    probe,
    read_all,
    run_case,
)
from edge_ledger import assert_no_cost, ledger
from ticket_stack import TicketStack

from peerhost.devnet.accounts import worker_key

CASES = load_cases(Path(__file__).parent / "inbox_corpus.json")


@pytest.fixture(scope="module")
def inbox_values(edge_stack: TicketStack) -> dict[str, Any]:
    url = urlsplit(edge_stack.gateway_url)
    function = f"/{edge_stack.owner}/{edge_stack.examples}/hello"
    with connect(url.port or 80, "127.0.0.5", timeout=60.0) as sock:
        sock.sendall(
            f"GET {function} HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n\r\n".encode()
        )
        replies = parse_replies(read_all(sock, 60.0))
    assert [reply.status for reply in replies] == [200]
    return {
        "port": url.port,
        "values": {
            "host": url.netloc,
            "request_id": "0x" + os.urandom(32).hex(),
            "answered_id": replies[0].headers["x-peerhost-request-id"],
            "worker": worker_key(0).address,
            "garbage_signature": "0x" + os.urandom(65).hex(),
        },
    }


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_inbox_post__corpus_case__refused_with_reason(
    edge_stack: TicketStack, inbox_values: dict[str, Any], case: Case
) -> None:
    port = inbox_values["port"]
    before = ledger(edge_stack)
    during: list[int] = []
    source = f"127.0.0.{100 + CASES.index(case)}"
    replies = run_case(
        case, port, source, inbox_values["values"], lambda: during.append(probe(port))
    )
    check_statuses(case, replies)
    check_refusal(case, replies)
    assert during == [200]
    assert probe(port) == 200
    assert_no_cost(before, ledger(edge_stack))
