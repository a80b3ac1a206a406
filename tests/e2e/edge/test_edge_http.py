"""The raw-request corpus (``http_corpus.json``) against the devnet's gateway: every case gets the
status it lists with a problem body that says what went wrong and what to do, nothing is ticketed
or charged, and a normal client is answered while the hostile connection is open and after it.
"""

from __future__ import annotations

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

CASES = load_cases()


@pytest.fixture(scope="module")
def target(edge_stack: TicketStack) -> dict[str, Any]:
    url = urlsplit(edge_stack.gateway_url)
    function = f"/{edge_stack.owner}/{edge_stack.examples}/hello"
    return {"port": url.port, "values": {"function": function, "host": url.netloc}}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_raw_request__corpus_case__refused_with_reason_at_no_cost(
    edge_stack: TicketStack, target: dict[str, Any], case: Case
) -> None:
    port = target["port"]
    before = ledger(edge_stack)
    source = f"127.0.0.{10 + CASES.index(case)}"
    answered_during: list[int] = []
    replies = run_case(
        case, port, source, target["values"], during=lambda: answered_during.append(probe(port))
    )
    check_statuses(case, replies)
    check_refusal(case, replies)
    assert answered_during == [200], "a normal request while the case's connection was open"
    assert probe(port) == 200, "a normal request after the case"
    assert_no_cost(before, ledger(edge_stack))


def test_normal_call__after_the_corpus__is_ticketed_once(
    edge_stack: TicketStack, target: dict[str, Any]
) -> None:
    before = ledger(edge_stack)
    function = target["values"]["function"]
    with connect(target["port"], "127.0.0.3", timeout=60.0) as sock:
        sock.sendall(
            f"GET {function} HTTP/1.1\r\nHost: {target['values']['host']}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        replies = parse_replies(read_all(sock, 60.0))
    assert [reply.status for reply in replies] == [200]
    after = ledger(edge_stack)
    assert after.tickets == before.tickets + 1
    assert after.issued_total > before.issued_total
