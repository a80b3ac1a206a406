"""Helpers shared by the sandbox tests: WAT snippets, sample requests, constants."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import wasmtime

from peerhost.sandbox import Limits, RunRequest, RunResult, Sandbox
from peerhost.wire import canonical_request

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "functions"
CORPUS = Path(__file__).resolve().parent / "corpus"
REQUEST_ID = bytes.fromhex("ab" * 32)
BLOCK_TIMESTAMP = 1_767_225_600  # 2026-01-01T00:00:00Z
SMALL = Limits(fuel=2_000_000, memory_bytes=2 * 1024 * 1024, wall_clock_seconds=5.0)

# The WASI functions most test modules need (imports come first), and a memory (last).
WASI_IMPORTS = """
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
"""
MEMORY = '(memory (export "memory") 1)'


def wat_module(body: str, *, prelude: bool = True) -> bytes:
    """Compiles ``(module <fd_write, proc_exit imports> <body> <memory>)`` to wasm bytes."""
    if not prelude:
        return bytes(wasmtime.wat2wasm(f"(module {body})"))
    return bytes(wasmtime.wat2wasm(f"(module {WASI_IMPORTS} {body} {MEMORY})"))


def write_stdout_wat(text: str, *, fd: int = 1) -> str:
    """WAT for a ``_start`` that writes ``text`` to ``fd`` and returns."""
    escaped = "".join(f"\\{b:02x}" for b in text.encode())
    return f"""
      (data (i32.const 64) "{escaped}")
      (func (export "_start")
        (i32.store (i32.const 0) (i32.const 64))
        (i32.store (i32.const 4) (i32.const {len(text.encode())}))
        (drop (call $fd_write (i32.const {fd}) (i32.const 0) (i32.const 1) (i32.const 8))))
    """


def sample_input(body: bytes | str = b"", method: str = "POST", **query: str) -> bytes:
    return canonical_request(
        method,
        "/",
        query,
        {"content-type": "application/json"},
        body,
        request_id=REQUEST_ID,
        block_timestamp=BLOCK_TIMESTAMP,
        wallet="0x00000000000000000000000000000000000000aa",
        project="shop",
        function="test",
    )


RunFn = Callable[..., RunResult]


# --- the malicious corpus -------------------------------------------------------


@dataclass(frozen=True)
class CorpusCase:
    name: str
    request: RunRequest
    expect: dict[str, Any]


def _corpus_code(ref: str) -> bytes:
    if ref.startswith("example:"):
        return (EXAMPLES / ref.removeprefix("example:")).read_bytes()
    path = CORPUS / ref
    if path.suffix == ".wat":
        return bytes(wasmtime.wat2wasm(path.read_text()))
    return path.read_bytes()


def _corpus_input(spec: Any) -> bytes:
    if spec is None:
        return sample_input(b'{"hello":"world"}')
    if isinstance(spec, dict):
        return str(spec["repeat"]).encode() * int(spec["times"])
    return (CORPUS / "requests" / spec).read_bytes()


def load_corpus() -> list[CorpusCase]:
    manifest = json.loads((CORPUS / "cases.json").read_text())
    cases = []
    for case in manifest["cases"]:
        limits = Limits(**{**manifest["limits"], **case.get("limits", {})})
        request = RunRequest(
            runtime=case["runtime"],
            code=_corpus_code(case["code"]),
            code_id=case["code"],
            input=_corpus_input(case.get("input")),
            request_id=REQUEST_ID,
            block_timestamp=BLOCK_TIMESTAMP,
            limits=limits,
        )
        cases.append(CorpusCase(case["name"], request, case["expect"]))
    return cases


def pinned_envelopes() -> dict[str, str]:
    path = CORPUS / "envelopes.json"
    return json.loads(path.read_text()) if path.exists() else {}


def pin_corpus(cache_dir: Path) -> None:
    """Rewrites corpus/envelopes.json from a fresh run (review the diff!)."""
    sandbox = Sandbox(cache_dir=cache_dir)
    pins = {
        c.name: hashlib.sha256(sandbox.run(c.request).envelope).hexdigest() for c in load_corpus()
    }
    (CORPUS / "envelopes.json").write_text(json.dumps(pins, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    # python tests/offchain/sandbox/sandbox_helpers.py pin CACHE_DIR
    if sys.argv[1:2] == ["pin"]:
        pin_corpus(Path(sys.argv[2]))


# --- the example functions ------------------------------------------------------

ORDER = b'{"customer":"alice","items":[{"sku":"A-1","qty":2,"price_cents":1250}]}'


def example_requests() -> dict[str, RunRequest]:
    """One request per example function (two for orders-create: 201 and 400)."""

    def request(name: str, runtime: str, body: bytes = b"", **query: str) -> RunRequest:
        return RunRequest(
            runtime=runtime,
            code=(EXAMPLES / name).read_bytes(),
            code_id=name,
            input=sample_input(body, **query),
            env={"GREETING": "Hello, worker!"},
            request_id=REQUEST_ID,
            block_timestamp=BLOCK_TIMESTAMP,
        )

    return {
        "hello": request("hello.wasm", "wasi"),
        "echo": request("echo.wasm", "wasi", b"\x00\xffbinary"),
        "orders-create-201": request("orders-create.js", "js", ORDER),
        "orders-create-400": request("orders-create.js", "js", b'{"items":[{"qty":0}]}'),
        "clock-and-dice": request("clock-and-dice.js", "js", sides="20"),
        "report": request("report.py", "python", b'{"xs": [3, 1, 4, 1, 5, 9]}'),
        "report-400": request("report.py", "python", b"not json"),
    }
