"""Functions as their authors write them: parsed bodies, plain return values, the three
handler shapes and the web APIs of the js runtime (checked against Python's own hashlib,
hmac and urllib where a reference exists)."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from typing import Any

from sandbox_helpers import REQUEST_ID

from peerhost.wire import Envelope, ErrorKind, canonical_request

Outcome = Callable[..., Envelope]


def request(
    body: bytes | str = b"",
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    path: str = "/",
    query: dict[str, Any] | None = None,
) -> bytes:
    return canonical_request(
        method,
        path,
        query or {},
        {"content-type": "application/json"} if headers is None else headers,
        body,
        request_id=REQUEST_ID,
        block_timestamp=1_767_225_600,
        wallet="0x00000000000000000000000000000000000000aa",
        project="shop",
        function="test",
    )


def http(outcome: Outcome, source: str, **req: Any) -> tuple[int, dict[str, str], bytes]:
    secrets = req.pop("env", {})
    env = outcome(source.encode(), "js", input=request(**req), env=secrets)
    assert env.ok, env.error_detail
    return env.to_http()


# --- the founding design's handlers, answered byte for byte --------------------------

FOUNDING_CREATE_USER = """
export async function handler(req) {
  const user = { id: "u_1", email: req.body.email, plan: "free" };
  return user;
}
"""

FOUNDING_WEBHOOK = """
export async function handler(req) {
  console.log("event", req.body.type);
  return { status: "ok" };
}
"""

FOUNDING_GREETING = """
export default async function (req) {
  return `Hello, ${req.body.name}!`;
}
"""


def test_founding_create_user__plain_object__json_body_of_200(outcome: Outcome) -> None:
    answer = http(outcome, FOUNDING_CREATE_USER, body=b'{"email":"ada@example.com"}')
    assert answer == (
        200,
        {"content-type": "application/json"},
        b'{"email":"ada@example.com","id":"u_1","plan":"free"}',
    )


def test_founding_webhook__status_ok_object__is_the_body(outcome: Outcome) -> None:
    answer = http(outcome, FOUNDING_WEBHOOK, body=b'{"type":"invoice.paid"}')
    assert answer == (200, {"content-type": "application/json"}, b'{"status":"ok"}')


def test_founding_greeting__string__text_body(outcome: Outcome) -> None:
    answer = http(outcome, FOUNDING_GREETING, body=b'{"name":"Ada"}')
    assert answer == (200, {"content-type": "text/plain; charset=utf-8"}, b"Hello, Ada!")


# --- request bodies --------------------------------------------------------------------

ECHO_REQ = "export function handler(req) { return {body: [req.body, req.rawBody]} }"


def test_body__json_content_type__parsed_and_raw_kept(outcome: Outcome) -> None:
    _, _, body = http(outcome, ECHO_REQ, body=b'{"b": 1,  "a": [2]}')
    assert json.loads(body) == [{"a": [2], "b": 1}, '{"b": 1,  "a": [2]}']


def test_body__vendor_json_type__parsed(outcome: Outcome) -> None:
    headers = {"content-type": "application/vnd.api+json; charset=utf-8"}
    _, _, body = http(outcome, ECHO_REQ, body=b'{"x":1}', headers=headers)
    assert json.loads(body) == [{"x": 1}, '{"x":1}']


def test_body__text_content_type__left_as_text(outcome: Outcome) -> None:
    _, _, body = http(outcome, ECHO_REQ, body=b'{"x":1}', headers={"content-type": "text/plain"})
    assert json.loads(body) == ['{"x":1}', '{"x":1}']


def test_body__invalid_json__400_without_calling_the_handler(outcome: Outcome) -> None:
    source = "export function handler(req) { throw new Error('must not run') }"
    status, _, body = http(outcome, source, body=b"{oops")
    assert status == 400
    assert json.loads(body)["error"] == "invalid_json"


# --- the response-shape rule ---------------------------------------------------------


def returned(outcome: Outcome, value: str) -> tuple[int, dict[str, str], bytes]:
    return http(outcome, f"export function handler() {{ return {value} }}")


def test_return__response_keys_only__is_the_response(outcome: Outcome) -> None:
    answer = returned(outcome, "{status: 201, headers: {'X-A': '1'}, body: {ok: true}}")
    assert answer == (201, {"x-a": "1", "content-type": "application/json"}, b'{"ok":true}')


def test_return__body_key_only__is_the_response(outcome: Outcome) -> None:
    assert returned(outcome, "{body: 'hi'}")[2] == b"hi"


def test_return__extra_key__whole_object_is_the_body(outcome: Outcome) -> None:
    assert returned(outcome, "{status: 404, message: 'gone'}") == (
        200,
        {"content-type": "application/json"},
        b'{"message":"gone","status":404}',
    )


def test_return__array_number_empty_object__json_bodies(outcome: Outcome) -> None:
    assert returned(outcome, "[1, 'a']")[2] == b'[1,"a"]'
    assert returned(outcome, "42")[2] == b"42"
    assert returned(outcome, "{}")[2] == b"{}"


def test_return__bytes__binary_body(outcome: Outcome) -> None:
    status, headers, body = returned(outcome, "new Uint8Array([0, 255, 1])")
    assert (status, headers["content-type"], body) == (200, "application/octet-stream", b"\0\xff\1")


def test_return__response_instance__is_the_response(outcome: Outcome) -> None:
    answer = returned(outcome, "new Response('made', {status: 418, headers: {'x-t': 'y'}})")
    assert answer == (418, {"content-type": "text/plain;charset=UTF-8", "x-t": "y"}, b"made")


# --- handler shapes ----------------------------------------------------------------------

SAME_EXAMPLE = {
    "handler": """
export async function handler(req) {
  return { status: 201, headers: { "x-who": req.body.who }, body: { hello: req.body.who, q: req.query.q } };
}""",
    "fetch": """
export default {
  async fetch(request, env, ctx) {
    const { who } = await request.json();
    const q = new URL(request.url).searchParams.get("q");
    return Response.json({ hello: who, q }, { status: 201, headers: { "x-who": who } });
  },
};""",
    "express": """
export default (req, res) => {
  res.status(201).set("x-who", req.body.who).json({ hello: req.body.who, q: req.query.q });
};""",
}


def test_shapes__same_example__same_answer(outcome: Outcome) -> None:
    answers = {
        shape: http(outcome, source, body=b'{"who":"ada"}', query={"q": "1"})
        for shape, source in SAME_EXAMPLE.items()
    }
    for shape, (status, headers, body) in answers.items():
        assert (status, headers["x-who"], json.loads(body)) == (
            201,
            "ada",
            {"hello": "ada", "q": "1"},
        ), shape


def test_fetch__env_holds_secrets_and_request_is_a_request(outcome: Outcome) -> None:
    source = """
export default { async fetch(request, env) {
  return new Response(JSON.stringify([request instanceof Request, request.method,
    request.headers.get("Content-Type"), new URL(request.url).pathname, env.API_KEY]));
} };"""
    _, _, body = http(outcome, source, body=b"{}", path="/orders/7", env={"API_KEY": "k1"})
    assert json.loads(body) == [True, "POST", "application/json", "/orders/7", "k1"]


def test_fetch__returns_non_response__js_error(outcome: Outcome) -> None:
    env = outcome(b"export default { fetch() { return {status: 200} } }", "js", input=request())
    assert env.error_kind is ErrorKind.JS_ERROR
    assert "fetch() must return a Response" in env.error_detail


def test_express__send_end_and_status_helpers(outcome: Outcome) -> None:
    sent = "export default (req, res) => res.set({'X-A': '1'}).send('<b>hi</b>')"
    assert http(outcome, sent) == (
        200,
        {"content-type": "text/html; charset=utf-8", "x-a": "1"},
        b"<b>hi</b>",
    )
    ended = "export default (req, res) => { res.statusCode = 204; res.end() }"
    assert http(outcome, ended)[0] == 204
    form = "export default (req, res) => res.json(req.body)"
    body = http(
        outcome,
        form,
        body=b"a=1&b=x+y",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )[2]
    assert json.loads(body) == {"a": "1", "b": "x y"}


def test_express__never_sends__js_error(outcome: Outcome) -> None:
    env = outcome(b"export default async (req, res) => { res.status(200) }", "js", input=request())
    assert env.error_kind is ErrorKind.JS_ERROR
    assert "without sending a response" in env.error_detail


# --- crypto ------------------------------------------------------------------------------

HEX = "const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');"


def test_digest__every_size_and_length__matches_hashlib(outcome: Outcome) -> None:
    # Lengths around the block and length-field boundaries of SHA-256 and SHA-512.
    lengths = [0, 1, 55, 56, 63, 64, 111, 112, 127, 128, 1000]
    source = f"""{HEX}
export async function handler() {{
  const out = {{}};
  for (const n of {lengths}) {{
    const data = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 255);
    for (const a of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) out[a + ":" + n] = hex(await crypto.subtle.digest(a, data));
  }}
  return out;
}}"""
    got = json.loads(http(outcome, source)[2])
    for n in lengths:
        data = bytes((i * 31 + 7) & 255 for i in range(n))
        for name, fn in (
            ("SHA-1", hashlib.sha1),
            ("SHA-256", hashlib.sha256),
            ("SHA-384", hashlib.sha384),
            ("SHA-512", hashlib.sha512),
        ):
            assert got[f"{name}:{n}"] == fn(data).hexdigest(), (name, n)


def test_hmac__sign_and_verify__match_python_hmac(outcome: Outcome) -> None:
    source = f"""{HEX}
export async function handler(req) {{
  const enc = new TextEncoder();
  const out = {{}};
  for (const [hash, keyLen] of [["SHA-256", 3], ["SHA-256", 100], ["SHA-384", 20], ["SHA-512", 200]]) {{
    const key = await crypto.subtle.importKey("raw", new Uint8Array(keyLen).fill(9), {{ name: "HMAC", hash }}, false, ["sign", "verify"]);
    const sig = await crypto.subtle.sign("HMAC", key, enc.encode(req.rawBody));
    out[hash + ":" + keyLen] = [hex(sig), await crypto.subtle.verify("HMAC", key, sig, enc.encode(req.rawBody)),
      await crypto.subtle.verify("HMAC", key, sig, enc.encode(req.rawBody + " "))];
  }}
  return out;
}}"""
    message = '{"id":"evt_1","amount":100}'
    got = json.loads(http(outcome, source, body=message)[2])
    for name, key_len in (("SHA-256", 3), ("SHA-256", 100), ("SHA-384", 20), ("SHA-512", 200)):
        digest = getattr(hashlib, name.replace("-", "").lower())
        expected = hmac.new(bytes([9] * key_len), message.encode(), digest).hexdigest()
        assert got[f"{name}:{key_len}"] == [expected, True, False]


def test_random__seeded_from_request_id__documented_stream(outcome: Outcome) -> None:
    source = "export function handler() { return [Array.from(crypto.getRandomValues(new Uint8Array(40))), crypto.randomUUID()] }"
    got = json.loads(http(outcome, source)[2])
    rid = "0x" + REQUEST_ID.hex()
    stream = b"".join(
        hashlib.sha256(f"peerhost/crypto-random/v1:{rid}:{i}".encode()).digest() for i in range(3)
    )
    assert bytes(got[0]) == stream[:40]
    raw = bytearray(stream[40:56])
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    assert got[1] == str(uuid.UUID(bytes=bytes(raw)))


def test_digest__unknown_algorithm__clear_error(outcome: Outcome) -> None:
    source = "export async function handler() { return await crypto.subtle.digest('MD5', new Uint8Array(1)) }"
    env = outcome(source.encode(), "js", input=request())
    assert env.error_kind is ErrorKind.JS_ERROR
    assert "Unsupported hash 'MD5'" in env.error_detail


def test_text_codecs__round_trip_and_base64(outcome: Outcome) -> None:
    source = """export function handler(req) {
  const bytes = new TextEncoder().encode(req.body.s);
  return { body: Array.from(bytes), headers: {"x-back": encodeURIComponent(new TextDecoder().decode(bytes))} };
}"""
    text = "zß水🍌"
    _, headers, body = http(outcome, source, body=json.dumps({"s": text}).encode())
    assert bytes(json.loads(body)) == text.encode()
    assert headers["x-back"] == "z%C3%9F%E6%B0%B4%F0%9F%8D%8C"


def test_binary_request__fetch_array_buffer__exact_bytes(outcome: Outcome) -> None:
    source = """export default { async fetch(request) {
  return new Response(new Uint8Array(await request.arrayBuffer()).reverse());
} };"""
    raw = bytes([0xFF, 0x00, 0x80, 0x41])
    status, _, body = http(outcome, source, body=raw, headers={})
    assert (status, body) == (200, raw[::-1])
