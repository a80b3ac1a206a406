from __future__ import annotations

import json

import pytest

from peerhost.chain.errors import ChainUnavailable, RpcError, TransactionReverted
from peerhost.gateway import errors as e
from peerhost.gateway.problems import problem, status_of

WALLET = "0x" + "ab" * 20
RID = "0x" + "11" * 32


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (e.BadRequest("x"), 400),
        (e.InvalidResultSignature(RID, WALLET, "x"), 401),
        (e.WorkerNotActive(WALLET), 403),
        (e.NoRoute("h", "/p", "d"), 404),
        (e.FunctionNotFound(WALLET, "shop", "fn"), 404),
        (e.UnknownRequest(RID), 404),
        (e.DuplicateResult(RID, WALLET), 409),
        (e.FunctionDisabled(WALLET, "shop", "fn"), 410),
        (e.PayloadTooLarge("The body", 10, 5), 413),
        (e.RateLimited("1.2.3.4", 0.2), 429),
        (e.RequestReverted("WrongPhase()"), 502),
        (e.RequestRefunded(RID, "u"), 502),
        (TransactionReverted("requestExecution()", "Boom()"), 502),
        (e.PaymentUnavailable("x"), 503),
        (ChainUnavailable("http://x", "ConnectError"), 503),
        (RpcError("eth_sendRawTransaction", -32000, "nonce too low"), 503),
        (e.ResultTimeout(RID, "u", 1.0, "x"), 504),
        (RuntimeError("bug"), 500),
    ],
)
def test_status_of__each_error__its_status(exc: BaseException, status: int) -> None:
    assert status_of(exc) == status
    assert problem(exc).status_code == status


def test_problem__not_found__names_what_was_looked_up() -> None:
    body = json.loads(bytes(problem(e.FunctionNotFound(WALLET, "shop", "fn")).body))
    assert body["error"] == "FunctionNotFound"
    assert (body["wallet"], body["project"], body["function"]) == (WALLET, "shop", "fn")
    assert "'fn'" in body["message"] and "'shop'" in body["message"]


def test_problem__timeout__carries_request_id_and_status_url() -> None:
    body = json.loads(
        bytes(problem(e.ResultTimeout(RID, "http://g/_status/requests/x", 3, "y")).body)
    )
    assert body["request_id"] == RID
    assert body["status_url"] == "http://g/_status/requests/x"


def test_problem__rate_limited__retry_after_header() -> None:
    assert problem(e.RateLimited("c", 2.2)).headers["retry-after"] == "3"


def test_problem__chain_down__says_what_to_do_without_internals() -> None:
    body = json.loads(bytes(problem(ChainUnavailable("http://10.0.0.1:8545", "ConnectError")).body))
    assert "retry" in body["message"]
    assert "10.0.0.1" not in body["message"]


def test_problem__unexpected__no_details_leak() -> None:
    body = json.loads(bytes(problem(RuntimeError("secret internals")).body))
    assert "secret" not in body["message"]
