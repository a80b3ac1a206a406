"""Every WASI function, called with hostile arguments, answers with an errno or a
deterministic failure: never a host error, never different bytes twice."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sandbox_helpers import RunFn, wat_module

from peerhost.sandbox import Limits
from peerhost.sandbox.wasi import SIGNATURES
from peerhost.wire import ErrorKind

EDGE_I32 = st.sampled_from([0, 1, 8, 65535, 65536, 2**31 - 1, -1, -(2**31)]) | st.integers(
    -(2**31), 2**31 - 1
)
EDGE_I64 = st.sampled_from([0, 1, -1, 2**63 - 1, -(2**63)]) | st.integers(-(2**63), 2**63 - 1)
DETERMINISTIC = {k for k in ErrorKind if k not in (ErrorKind.TIMEOUT, ErrorKind.HOST_ERROR)}


@st.composite
def wasi_call(draw: st.DrawFn) -> tuple[str, list[tuple[str, int]]]:
    name = draw(st.sampled_from(sorted(n for n in SIGNATURES if n != "fd_write")))
    params = SIGNATURES[name][0]
    return name, [("i32", draw(EDGE_I32)) if p == "i" else ("i64", draw(EDGE_I64)) for p in params]


def _module(name: str, args: list[tuple[str, int]]) -> bytes:
    params, results = SIGNATURES[name]
    types = " ".join("i32" if p == "i" else "i64" for p in params)
    result = "(result i32)" if results else ""
    call = f"(call $f {' '.join(f'({t}.const {v})' for t, v in args)})"
    body = f"(call $proc_exit {call})" if results else call
    return wat_module(
        f"""(import "wasi_snapshot_preview1" "{name}" (func $f (param {types}) {result}))
        (func (export "_start") {body})"""
    )


@settings(max_examples=120, deadline=None)
@given(wasi_call())
def test_wasi__hostile_arguments__errno_or_deterministic_failure(
    run: RunFn, call: tuple[str, list[tuple[str, int]]]
) -> None:
    code = _module(*call)
    first = run(code, limits=Limits(fuel=1_000_000, memory_bytes=1 << 20))
    second = run(code, limits=Limits(fuel=1_000_000, memory_bytes=1 << 20))
    assert first.committable
    assert first.envelope == second.envelope
    assert first.decoded.ok or first.decoded.error_kind in DETERMINISTIC
