"""Helpers shared by the sandbox tests: WAT snippets, sample requests, constants."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import wasmtime

from peerhost.sandbox import Limits, RunResult, canonical_request

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
