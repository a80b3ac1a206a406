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
