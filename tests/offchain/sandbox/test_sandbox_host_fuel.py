"""Host calls cost fuel, exactly: 50 per call plus 1 per byte moved (``peerhost.sandbox.wasi``),
beside the 1 per wasm instruction wasmtime charges. Fuel is part of the result every worker must
agree on, so the figures are asserted to the unit: a host that charged nothing for its calls (a
loop of them would still end, on its instructions' fuel alone) fails here."""

from __future__ import annotations

import pytest
from sandbox_helpers import RunFn, wat_module

from peerhost.sandbox.wasi import CALL_FUEL


def _calls(count: int, size: int) -> bytes:
    """``_start``: one iovec of ``size`` bytes, then ``count`` ``fd_write`` calls to stderr."""
    call = "(drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))"
    return wat_module(
        f"""(data (i32.const 64) "0123456789")
        (func (export "_start")
          (i32.store (i32.const 0) (i32.const 64))
          (i32.store (i32.const 4) (i32.const {size}))
          {call * count})"""
    )


#: The prologue's instructions: two stores of two constants, and the function's end.
PROLOGUE = 7
#: One call's instructions: four argument constants and the call (the drop is free).
CALL_INSTRUCTIONS = 5


@pytest.mark.parametrize(("count", "size"), [(0, 0), (1, 0), (10, 0), (10, 10), (3, 7)])
def test_run__fixed_host_calls__exact_fuel_used(run: RunFn, count: int, size: int) -> None:
    result = run(_calls(count, size))

    assert CALL_FUEL == 50
    assert result.fuel_used == PROLOGUE + count * (CALL_INSTRUCTIONS + CALL_FUEL + size)


def _random_get(length: int) -> bytes:
    """``_start``: ``proc_exit(100 + random_get(16, length))`` (the errno, past a clean exit)."""
    import_ = (
        '(import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))'
    )
    return wat_module(
        f"""{import_}
        (func (export "_start")
          (call $proc_exit (i32.add (i32.const 100) (call $r (i32.const 16) (i32.const {length})))))"""
    )


@pytest.mark.parametrize("length", [-1, -(2**31), 2**31 - 1])
def test_run__random_get_length_past_memory__efault_charged_one_call_only(
    run: RunFn, length: int
) -> None:
    """An adversary asks for 2 to 4 GiB of random bytes (the length read as WASI means it,
    unsigned): the host refuses with EFAULT before moving or charging a byte, so the run costs
    what an empty read costs, no more (a host that charged before checking would differ)."""
    empty, hostile = run(_random_get(0)), run(_random_get(length))

    assert empty.decoded.error_detail == "100"  # errno 0
    assert hostile.decoded.error_detail == "121"  # EFAULT
    assert hostile.fuel_used == empty.fuel_used
