"""The envelope: canonical bytes, decoding, and the HTTP mapping."""

from __future__ import annotations

import json

import pytest

from peerhost.wire import Envelope, ErrorKind, InvalidEnvelope, decode_envelope, failure


def test_encode__success__sorted_compact_json() -> None:
    env = Envelope(
        ok=True, status=201, headers={"x-b": "1"}, body={"z": 1, "a": [1.5]}, fuel_used=7
    )
    assert env.encode() == (
        b'{"fuel_used":7,"ok":true,"response":{"body":{"a":[1.5],"z":1},'
        b'"headers":{"x-b":"1"},"status":201},"v":1}'
    )


def test_encode__failure__kind_and_detail_only() -> None:
    assert failure(ErrorKind.TRAP, "unreachable", 12).encode() == (
        b'{"error":{"detail":"unreachable","kind":"trap"},"fuel_used":12,"ok":false,"v":1}'
    )


def test_failure__long_detail__truncated() -> None:
    assert len(failure(ErrorKind.JS_ERROR, "x" * 5000).error_detail) == 1024


@pytest.mark.parametrize(
    "env",
    [
        Envelope(ok=True, status=200, headers={"a": "b"}, body="text", fuel_used=1),
        Envelope(ok=True, status=200, body="AAE=", body_encoding="base64", fuel_used=1),
        failure(ErrorKind.STACK_OVERFLOW, fuel_used=None),
    ],
)
def test_decode__encoded__round_trips(env: Envelope) -> None:
    assert decode_envelope(env.encode()) == env


@pytest.mark.parametrize(
    "data",
    [b"nope", b"{}", b'{"v":1,"ok":true}', b'{"v":1,"ok":false,"error":{"kind":"zzz"}}'],
)
def test_decode__not_an_envelope__raises(data: bytes) -> None:
    with pytest.raises(InvalidEnvelope):
        decode_envelope(data)


def test_to_http__json_body__application_json() -> None:
    env = Envelope(ok=True, status=201, body={"b": 2, "a": 1})
    assert env.to_http() == (201, {"content-type": "application/json"}, b'{"a":1,"b":2}')


def test_to_http__text_body__keeps_function_content_type() -> None:
    env = Envelope(ok=True, status=200, headers={"content-type": "text/html"}, body="<p>")
    assert env.to_http() == (200, {"content-type": "text/html"}, b"<p>")


def test_to_http__failure__502_with_explanation() -> None:
    status, headers, body = failure(ErrorKind.OUT_OF_FUEL).to_http()
    assert (status, headers["content-type"]) == (502, "application/json")
    assert json.loads(body) == {"error": "out_of_fuel", "detail": ""}


def test_to_http__timeout__504() -> None:
    assert failure(ErrorKind.TIMEOUT, fuel_used=None).to_http()[0] == 504


@pytest.mark.parametrize(
    "data",
    [
        b'{"fuel_used":1, "ok":false,"error":{"detail":"","kind":"trap"},"v":1}',  # whitespace
        b'{"error":{"detail":"","kind":"trap"},"fuel_used":1,"ok":false,"v":1,"x":0}',
        b'{"fuel_used":1,"ok":true,"response":{"body":"!","body_encoding":"base64",'
        b'"headers":{},"status":200},"v":1}',
        b'{"fuel_used":1,"ok":true,"response":{"body":null,"headers":{"a":"b\\r\\nc"},'
        b'"status":200},"v":1}',
        b'{"fuel_used":true,"ok":true,"response":{"body":null,"headers":{},"status":200},"v":1}',
        b'{"fuel_used":1,"ok":true,"response":{"body":' + b"[" * 100 + b"]" * 100 + b"}",
        b"[" * 100000 + b"]" * 100000,
    ],
)
def test_decode__hostile_or_non_canonical__raises_invalid_envelope(data: bytes) -> None:
    with pytest.raises(InvalidEnvelope):
        decode_envelope(data)
