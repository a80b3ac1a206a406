"""The canonical request: what the gateway builds and a function reads on stdin."""

from __future__ import annotations

import json

import pytest

from peerhost.wire import bind_metadata, canonical_request

RID = "0x" + "11" * 32


def _request(**overrides: object) -> bytes:
    args: dict[str, object] = {
        "method": "post",
        "path": "/orders",
        "query": {"b": "2", "a": ["1", "3"]},
        "headers": {"Content-Type": "application/json", "Cookie": "s=1", "X-Fn-Trace": "t"},
        "body": b'{"x":1}',
        "request_id": RID,
        "block_timestamp": 1_700_000_000,
        "wallet": "0xABCDEF",
        "project": "shop",
        "function": "orders-create",
    }
    args.update(overrides)
    return canonical_request(**args)  # type: ignore[arg-type]


def test_canonical_request__layout__sorted_compact_and_allow_listed() -> None:
    data = _request()
    doc = json.loads(data)
    assert data == json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    assert doc["method"] == "POST"
    assert doc["headers"] == {"content-type": "application/json", "x-fn-trace": "t"}
    assert doc["query"] == {"a": ["1", "3"], "b": "2"}
    assert (doc["body"], doc["body_encoding"]) == ('{"x":1}', "utf8")
    assert doc["metadata"] == {
        "request_id": RID,
        "block_timestamp": 1_700_000_000,
        "function": {"wallet": "0xabcdef", "project": "shop", "name": "orders-create"},
    }


def test_canonical_request__binary_body__base64() -> None:
    doc = json.loads(_request(body=b"\xff\x00"))
    assert (doc["body"], doc["body_encoding"]) == ("/wA=", "base64")


def test_canonical_request__header_order__does_not_matter() -> None:
    a = _request(headers={"Accept": "x", "Content-Type": "y"})
    b = _request(headers={"content-type": "y", "accept": "x"})
    assert a == b


def test_canonical_request__bytes_request_id__same_as_hex() -> None:
    assert _request(request_id=bytes.fromhex("11" * 32)) == _request()


def test_canonical_request__short_request_id__rejected() -> None:
    with pytest.raises(ValueError):
        _request(request_id=b"\x01")


def test_bind_metadata__canonical_request__takes_event_values() -> None:
    predicted = canonical_request(
        "GET",
        "/",
        {},
        {},
        b"",
        request_id=b"\x01" * 32,
        block_timestamp=0,
        wallet="0x" + "ab" * 20,
        project="shop",
        function="hello",
    )
    bound = bind_metadata(predicted, request_id=b"\x02" * 32, block_timestamp=1_767_225_600)
    doc = json.loads(bound)
    assert doc["metadata"]["request_id"] == "0x" + "02" * 32
    assert doc["metadata"]["block_timestamp"] == 1_767_225_600
    assert bound == canonical_request(
        "GET",
        "/",
        {},
        {},
        b"",
        request_id=b"\x02" * 32,
        block_timestamp=1_767_225_600,
        wallet="0x" + "ab" * 20,
        project="shop",
        function="hello",
    )


@pytest.mark.parametrize(
    "data", [b"", b"hello", b"[1,2]", b'{"metadata": 3}', b"{not json", b'{"metadata":{"x":NaN}}']
)
def test_bind_metadata__not_a_canonical_request__unchanged(data: bytes) -> None:
    assert bind_metadata(data, request_id=b"\x02" * 32, block_timestamp=5) == data
