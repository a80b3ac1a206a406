"""The js runtime: user ES modules on the shared QuickJS engine."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from sandbox_helpers import REPO, RunFn, sample_input

from peerhost.sandbox import Limits, Sandbox
from peerhost.sandbox.errors import JsEngineMismatch, JsEngineNotFound
from peerhost.sandbox.js_engine import ENGINE_SHA256
from peerhost.wire import Envelope, ErrorKind

Outcome = Callable[..., Envelope]


def js(source: str) -> bytes:
    return source.encode()


def test_run__async_handler__returns_its_response(outcome: Outcome) -> None:
    env = outcome(
        js("export async function handler(req) { return {status: 201, body: {m: req.method}} }"),
        "js",
    )
    assert (env.ok, env.status, env.body) == (True, 201, {"m": "POST"})


def test_run__sync_default_export__accepted(outcome: Outcome) -> None:
    env = outcome(js("export default function (req) { return {status: 200, body: 'x'} }"), "js")
    assert env.ok and env.body == "x"


def test_run__handler_throws__js_error_with_message(outcome: Outcome) -> None:
    env = outcome(js("export async function handler() { throw new TypeError('bad order') }"), "js")
    assert (env.error_kind, env.error_detail) == (
        ErrorKind.JS_ERROR,
        "TypeError: bad order\n    at handler (function.js:1:45)",
    )


def test_run__handler_rejects_non_error__js_error_with_value(outcome: Outcome) -> None:
    env = outcome(js("export async function handler() { throw 'plain' }"), "js")
    assert (env.error_kind, env.error_detail) == (ErrorKind.JS_ERROR, "plain")


def test_run__syntax_error__js_error(outcome: Outcome) -> None:
    env = outcome(js("export async function handler( {"), "js")
    assert env.error_kind is ErrorKind.JS_ERROR
    assert env.error_detail.startswith("SyntaxError")


def test_run__no_handler_export__js_error(outcome: Outcome) -> None:
    env = outcome(js("export const x = 1"), "js")
    assert env.error_kind is ErrorKind.JS_ERROR
    assert env.error_detail.startswith("the module matches no handler shape; export one of:")
    for shape in ("handler(req)", "fetch(request, env, ctx)", "(req, res) =>"):
        assert shape in env.error_detail


def test_run__import_statement__js_error(outcome: Outcome) -> None:
    env = outcome(
        js("import fs from 'fs'; export function handler() { return {status: 200} }"), "js"
    )
    assert env.error_kind is ErrorKind.JS_ERROR


def test_run__handler_returns_undefined__js_error(outcome: Outcome) -> None:
    env = outcome(js("export function handler() {}"), "js")
    assert env.error_kind is ErrorKind.JS_ERROR
    assert env.error_detail.startswith("TypeError: the handler returned undefined: return a value")


def test_run__handler_returns_bigint__js_error(outcome: Outcome) -> None:
    env = outcome(js("export function handler() { return {status: 200, body: 1n} }"), "js")
    assert env.error_kind is ErrorKind.JS_ERROR


def test_run__infinite_loop__traps_out_of_fuel(outcome: Outcome) -> None:
    env = outcome(
        js("export function handler() { for (;;) {} }"), "js", limits=Limits(fuel=50_000_000)
    )
    assert env.error_kind is ErrorKind.OUT_OF_FUEL


def test_run__unbounded_allocation__memory_limit(outcome: Outcome) -> None:
    source = (
        "export function handler() { const a = []; for (;;) a.push('x'.repeat(4096) + a.length) }"
    )
    env = outcome(js(source), "js", limits=Limits(fuel=10**10, memory_bytes=16 * 1024 * 1024))
    assert env.error_kind is ErrorKind.MEMORY_LIMIT


def test_run__deep_recursion__deterministic_range_error(outcome: Outcome) -> None:
    source = "function f(n) { return f(n + 1) + 1 } export function handler() { return f(0) }"
    env = outcome(js(source), "js")
    assert (env.error_kind, env.error_detail) == (
        ErrorKind.JS_ERROR,
        "RangeError: Maximum call stack size exceeded",
    )
    assert env.fuel_used is not None


def test_run__console_log__goes_to_logs_not_envelope(run: RunFn) -> None:
    result = run(
        js("export function handler() { console.log('hi', 1); return {status: 200} }"), "js"
    )
    assert result.logs == b"hi 1\n"
    assert b"hi" not in result.envelope


def test_run__date_and_random__fixed_by_request(run: RunFn) -> None:
    source = js(
        "export function handler() { return {status: 200, body: [Date.now(), Math.random()]} }"
    )
    first = run(source, "js", request_id=b"\x01" * 32, block_timestamp=1_700_000_000)
    again = run(source, "js", request_id=b"\x01" * 32, block_timestamp=1_700_000_000)
    other = run(source, "js", request_id=b"\x02" * 32, block_timestamp=1_700_000_000)
    assert first.envelope == again.envelope
    assert first.decoded.body[0] == 1_700_000_000_000
    assert other.decoded.body[1] != first.decoded.body[1]


def test_run__secrets__visible_as_process_env(outcome: Outcome) -> None:
    source = js("export function handler() { return {status: 200, body: process.env} }")
    assert outcome(source, "js", env={"API_KEY": "s3cret", "B": "x=y"}).body == {
        "API_KEY": "s3cret",
        "B": "x=y",
    }


def test_run__secrets_of_an_earlier_run__not_visible(outcome: Outcome) -> None:
    """Every run starts from the engine's snapshot: nothing of another run's secrets."""
    source = js("export function handler() { return {status: 200, body: process.env} }")
    assert outcome(source, "js", env={"API_KEY": "first"}).body == {"API_KEY": "first"}
    assert outcome(source, "js", env={"OTHER": "second"}).body == {"OTHER": "second"}
    assert outcome(source, "js").body == {}


def test_run__globals_mutated__next_run_starts_clean(outcome: Outcome) -> None:
    source = js(
        "export function handler() {"
        " globalThis.count = (globalThis.count || 0) + 1;"
        " const seen = typeof Response;"
        " globalThis.Response = undefined; Math.random = () => 4;"
        " return {status: 200, body: [count, seen]} }"
    )
    assert outcome(source, "js").body == [1, "function"]
    assert outcome(source, "js").body == [1, "function"]


def test_run__binary_body__arrives_base64(outcome: Outcome) -> None:
    source = js(
        "export function handler(req) { return {status: 200, body: req.body,"
        " body_encoding: req.body_encoding} }"
    )
    env = outcome(source, "js", input=sample_input(b"\xff\x00"))
    assert (env.body, env.body_encoding) == ("/wA=", "base64")
    assert env.to_http()[2] == b"\xff\x00"


def test_sandbox__js_engine_missing__raises(tmp_path_factory: pytest.TempPathFactory) -> None:
    sandbox = Sandbox(cache_dir=tmp_path_factory.mktemp("c"), js_engine=Path("/nonexistent.wasm"))
    with pytest.raises(JsEngineNotFound):
        sandbox.warm("js")


def test_sandbox__js_engine_tampered__raises(tmp_path_factory: pytest.TempPathFactory) -> None:
    fake = tmp_path_factory.mktemp("e") / "engine.wasm"
    fake.write_bytes(b"\x00asm\x01\x00\x00\x00")
    sandbox = Sandbox(cache_dir=tmp_path_factory.mktemp("c"), js_engine=fake)
    with pytest.raises(JsEngineMismatch):
        sandbox.warm("js")


def test_js_engine__pinned_sha__matches_build_pin_and_committed_file() -> None:
    dist = REPO / "tools" / "quickjs" / "dist"
    build_pin = (dist / "quickjs-peerhost.wasm.sha256").read_text().split()[0]
    committed = hashlib.sha256((dist / "quickjs-peerhost.wasm").read_bytes()).hexdigest()
    assert ENGINE_SHA256 == build_pin == committed


def test_run__predicted_metadata__function_sees_event_values(outcome: Outcome) -> None:
    from peerhost.wire import canonical_request

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
        function="meta",
    )
    env = outcome(
        js("export function handler(req) { return {status: 200, body: req.metadata} }"),
        "js",
        input=predicted,
        request_id=b"\x07" * 32,
        block_timestamp=1_767_225_600,
    )
    assert env.body["request_id"] == "0x" + "07" * 32
    assert env.body["block_timestamp"] == 1_767_225_600


def test_engine__prelude_and_harness__match_the_sources_it_was_built_from() -> None:
    """An edited prelude.js/harness.c needs a rebuild (build.sh --force) and new pins."""
    tools = REPO / "tools" / "quickjs"
    sources = b"".join(
        (tools / n).read_bytes() for n in ("harness.c", "prelude.js", "compile_prelude.c")
    )
    stamp = (tools / "dist" / "sources.sha256").read_text().strip()
    assert hashlib.sha256(sources).hexdigest() == stamp
    built = hashlib.sha256((tools / "dist" / "quickjs-peerhost.wasm").read_bytes()).hexdigest()
    assert built == ENGINE_SHA256
