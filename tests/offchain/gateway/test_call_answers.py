"""An answer's envelope into the HTTP response: decoded once per distinct envelope, never shared
between calls' headers."""

from __future__ import annotations

from peerhost.gateway.calls import answer_response, http_of
from peerhost.wire.envelope import Envelope, ErrorKind, failure


def _ok(body: str, **headers: str) -> bytes:
    return Envelope(ok=True, status=200, headers=dict(headers), body=body).encode()


def test_http_of__same_bytes_twice__decoded_once_and_equal() -> None:
    envelope = _ok("hi", **{"content-type": "text/plain"})
    first = http_of(envelope)
    assert http_of(bytes(bytearray(envelope))) is first  # equal bytes, another object
    assert first[:3] == (200, {"content-type": "text/plain"}, b"hi")


def test_http_of__other_bytes__their_own_answer() -> None:
    assert http_of(_ok("one"))[2] == b"one"
    assert http_of(_ok("two"))[2] == b"two"


def test_answer_response__extra_headers__not_left_in_the_next_calls_answer() -> None:
    envelope = _ok("hi", **{"content-type": "text/plain", "x-custom": "1"})
    first, _ = answer_response(envelope, {"x-peerhost-worker": "0xabc"})
    second, _ = answer_response(envelope)
    assert first.headers["x-peerhost-worker"] == "0xabc"
    assert "x-peerhost-worker" not in second.headers
    assert second.headers["x-custom"] == "1" and second.body == b"hi"
    assert http_of(envelope)[1] == {"content-type": "text/plain", "x-custom": "1"}


def test_answer_response__function_sets_framing_and_gateway_headers__dropped() -> None:
    envelope = _ok(
        "hi",
        **{
            "content-length": "999",
            "transfer-encoding": "chunked",
            "x-peerhost-mode": "verified",
            "content-type": "text/plain",
        },
    )
    response, failed = answer_response(envelope, {"x-peerhost-mode": "fast"})
    assert failed is None
    assert response.headers.getlist("x-peerhost-mode") == ["fast"]
    assert response.headers["content-length"] == "2"
    assert "transfer-encoding" not in response.headers


def test_answer_response__function_failed__502_problem_and_the_failure_for_the_log() -> None:
    envelope = failure(ErrorKind.TRAP, "unreachable").encode()
    for _ in range(2):  # decoded, then remembered: the same answer
        response, failed = answer_response(envelope)
        assert response.status_code == 502
        assert failed == "trap: unreachable"
        assert b"function-failed" in response.body and b"unreachable" in response.body
