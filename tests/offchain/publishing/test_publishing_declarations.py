"""Declared request headers: project.json → the published code → the canonical request; and the
Stripe-style webhook example, whose signature check needs one."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from peerhost.publishing import InvalidProjectFile, load_project
from peerhost.sandbox import Limits, RunRequest, Sandbox
from peerhost.wire import canonical_request, declarations

REPO = Path(__file__).resolve().parents[3]
RID = bytes.fromhex("ef" * 32)
NOW = 1_767_225_600
SECRET = "whsec_test_5f1c"


def write(root: Path, manifest: dict[str, object], files: dict[str, str]) -> Path:
    (root / "functions").mkdir(parents=True)
    (root / "project.json").write_text(json.dumps(manifest))
    for name, text in files.items():
        (root / "functions" / name).write_text(text)
    return root


def test_declared_headers__js_and_wasm__embedded_in_the_code(tmp_path: Path) -> None:
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "hook.js").write_text("export default () => 1;\n")
    (tmp_path / "functions" / "hello.wasm").write_bytes(
        (REPO / "examples/functions/hello.wasm").read_bytes()
    )
    manifest = {
        "project": "p",
        "headers": ["X-Shared"],
        "functions": {"hook": {"headers": ["Stripe-Signature"]}},
    }
    (tmp_path / "project.json").write_text(json.dumps(manifest))
    project = load_project(tmp_path)
    hook, hello = project.function("hook"), project.function("hello")
    assert hook.headers == ("stripe-signature", "x-shared")
    assert declarations.read(hook.code()).headers == ("stripe-signature", "x-shared")
    assert declarations.read(hello.code()).headers == ("x-shared",)


def test_wasm_with_declarations__still_runs_the_same(compiled_modules: Path) -> None:
    wasm = (REPO / "examples/functions/hello.wasm").read_bytes()
    tagged = declarations.add_wasm_section(wasm, declarations.Declarations(("x-a",)))
    sandbox = Sandbox(cache_dir=compiled_modules, compile_in_subprocess=False)

    def run(code: bytes) -> bytes:
        data = canonical_request(
            "GET", "/", {}, {}, b"", request_id=RID, block_timestamp=NOW,
            wallet="0x" + "00" * 20, project="p", function="f",
        )  # fmt: skip
        request = RunRequest(
            runtime="wasi", code=code, code_id="t", input=data, request_id=RID,
            block_timestamp=NOW, limits=Limits(),
        )  # fmt: skip
        return sandbox.run(request).decoded.to_http()[2]

    assert run(tagged) == run(wasm) == b"Hello from PeerHost!"


PY_HOOK = """def handler(req):
    if req["path"] == "/boom":
        raise ValueError("line 3")
    return {"status": 200, "body": req["headers"].get("x-hub-signature-256", "none")}
"""


def test_declared_headers__python__last_line_comment_runs_unchanged(
    tmp_path: Path, compiled_modules: Path
) -> None:
    root = write(tmp_path / "p", {"project": "p", "headers": ["X-Hub-Signature-256"]},
                 {"hook.py": PY_HOOK})  # fmt: skip
    code = load_project(root).function("hook").code()
    assert code.startswith(PY_HOOK.encode())  # the author's lines keep their numbers
    assert declarations.read(code).headers == ("x-hub-signature-256",)
    sandbox = Sandbox(cache_dir=compiled_modules, compile_in_subprocess=False)

    def run(path: str) -> tuple[str, str]:
        data = canonical_request(
            "POST", path, {}, {"X-Hub-Signature-256": "sha256=ab", "X-Other": "no"}, b"",
            request_id=RID, block_timestamp=NOW, wallet="0x" + "00" * 20, project="p",
            function="hook", extra_headers=declarations.read(code).headers,
        )  # fmt: skip
        request = RunRequest(
            runtime="python", code=code, code_id="py-hook", input=data, request_id=RID,
            block_timestamp=NOW, limits=Limits(fuel=500_000_000, memory_bytes=64 * 2**20),
        )  # fmt: skip
        envelope = sandbox.run(request).decoded
        return envelope.to_http()[2].decode(), envelope.error_detail or ""

    assert run("/") == ("sha256=ab", "")
    assert "line 3" in run("/boom")[1]


def test_read__no_or_malformed_declaration__declares_nothing() -> None:
    assert declarations.read(b"export default 1").headers == ()
    assert declarations.read(b"// peerhost-function {nope\nx").headers == ()
    assert declarations.read(b'// peerhost-function {"headers":["ok","Bad Name"]}\n').headers == (
        "ok",
    )


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ("x-forwarded-for", "IP address"),
        ("host", "HTTP connection"),
        ("x-peerhost-mode", "gateway's own"),
        ("bad header", "not an HTTP header name"),
    ],
)
def test_manifest__undeclarable_header__refused_with_the_reason(
    tmp_path: Path, header: str, why: str
) -> None:
    root = write(
        tmp_path / "p",
        {"functions": {"f": {"headers": [header]}}},
        {"f.js": "export default () => 1;"},
    )
    with pytest.raises(InvalidProjectFile, match=why):
        load_project(root)


def test_manifest__credential_headers__may_be_declared(tmp_path: Path) -> None:
    manifest = {
        "project": "p",
        "headers": ["Authorization"],
        "functions": {"f": {"headers": ["cookie"]}},
    }
    root = write(tmp_path / "p", manifest, {"f.js": "export default () => 1;"})
    assert load_project(root).function("f").headers == ("authorization", "cookie")


def test_canonical_request__declared_header__kept_and_others_dropped() -> None:
    headers = {"Stripe-Signature": "t=1,v1=ab", "Authorization": "Bearer x", "X-Other": "1"}
    data = canonical_request(
        "POST", "/", {}, headers, b"{}", request_id=RID, block_timestamp=NOW,
        wallet="0x" + "00" * 20, project="p", function="f", extra_headers=("stripe-signature",),
    )  # fmt: skip
    assert json.loads(data)["headers"] == {"stripe-signature": "t=1,v1=ab"}


# --- the Stripe-style webhook example -------------------------------------------------------

EVENT = b'{"id":"evt_1","type":"invoice.paid","data":{"amount":1200}}'


def signature(payload: bytes, secret: str = SECRET, t: int = NOW - 10) -> str:
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@pytest.fixture(scope="module")
def webhook(compiled_modules: Path) -> tuple[Sandbox, bytes, tuple[str, ...]]:
    spec = load_project(REPO / "examples" / "functions").function("stripe-webhook")
    sandbox = Sandbox(cache_dir=compiled_modules, compile_in_subprocess=False)
    return sandbox, spec.code(), spec.headers


def deliver(
    webhook: tuple[Sandbox, bytes, tuple[str, ...]], body: bytes, sig: str
) -> tuple[int, dict[str, object]]:
    sandbox, code, declared = webhook
    data = canonical_request(
        "POST", "/", {}, {"content-type": "application/json", "stripe-signature": sig}, body,
        request_id=RID, block_timestamp=NOW, wallet="0x" + "00" * 20, project="examples",
        function="stripe-webhook", extra_headers=declared,
    )  # fmt: skip
    result = sandbox.run(
        RunRequest(runtime="js", code=code, code_id="t", input=data, env={"STRIPE_WEBHOOK_SECRET": SECRET},
                   request_id=RID, block_timestamp=NOW, limits=Limits())
    )  # fmt: skip
    status, _, content = result.decoded.to_http()
    return status, json.loads(content)


def test_webhook__signed__accepted(webhook: tuple[Sandbox, bytes, tuple[str, ...]]) -> None:
    assert deliver(webhook, EVENT, signature(EVENT)) == (
        200,
        {"received": True, "id": "evt_1", "type": "invoice.paid"},
    )


def test_webhook__tampered_body__refused(webhook: tuple[Sandbox, bytes, tuple[str, ...]]) -> None:
    tampered = EVENT.replace(b"1200", b"9200")
    status, body = deliver(webhook, tampered, signature(EVENT))
    assert (status, body["error"], body["detail"]) == (
        400,
        "invalid_signature",
        "no v1 signature matches the payload",
    )


def test_webhook__other_secret_or_stale_timestamp__refused(
    webhook: tuple[Sandbox, bytes, tuple[str, ...]],
) -> None:
    assert deliver(webhook, EVENT, signature(EVENT, secret="whsec_other"))[0] == 400
    status, body = deliver(webhook, EVENT, signature(EVENT, t=NOW - 3600))
    assert (status, body["detail"]) == (400, "the signature's timestamp is too old")
