"""Properties of the pure parts: any output gets a verdict, envelopes round-trip."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from peerhost.wire import Envelope, OutputRejected, decode_envelope, parse_response

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _verdict(data: bytes) -> Any:
    try:
        return parse_response(data)
    except OutputRejected as rejected:
        return str(rejected)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_parse_response__any_bytes__response_or_fixed_rejection(data: bytes) -> None:
    assert _verdict(data) == _verdict(data)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(100, 599), st.dictionaries(st.sampled_from(["a", "X-B", "c-d"]), st.text()), JSON
)
def test_parse_response__valid_shape__normalized_envelope_round_trips(
    status: int, headers: dict[str, str], body: Any
) -> None:
    output = json.dumps({"status": status, "headers": headers, "body": body}).encode()
    verdict = _verdict(output)
    if isinstance(verdict, str):  # a header value with CR/LF/NUL, or a too-long integer
        return
    env = Envelope(
        ok=True, status=verdict.status, headers=verdict.headers, body=verdict.body, fuel_used=1
    )
    assert decode_envelope(env.encode()) == env
    assert decode_envelope(env.encode()).encode() == env.encode()


def test_parse_response__huge_integer__rejected_by_protocol_rule() -> None:
    output = b'{"status":200,"body":' + b"9" * 1001 + b"}"
    assert _verdict(output) == "output has an integer longer than 1000 digits"
