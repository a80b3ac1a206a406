"""The clf runtime: Chainlink-Functions-style sources, unchanged, on the js engine.

Every encoding is checked against eth_abi's (uint256, int256) or Python's own UTF-8 (strings are
their raw UTF-8 bytes, as Chainlink's encodeString gives them), through the envelope's base64 body:
the bytes a consumer contract receives.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from sandbox_helpers import REQUEST_ID

from peerhost.sandbox import RunResult, clf
from peerhost.sandbox.__main__ import main
from peerhost.sandbox.errors import ClfPreludeMismatch
from peerhost.wire import canonical_request
from peerhost.wire.clf import abi_args, contract_input, json_args
from peerhost.wire.feed import ENGINE_PROFILE_NAME, RUNTIME_ENGINE_SHA256

MAX_UINT = 2**256 - 1
MIN_INT = -(2**255)
MAX_INT = 2**255 - 1


def _input(body: bytes = b"", content_type: str = "application/json") -> bytes:
    return canonical_request(
        "POST",
        "/",
        {},
        {"content-type": content_type} if body else {},
        body,
        request_id=REQUEST_ID,
        block_timestamp=1_767_225_600,
        wallet="0x" + "ab" * 20,
        project="clf",
        function="f",
    )


@pytest.fixture(scope="module")
def clf_run(run: Any) -> Any:
    def _run(
        source: str, body: bytes = b"", content_type: str = "application/json", **fields: Any
    ) -> RunResult:
        return run(source.encode(), "clf", input=_input(body, content_type), **fields)

    return _run


def _bytes(result: RunResult) -> bytes:
    envelope = result.decoded
    assert envelope.ok, envelope.error_detail
    assert envelope.body_encoding == "base64"
    assert envelope.headers["content-type"] == "application/octet-stream"
    assert isinstance(envelope.body, str)
    return base64.b64decode(envelope.body)


def _error(result: RunResult) -> str:
    envelope = result.decoded
    assert not envelope.ok
    assert envelope.error_kind is not None and envelope.error_kind.value == "js_error"
    return envelope.error_detail or ""


@pytest.mark.parametrize("value", [0, 1, 255, 2**53 - 1, 2**53 + 1, 2**128, MAX_UINT])
def test_encode_uint256__edge_values__equal_eth_abi(clf_run: Any, value: int) -> None:
    source = "return Functions.encodeUint256(BigInt(args[0]))"
    assert _bytes(clf_run(source, json_args([str(value)]))) == abi_encode(["uint256"], [value])


@pytest.mark.parametrize("value", [0, 1, -1, MIN_INT, MIN_INT + 1, MAX_INT, -(2**64), 12345])
def test_encode_int256__edge_values__equal_eth_abi(clf_run: Any, value: int) -> None:
    source = "return Functions.encodeInt256(BigInt(args[0]))"
    assert _bytes(clf_run(source, json_args([str(value)]))) == abi_encode(["int256"], [value])


def test_encode_numbers__integral_js_numbers__encoded_exactly(clf_run: Any) -> None:
    source = "return Functions.encodeUint256(Math.round(1234.5678 * 1e18))"
    assert _bytes(clf_run(source)) == abi_encode(["uint256"], [int(round(1234.5678 * 1e18))])
    negative = "return Functions.encodeInt256(-42)"
    assert _bytes(clf_run(negative)) == abi_encode(["int256"], [-42])


@pytest.mark.parametrize(
    "text", ["", "hello", "ÿ", "€ 20", "日本語", "emoji 🦄🔥", "zero\x00byte", "a" * 5000]
)
def test_encode_string__unicode__raw_utf8_bytes(clf_run: Any, text: str) -> None:
    assert (
        _bytes(clf_run("return Functions.encodeString(args[0])", json_args([text])))
        == text.encode()
    )


def test_encode_string__lone_surrogate__replacement_character(clf_run: Any) -> None:
    assert _bytes(clf_run('return Functions.encodeString("a\\ud800b")')) == "a\ufffdb".encode()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("Functions.encodeUint256(-1)", "RangeError: Functions.encodeUint256: -1 is out of range"),
        ("Functions.encodeUint256(2n ** 256n)", "out of range (a uint256 is 0 to 2^256 - 1)"),
        ("Functions.encodeInt256(2n ** 255n)", "out of range (an int256 is -2^255 to 2^255 - 1)"),
        ("Functions.encodeInt256(-(2n ** 255n) - 1n)", "RangeError: Functions.encodeInt256"),
        ("Functions.encodeUint256(1.5)", "1.5 is not an integer"),
        ("Functions.encodeUint256(NaN)", "NaN is not an integer"),
        ('Functions.encodeUint256("5")', "takes a number or a BigInt, not string"),
        ("Functions.encodeString(5)", "Functions.encodeString takes a string, not number"),
    ],
)
def test_encoders__out_of_range_or_wrong_type__js_error_naming_the_range(
    clf_run: Any, call: str, message: str
) -> None:
    assert message in _error(clf_run(f"return {call}"))


def test_args_and_secrets__json_body__source_reads_them_unchanged(clf_run: Any) -> None:
    # A typical Chainlink Functions source, as written for Chainlink: top-level await and return.
    source = (
        "const [base, quote] = args;\n"
        "const key = secrets.apiKey;\n"
        "const total = await Promise.resolve(bytesArgs.length);\n"
        "return Functions.encodeString(`${base}/${quote}:${key}:${total}:${bytesArgs[1]}`);\n"
    )
    body = json_args(["ETH", "USD"], [b"\x01", b"\xde\xad"])
    out = _bytes(clf_run(source, body, env={"apiKey": "k-123"}))
    assert out == b"ETH/USD:k-123:2:0xdead"


def test_args__abi_encoded_body__same_arguments_as_json(clf_run: Any) -> None:
    source = "return Functions.encodeString(JSON.stringify([args, bytesArgs]))"
    args, raw = ["ETH", "ü", ""], [b"", b"\x00\xff", bytes(range(40))]
    from_abi = _bytes(clf_run(source, abi_args(args, raw), "application/octet-stream"))
    from_json = _bytes(clf_run(source, json_args(args, raw)))
    assert from_abi == from_json
    assert json.loads(from_abi) == [args, ["0x" + b.hex() for b in raw]]


def test_args__no_body__empty_lists(clf_run: Any) -> None:
    source = "return Functions.encodeUint256(args.length + bytesArgs.length + Object.keys(secrets).length)"
    assert _bytes(clf_run(source)) == abi_encode(["uint256"], [0])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"args": "ETH"}', '"args" must be a list of strings'),
        (b'{"args": [1]}', '"args" must be a list of strings'),
        (b'{"bytesArgs": ["dead"]}', '"bytesArgs" must be a list of 0x-prefixed hex strings'),
        (b'{"argz": []}', 'unknown key "argz"'),
        (b"[1]", "not a JSON object"),
        (b"ETH,USD", "no arguments in a known form"),
    ],
)
def test_args__malformed_body__js_error_naming_the_format(
    clf_run: Any, body: bytes, message: str
) -> None:
    detail = _error(clf_run("return new Uint8Array(1)", body, "text/plain"))
    assert message in detail
    assert '{"args": ["..."], "bytesArgs": ["0x..."]}' in detail


def test_args__truncated_abi_body__js_error(clf_run: Any) -> None:
    body = abi_args(["ETH"], [b"\x01"])[:-40]
    assert "not a valid ABI encoding" in _error(
        clf_run("return new Uint8Array(1)", body, "application/octet-stream")
    )


def test_make_http_request__called__error_names_the_io_limitation(clf_run: Any) -> None:
    source = (
        'const response = await Functions.makeHttpRequest({ url: "https://api.example.com" });\n'
        "if (response.error) throw Error('Request failed');\n"
        "return Functions.encodeString(response.data);\n"
    )
    detail = _error(clf_run(source))
    assert detail.startswith("Error: Functions.makeHttpRequest is not available in PeerHost")
    assert "no network access" in detail


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("return 42", "a number"),
        ('return "text"', "a string"),
        ("return { a: 1 }", "an object"),
        ("const x = 1", "nothing"),
    ],
)
def test_return__not_bytes__js_error_asks_for_bytes(clf_run: Any, source: str, what: str) -> None:
    detail = _error(clf_run(source))
    assert f"the source returned {what}: a Chainlink Functions source must return bytes" in detail


def test_return__array_buffer_and_views__raw_bytes(clf_run: Any) -> None:
    assert _bytes(clf_run("return new Uint8Array([1, 2, 3]).buffer")) == b"\x01\x02\x03"
    assert _bytes(clf_run("return new Uint16Array([258])")) == b"\x02\x01"
    assert _bytes(clf_run("return new Uint8Array([9, 8, 7, 6]).subarray(1, 3)")) == b"\x08\x07"
    assert _bytes(clf_run("return new Uint8Array(0)")) == b""


def test_thrown_error__line_numbers__as_written(clf_run: Any) -> None:
    detail = _error(clf_run("const a = 1;\n\nthrow new Error('bad input ' + a);\n"))
    assert detail.startswith("Error: bad input 1\n")
    assert "function.js:3:" in detail


def test_run__same_request__same_envelope(clf_run: Any) -> None:
    source = "return Functions.encodeUint256(BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000)))"
    first, second = clf_run(source), clf_run(source)
    assert first.envelope == second.envelope


def test_prelude__pinned_in_the_engine_profile() -> None:
    data = clf.PRELUDE_PATH.read_bytes()
    assert hashlib.sha256(data).hexdigest() == RUNTIME_ENGINE_SHA256["clf"]
    assert f" clf:{RUNTIME_ENGINE_SHA256['clf']}" in ENGINE_PROFILE_NAME
    assert clf.load_prelude() == data


def test_prelude__changed_bytes__refused(tmp_path: Any) -> None:
    changed = tmp_path / "clf-prelude.js"
    changed.write_bytes(clf.PRELUDE_PATH.read_bytes() + b"\n")
    with pytest.raises(ClfPreludeMismatch, match="RUNTIME_ENGINE_SHA256"):
        clf.load_prelude(changed)


def test_example__median_source__uint256_of_the_median(clf_run: Any) -> None:
    source = (Path(__file__).resolve().parents[3] / "examples/clf/functions/median.js").read_text()
    result = clf_run(source, json_args(["3000.5", "2999.25", "3100"], [bytes([2])]))
    assert _bytes(result) == abi_encode(["uint256"], [300050])
    assert result.logs == b"median of 3 prices: 300050\n"
    even = clf_run(source, json_args(["1", "2"]))
    assert _bytes(even) == abi_encode(["uint256"], [15 * 10**17])


def test_args__contract_request_json__top_level_args(run: Any) -> None:
    # A contract's input is the run's request JSON itself: the arguments may sit at its top level.
    source = b"return Functions.encodeString(JSON.stringify([args, bytesArgs]))"
    result = run(source, "clf", input=contract_input(["ETH", "7"], [b"\x02"]))
    assert json.loads(_bytes(result)) == [["ETH", "7"], ["0x02"]]
    both = json.dumps({"args": ["a"], "body": json_args(["b"]).decode()}).encode()
    assert "both at its top level and in its body" in _error(run(source, "clf", input=both))


def test_cli__clf_with_args_and_secret__prints_the_bytes(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = Path(__file__).resolve().parents[3] / "examples/clf/functions/median.js"
    argv = ["clf", str(source), "--arg", "5", "--arg", "7", "--bytes-arg", "0x00"]
    assert main([*argv, "--env", "UNUSED=x", "--cache-dir", str(cache_dir)]) == 0
    envelope = json.loads(capsys.readouterr().out.splitlines()[0])
    assert base64.b64decode(envelope["response"]["body"]) == abi_encode(["uint256"], [6])
    assert main(["clf", str(source), "--arg", "1", "--body", "x"]) == 2  # one or the other
