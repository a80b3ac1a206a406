"""Generated hostile wasm modules, and the probe that runs a batch of them in a process of its own.

``module(seed)`` builds one WASI command module from a seed (the same seed, the same bytes): a
random sequence of hostile fragments in ``_start`` (loops that burn fuel, unbounded recursion,
``memory.grow`` storms, out-of-bounds loads and stores, traps, ``call_indirect`` through a bad
table slot, WASI calls with garbage pointers and lengths, floods of output, ``proc_exit`` with odd
codes), and every ninth seed a module with flipped bytes (which may no longer validate). Run as a
script it runs seeds ``START..START+COUNT-1`` in one sandbox and prints one JSON line per module:
the seed, the sha256 of its envelope, the error kind, whether it was committable and the seconds
it took. ``bench/hostile_wasm.py`` and ``test_sandbox_hostile_wasm.py`` run each batch in two
processes and compare.

Usage: python hostile_wasm.py CACHE_DIR START COUNT
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from pathlib import Path

import wasmtime

from peerhost.sandbox import Limits, RunRequest, Sandbox
from peerhost.sandbox.wasi import SIGNATURES

LIMITS = Limits(fuel=1_000_000, memory_bytes=4 * 1024 * 1024, wall_clock_seconds=5.0)
REQUEST_ID = bytes.fromhex("5a" * 32)
BLOCK_TIMESTAMP = 1_767_225_600
INPUT = b'{"method":"POST","path":"/","query":{},"headers":{},"body":"aG9zdGlsZQ=="}'
I32 = [0, 1, 7, 8, 4096, 65535, 65536, 65537, 2**31 - 1, -1, -(2**31)]
I64 = [0, 1, -1, 2**32, 2**63 - 1, -(2**63)]
FATAL = (
    "(unreachable",
    "(drop (call $deep",
    "(call $proc_exit",
    "(call_indirect",
    "(drop (i32.div",
)


def _i32(rng: random.Random) -> int:
    return rng.choice(I32) if rng.random() < 0.7 else rng.randint(-(2**31), 2**31 - 1)


def _wasi_call(rng: random.Random) -> str:
    name = rng.choice(sorted(SIGNATURES))
    params, results = SIGNATURES[name]
    args = " ".join(
        f"(i32.const {_i32(rng)})" if p == "i" else f"(i64.const {rng.choice(I64)})" for p in params
    )
    call = f"(call ${name} {args})"
    return f"(drop {call})" if results else call


def _fragment(rng: random.Random) -> str:
    kind = rng.randrange(16)
    n = rng.choice([1, 10, 1000, 100_000, 10_000_000])
    if kind == 0:  # a loop of n rounds (the big ones run out of fuel)
        return (
            f"(local.set $i (i32.const {n})) (block $out (loop $again "
            "(br_if $out (i32.eqz (local.get $i))) "
            "(local.set $i (i32.sub (local.get $i) (i32.const 1))) (br $again)))"
        )
    if kind == 1:  # recursion with no base case
        return "(drop (call $deep (i32.const 0)))"
    if kind == 2:  # memory.grow storm
        return f"(drop (memory.grow (i32.const {rng.choice([1, 16, 64, 1024, 65535, -1])})))"
    if kind == 3:  # a load or store anywhere
        addr = _i32(rng)
        op = rng.choice(["i32.load", "i64.load", "i32.load8_u"])
        if rng.random() < 0.5:
            return f"(drop ({op} (i32.const {addr})))"
        return f"(i32.store (i32.const {addr}) (i32.const {_i32(rng)}))"
    if kind == 4:
        return rng.choice(
            [
                "(unreachable)",
                f"(drop (i32.div_s (i32.const {_i32(rng)}) (i32.const 0)))",
                "(drop (i32.div_s (i32.const -2147483648) (i32.const -1)))",
                "(drop (i32.trunc_f64_s (f64.const nan)))",
            ]
        )
    if kind == 5:  # an indirect call through a slot that may be empty, out of range or mistyped
        return f"(call_indirect (type $v) (i32.const {rng.choice([0, 1, 2, 3, 99, -1])}))"
    if kind in (6, 7) or kind >= 12:  # WASI calls are the most of the host's surface
        return _wasi_call(rng)
    if kind == 8:  # output: an iovec over memory, repeated
        length = rng.choice([0, 5, 4096, 65536, 1 << 20, -1])
        return (
            f"(i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const {length}))"
            f"(local.set $i (i32.const {n})) (block $out (loop $again "
            "(br_if $out (i32.eqz (local.get $i))) "
            f"(drop (call $fd_write (i32.const {rng.choice([1, 2, 3])}) (i32.const 0) (i32.const 1) "
            "(i32.const 8))) "
            "(local.set $i (i32.sub (local.get $i) (i32.const 1))) (br $again)))"
        )
    if kind == 9:
        return f"(call $proc_exit (i32.const {_i32(rng)}))"
    if kind == 10:  # a float that differs by platform if NaNs are not canonical
        return "(drop (i64.reinterpret_f64 (f64.div (f64.const 0) (f64.const 0))))"
    return f"(global.set $g (i64.mul (global.get $g) (i64.const {rng.choice(I64)})))"  # 11


def _wat(rng: random.Random) -> str:
    imports = "\n".join(
        f'(import "wasi_snapshot_preview1" "{name}" (func ${name} '
        f"(param {' '.join('i32' if p == 'i' else 'i64' for p in params)})"
        f"{' (result i32)' if results else ''}))"
        for name, (params, results) in sorted(SIGNATURES.items())
    )
    pages = rng.choice([0, 1, 1, 2, 17])
    maximum = rng.choice(["", "", " 64", f" {pages}"])
    fragments = [_fragment(rng) for _ in range(rng.randint(1, 10))]
    # the ones that surely end the run go last, so the others get their turn
    body = " ".join(sorted(fragments, key=lambda f: f.startswith(FATAL)))
    return f"""(module {imports}
      (type $v (func))
      (type $w (func (param i32) (result i32)))
      (memory (export "memory") {pages}{maximum})
      (global $g (mut i64) (i64.const 3))
      (table 3 funcref)
      (elem (i32.const 0) $nothing $deep)
      (func $nothing)
      (func $deep (param $d i32) (result i32) (call $deep (i32.add (local.get $d) (i32.const 1))))
      (func (export "_start") (local $i i32) {body}))"""


def module(seed: int) -> bytes:
    """The generated module of ``seed``: the same seed always gives the same bytes."""
    rng = random.Random(seed)
    code = bytearray(wasmtime.wat2wasm(_wat(rng)))
    if seed % 9 == 8:  # flipped bytes: a loader's input
        for _ in range(rng.randint(1, 4)):
            code[rng.randrange(8, len(code))] = rng.randrange(256)
    return bytes(code)


def run_batch(cache_dir: Path, start: int, count: int) -> list[dict[str, object]]:
    """Runs seeds ``start..start+count-1`` in one sandbox; one record per module."""
    sandbox = Sandbox(cache_dir=cache_dir, compile_in_subprocess=False)
    records: list[dict[str, object]] = []
    for seed in range(start, start + count):
        began = time.monotonic()
        result = sandbox.run(
            RunRequest(
                runtime="wasi",
                code=module(seed),
                code_id=f"hostile-{seed}",
                input=INPUT,
                request_id=REQUEST_ID,
                block_timestamp=BLOCK_TIMESTAMP,
                limits=LIMITS,
            )
        )
        records.append(
            {
                "seed": seed,
                "sha256": hashlib.sha256(result.envelope).hexdigest(),
                "kind": str(result.decoded.error_kind or "ok"),
                "committable": result.committable,
                "seconds": round(time.monotonic() - began, 3),
            }
        )
    return records


if __name__ == "__main__":
    for record in run_batch(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])):
        print(json.dumps(record, sort_keys=True), flush=True)
