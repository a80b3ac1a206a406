"""The wire formats' JSON against the code it replaced, kept here as the reference.

``parse_response``, ``bind_metadata`` and ``Envelope.encode`` (so ``decode_envelope`` too) were
made faster; their bytes are hashed and signed by workers and compared across processes, so a
worker on the former code and one on the current code must reach the same verdict and produce
the same bytes for every input.
The former functions below are copied verbatim (only renamed); each test feeds both the same
random and hostile inputs and compares the outcome: the value (by ``repr``, so ``1``, ``1.0``
and ``True`` differ) or the exception's type and message.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from peerhost.wire.envelope import ENVELOPE_VERSION, Envelope, ErrorKind, decode_envelope
from peerhost.wire.errors import InvalidEnvelope
from peerhost.wire.request import bind_metadata, canonical_request
from peerhost.wire.response import OutputRejected, Response, parse_response

# --- the former code -------------------------------------------------------------------------

OLD_MAX_JSON_DEPTH = 64
OLD_MAX_INT_DIGITS = 1000
_OLD_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9a-z]+$")
_OLD_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OLD_BRACKET = re.compile(r"[\[\]{}]")


def old_json_depth_ok(text: str) -> bool:
    depth = 0
    for match in _OLD_BRACKET.finditer(_OLD_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > OLD_MAX_JSON_DEPTH:
                return False
        else:
            depth -= 1
    return True


def _old_reject_constant(name: str) -> Any:
    raise OutputRejected(f"output uses {name}, which JSON does not allow")


def _old_parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > OLD_MAX_INT_DIGITS:
        raise OutputRejected(f"output has an integer longer than {OLD_MAX_INT_DIGITS} digits")
    return int(digits)


def old_parse_json(data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise OutputRejected("output is not UTF-8") from None
    if not old_json_depth_ok(text):
        raise OutputRejected(f"output nests deeper than {OLD_MAX_JSON_DEPTH}")
    try:
        return json.loads(text, parse_constant=_old_reject_constant, parse_int=_old_parse_int)
    except OutputRejected:
        raise
    except ValueError:
        raise OutputRejected("output is not valid JSON") from None


def old_parse_response(data: bytes) -> Response:
    doc = old_parse_json(data)
    if not isinstance(doc, dict):
        raise OutputRejected("output is not a JSON object")
    status = doc.get("status", 200)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise OutputRejected("status must be an integer from 100 to 599")
    raw_headers = doc.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise OutputRejected("headers must be an object")
    headers: dict[str, str] = {}
    for name, value in raw_headers.items():
        lowered = name.lower()
        if not _OLD_HEADER_NAME.match(lowered):
            raise OutputRejected("a header name is not a valid HTTP token")
        if not isinstance(value, str) or "\r" in value or "\n" in value or "\0" in value:
            raise OutputRejected("header values must be strings without CR, LF or NUL")
        if lowered in headers:
            raise OutputRejected("a header is given twice")
        headers[lowered] = value
    body = doc.get("body")
    encoding = doc.get("body_encoding")
    if encoding is not None:
        if encoding != "base64":
            raise OutputRejected('body_encoding must be "base64" when present')
        if not isinstance(body, str):
            raise OutputRejected("a base64 body must be a string")
        try:
            base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise OutputRejected("body is not valid base64") from None
    try:
        json.dumps(body, allow_nan=False)
    except ValueError:
        raise OutputRejected("body holds a number JSON cannot carry") from None
    return Response(status=status, headers=headers, body=body, body_encoding=encoding)


# --- inputs ----------------------------------------------------------------------------------

#: Characters that matter to a JSON scanner, a depth count or a header check.
TRICKY = '[]{}"\\,:-+.0123456789eEaNIfinty \t\r\n\x00\u00e9\u2028\ufeff/'
TEXT = st.text(alphabet=st.sampled_from(TRICKY), max_size=12) | st.text(max_size=12)
SCALAR = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([float("inf"), -float("inf"), 1.5])
    | st.floats()  # NaN and ±Infinity too: json.dumps writes them as bare words
    | TEXT
    | st.integers(990, 1010).map(lambda n: int("9" * n))  # about the protocol's digit limit
)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=24,
)
HEADER_NAMES = st.sampled_from(["content-type", "Content-Type", "x-a", "X-A", "a b", "", "é"])
RESPONSE = st.fixed_dictionaries(
    {},
    optional={
        "status": st.just(200)
        | st.sampled_from([99, 100, 599, 600, True, 200.0, "200", None])
        | JSON,
        "headers": st.dictionaries(HEADER_NAMES, TEXT | JSON, max_size=3) | JSON,
        "body": JSON,
        "body_encoding": st.sampled_from(["base64", "utf8", None]) | JSON,
        "other": JSON,
    },
)


def _base64_body(doc: dict[str, Any], raw: bytes, mangle: bool) -> dict[str, Any]:
    text = base64.b64encode(raw).decode()
    return {**doc, "body": text[:-1] if mangle and text else text, "body_encoding": "base64"}


def _nest(depth: int, core: str, kinds: list[bool], decoys: list[str]) -> str:
    """``core`` inside ``depth`` arrays/objects, with bracket-laden strings beside some levels."""
    opening, closing = [], []
    for level in range(depth):
        decoy = json.dumps(decoys[level % len(decoys)]) if decoys else ""
        if kinds[level % len(kinds)]:
            opening.append("[" + (decoy + "," if decoy else ""))
            closing.append("]")
        else:
            opening.append("{" + (f'"d":{decoy},' if decoy else "") + '"k":')
            closing.append("}")
    return "".join(opening) + core + "".join(reversed(closing))


def _mutate(text: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    for where, cut, insert in edits:
        at = where % (len(text) + 1)
        text = text[:at] + insert + text[at + cut :]
    return text


EDITS = st.lists(
    st.tuples(
        st.integers(0, 10_000),
        st.integers(0, 2),
        st.sampled_from(
            [b"", b"[", b"]", b"{", b"}", b'"', b"\\", b",", b":", b"\xff", b"\xed\xa0\x80"]
        ),
    ),
    max_size=3,
)


@st.composite
def output_bytes(draw: st.DrawFn) -> bytes:
    """A function's stdout: response-shaped or not, nested about the depth limit, mutated."""
    kind = draw(st.sampled_from(["response", "json", "nested", "base64", "raw"]))
    if kind == "raw":
        return draw(st.binary(max_size=300))
    if kind == "nested":
        core = json.dumps(draw(JSON))
        depth = draw(st.integers(0, 3) | st.integers(60, 70))
        kinds = draw(st.lists(st.booleans(), min_size=1, max_size=4))
        decoys = draw(st.lists(st.sampled_from(["[", "{{", "]", '"[', "\\[", "a"]), max_size=3))
        text = _nest(depth, core, kinds, decoys)
        if draw(st.booleans()):
            text = '{"status":200,"body":' + text + "}"
    elif kind == "base64":
        doc = _base64_body(draw(RESPONSE), draw(st.binary(max_size=20)), draw(st.booleans()))
        text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    else:
        doc = draw(RESPONSE if kind == "response" else JSON)
        text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):  # numbers that overflow to infinity where json.dumps wrote words
        text = text.replace("-Infinity", "-1e400").replace("Infinity", "1E999")
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b" ", b"\n"])) + data
    return _mutate(data, draw(EDITS)) if draw(st.integers(0, 2)) == 0 else data


def outcome(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, str]:
    """What a call gave: ``("value", repr)`` or ``(exception type, message)``."""
    try:
        return "value", repr(fn(*args, **kwargs))
    except Exception as exc:  # the type and message are the verdict compared
        return type(exc).__name__, str(exc)


# --- parse_response --------------------------------------------------------------------------


@settings(max_examples=1500, deadline=None)
@given(output_bytes())
@example(b'{"status":200,"body":"' + b"[" * 70 + b'"}')  # brackets in a string only
@example(b"[" * 64 + b"]" * 64)  # at the limit
@example(b"[" * 65 + b"]" * 65)  # one past it
@example(b'{"body":' + b"[" * 64 + b"1" + b"]" * 64 + b"}")  # 65 levels, 65 openings
@example(b'"' + b"[" * 70)  # an unterminated string: the scan counts its brackets
@example(b'{"status":200,"body":' + b"9" * 1001 + b"}")
@example(b'{"status":200,"body":[' + b"[" * 64 + b"9" * 1001 + b"]}")  # deep and long
@example(b'{"status":200,"body":1e999}')
@example(b'{"status":200,"body":[NaN]}')
@example(b'{"body":[1,-1e400]}')
@example(b'{"body":{"a":[1E999]}}')
@example(b'\xef\xbb\xbf{"status":200}')
@example('\ufeff{"status":200}'.encode())
@example(b'{"status":200,"body":"\\ud800"}')
@example(b'{"status":200,"body":"\xed\xa0\x80"}')
@example(b'{"headers":{"A":"x","a":"y"}}')
@example(b'{"body":"AAA=","body_encoding":"base64"}')
@example(b'{"body":"AAA","body_encoding":"base64"}')
def test_parse_response__any_output__same_verdict_as_former_code(data: bytes) -> None:
    assert outcome(parse_response, data) == outcome(old_parse_response, data)


# --- bind_metadata ---------------------------------------------------------------------------


def old_canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def old_bind_metadata(data: bytes, *, request_id: bytes, block_timestamp: int) -> bytes:
    if not data.startswith(b"{") or b'"metadata"' not in data:
        return data
    try:
        doc = json.loads(data)
    except ValueError:
        return data
    metadata = doc.get("metadata") if isinstance(doc, dict) else None
    if not isinstance(metadata, dict):
        return data
    metadata["request_id"] = "0x" + request_id.hex()
    metadata["block_timestamp"] = int(block_timestamp)
    try:
        return old_canonical_json(doc)
    except ValueError:  # NaN or Infinity somewhere: not a canonical request, leave it alone
        return data


#: A string whose UTF-16-LE bytes spell ``"metadata"``: a document holding it starts ``{\x00``,
#: which json.loads reads as UTF-16, and still passes the byte check for ``"metadata"`` (no
#: UTF-32 text can: every fourth byte is zero).
UTF16_METADATA = b'"metadata"'.decode("utf-16-le")
WORDS = st.sampled_from(["GET", "post", "/", "/a b", "", "é", "\u2028", "x-fn-a", "Accept"])


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    """Canonical requests, documents with a ``metadata`` key in any form, and broken ones."""
    kind = draw(st.sampled_from(["canonical", "document", "utf16", "raw"]))
    if kind == "canonical":
        data = canonical_request(
            draw(WORDS),
            draw(WORDS),
            draw(st.dictionaries(TEXT, TEXT | st.lists(TEXT, max_size=2), max_size=2)),
            draw(st.dictionaries(WORDS, TEXT, max_size=3)),
            draw(st.binary(max_size=30) | TEXT),
            request_id=draw(st.binary(min_size=32, max_size=32)),
            block_timestamp=draw(st.integers(0, 2**64)),
            wallet="0x" + draw(st.sampled_from(["aa", "Ab"])) * 20,
            project=draw(TEXT),
            function=draw(TEXT),
        )
    elif kind == "raw":
        return b"{" + draw(st.binary(max_size=40)) + b'"metadata"' + draw(st.binary(max_size=40))
    else:
        doc = draw(st.dictionaries(TEXT, JSON, max_size=3))
        doc["metadata"] = draw(st.dictionaries(TEXT, JSON, max_size=3) | JSON)
        text = json.dumps(
            doc,
            ensure_ascii=draw(st.booleans()),
            sort_keys=draw(st.booleans()),
            indent=draw(st.sampled_from([None, 0, 2])),
        )
        if kind == "utf16":
            doc["tag"] = UTF16_METADATA
            codec = draw(st.sampled_from(["utf-16-le", "utf-32-le"]))
            return json.dumps(doc, ensure_ascii=False).encode(codec, "surrogatepass")
        data = text.encode("utf-8", "surrogatepass")
    return _mutate(data, draw(EDITS)) if draw(st.integers(0, 2)) == 0 else data


TIMESTAMPS = (
    st.integers(0, 2**64)
    | st.integers()
    | st.booleans()
    | st.floats()
    | st.just(10**4400)  # longer than Python prints: canonical_json raises ValueError
)


@settings(max_examples=1500, deadline=None)
@given(requests(), st.binary(min_size=32, max_size=32), TIMESTAMPS)
@example(b'{"metadata":{}}', b"\x01" * 32, 7)
@example(b'{"metadata":{},"metadata":{"a":1}}', b"\x01" * 32, 7)  # the last key wins
@example(b' {"metadata":{}}', b"\x01" * 32, 7)
@example(b'{"metadata":{}} x', b"\x01" * 32, 7)
@example(b'{"metadata":{"a":NaN}}', b"\x01" * 32, 7)
@example(b'{"metadata":{"a":1e999}}', b"\x01" * 32, 7)
@example(b'{"metadata":{"a":"\\ud800"}}', b"\x01" * 32, 7)
@example(b'{"metadata":{"a":"\xed\xa0\x80"}}', b"\x01" * 32, 7)  # a surrogate, UTF-8 encoded
@example(b'{"metadata":{"a":"\xff"}}', b"\x01" * 32, 7)
@example(b'{"metadata":[]}', b"\x01" * 32, 7)
@example(b'{"metadata":{}}', b"\x01" * 32, float("inf"))
@example(b'{"metadata":{}}', b"\x01" * 32, float("nan"))
@example(b'{"metadata":' + b"[" * 300 + b"]" * 300 + b"}", b"\x01" * 32, 7)
@example(b'{"metadata":{},"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}", b"\x01" * 32, 7)
@example(
    json.dumps({"metadata": {"a": 1}, "tag": UTF16_METADATA}, ensure_ascii=False).encode(
        "utf-16-le"
    ),
    b"\x01" * 32,
    7,
)
@example(
    json.dumps({"metadata": {"a": 1}, "tag": UTF16_METADATA}, ensure_ascii=False).encode(
        "utf-32-le"
    ),
    b"\x01" * 32,
    7,
)
def test_bind_metadata__any_input__same_bytes_as_former_code(
    data: bytes, request_id: bytes, block_timestamp: Any
) -> None:
    new = outcome(bind_metadata, data, request_id=request_id, block_timestamp=block_timestamp)
    old = outcome(old_bind_metadata, data, request_id=request_id, block_timestamp=block_timestamp)
    assert new == old


# --- Envelope.encode -------------------------------------------------------------------------


def old_encode(self: Envelope) -> bytes:
    doc: dict[str, Any] = {"v": ENVELOPE_VERSION, "ok": self.ok, "fuel_used": self.fuel_used}
    if self.ok:
        response: dict[str, Any] = {
            "status": self.status,
            "headers": self.headers,
            "body": self.body,
        }
        if self.body_encoding is not None:
            response["body_encoding"] = self.body_encoding
        doc["response"] = response
    else:
        doc["error"] = {"kind": str(self.error_kind), "detail": self.error_detail}
    return old_canonical_json(doc)


class Str(str):
    """A str subclass: written as its text, like a str."""


#: Field values of every kind: the usual types, and others a caller could pass.
ODD = st.sampled_from([None, True, False, 0, -1, 1.5, float("nan"), "x", Str("s"), b"x", [1]])
HUGE = st.just(10**4400)  # longer than Python prints: the encoding raises ValueError
SURROGATE_TEXT = st.text(alphabet=st.sampled_from('a"\\\x00\x1f\u00e9\u2028\ud800\udfff'))
HEADER_MAPS = st.dictionaries(
    TEXT | SURROGATE_TEXT | st.sampled_from([Str("k"), 1, None, 2.5]),
    TEXT | SURROGATE_TEXT | ODD,
    max_size=4,
)


@st.composite
def envelopes(draw: st.DrawFn) -> Envelope:
    usual = draw(st.booleans())
    return Envelope(
        ok=draw(st.booleans() if usual else st.sampled_from([True, False, 1, 0, None, "x"])),
        status=draw(st.integers(100, 599) if usual else st.integers() | HUGE | ODD),
        headers=draw(st.dictionaries(TEXT, TEXT, max_size=4) if usual else HEADER_MAPS | ODD),
        body=draw(TEXT | st.none() | JSON if usual else SURROGATE_TEXT | JSON | ODD),
        body_encoding=draw(st.sampled_from([None, "base64"]) if usual else TEXT | ODD),
        error_kind=draw(st.sampled_from(list(ErrorKind)) | st.none() | TEXT | ODD),
        error_detail=draw(TEXT if usual else SURROGATE_TEXT | ODD),
        fuel_used=draw(st.integers(0, 2**64) | st.none() if usual else st.integers() | HUGE | ODD),
    )


def _circular() -> list[Any]:
    loop: list[Any] = [1]
    loop.append(loop)
    return loop


@settings(max_examples=2000, deadline=None)
@given(envelopes())
@example(Envelope(ok=True, status=200, body=_circular(), fuel_used=1))
@example(Envelope(ok=True, status=200, headers={"a": _circular()}, fuel_used=1))  # type: ignore[dict-item]
@example(Envelope(ok=True, status=200, headers={"b": "1", "a": "2", "B": "3"}, fuel_used=1))
@example(Envelope(ok=True, status=200, body="\ud800", fuel_used=10**4400))
@example(Envelope(ok=True, status=200, body={"b": 1, "a": [1.5, None]}, body_encoding="x"))
@example(Envelope(ok=False, error_kind=ErrorKind.TRAP, error_detail="\ud800", fuel_used=None))
@example(Envelope(ok=False, error_kind=None, error_detail="", fuel_used=True))  # type: ignore[arg-type]
def test_envelope_encode__any_fields__same_bytes_as_former_code(env: Envelope) -> None:
    assert outcome(env.encode) == outcome(old_encode, env)


def old_decode_envelope(data: bytes) -> Envelope:
    try:
        doc = old_parse_json(data)
    except OutputRejected as exc:
        raise InvalidEnvelope(str(exc)) from None
    if not isinstance(doc, dict) or doc.get("v") != ENVELOPE_VERSION:
        raise InvalidEnvelope("missing or unknown version")
    fuel = doc.get("fuel_used")
    if fuel is not None and (not isinstance(fuel, int) or isinstance(fuel, bool) or fuel < 0):
        raise InvalidEnvelope("fuel_used is not a non-negative integer")
    if doc.get("ok") is True:
        raw = doc.get("response")
        if not isinstance(raw, dict):
            raise InvalidEnvelope("success without a response")
        try:
            response = old_parse_response(old_canonical_json(raw))
        except (OutputRejected, ValueError) as exc:
            raise InvalidEnvelope(f"bad response: {exc}") from None
        envelope = Envelope(
            ok=True,
            status=response.status,
            headers=response.headers,
            body=response.body,
            body_encoding=response.body_encoding,
            fuel_used=fuel,
        )
    else:
        error = doc.get("error")
        if doc.get("ok") is not False or not isinstance(error, dict):
            raise InvalidEnvelope("failure without an error")
        try:
            kind = ErrorKind(str(error.get("kind")))
        except ValueError as exc:
            raise InvalidEnvelope(f"unknown error kind {error.get('kind')!r}") from exc
        detail = error.get("detail", "")
        if not isinstance(detail, str):
            raise InvalidEnvelope("error detail is not a string")
        envelope = Envelope(ok=False, error_kind=kind, error_detail=detail, fuel_used=fuel)
    if old_encode(envelope) != bytes(data):
        raise InvalidEnvelope("not in canonical form")
    return envelope


TOKENS = st.text(alphabet=st.sampled_from("abz-09!~"), min_size=1, max_size=6)
SAFE_TEXT = TEXT.filter(lambda text: not {"\r", "\n", "\0"} & set(text))
WELL_FORMED = st.builds(
    Envelope,
    ok=st.just(True),
    status=st.integers(100, 599),
    headers=st.dictionaries(TOKENS, SAFE_TEXT, max_size=3),
    body=TEXT | st.none() | JSON,
    fuel_used=st.integers(0, 2**64) | st.none(),
) | st.builds(
    Envelope,
    ok=st.just(False),
    error_kind=st.sampled_from(list(ErrorKind)),
    error_detail=TEXT,
    fuel_used=st.integers(0, 2**64) | st.none(),
)


@st.composite
def envelope_bytes(draw: st.DrawFn) -> bytes:
    """Envelopes as another worker may send them: canonical, re-encoded, mangled, or not one."""
    kind = draw(st.sampled_from(["canonical", "document", "output"]))
    if kind == "output":
        return draw(output_bytes())
    try:
        data = old_encode(draw(WELL_FORMED | envelopes()))
    except (ValueError, TypeError):  # not encodable: no bytes to send
        return b"{}"
    if kind == "document":
        doc = json.loads(data)
        data = json.dumps(
            doc, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 1]))
        ).encode()
    return _mutate(data, draw(EDITS)) if draw(st.integers(0, 2)) == 0 else data


@settings(max_examples=1500, deadline=None)
@given(envelope_bytes())
@example(b'{"fuel_used":1,"ok":true,"response":{"body":"a","headers":{},"status":200},"v":1}')
@example(b'{"fuel_used":1,"ok":true,"response":{"body":"a","headers":{},"status":200},"v":1} ')
@example(b'{"error":{"detail":"d","kind":"trap"},"fuel_used":null,"ok":false,"v":1}')
def test_decode_envelope__any_bytes__same_verdict_as_former_code(data: bytes) -> None:
    assert outcome(decode_envelope, data) == outcome(old_decode_envelope, data)
