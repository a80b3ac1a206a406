"""The wasm binary reader/writer the Python runtime's snapshot is built with."""

from __future__ import annotations

import pytest
import wasmtime

from peerhost.sandbox import wasm_sections as ws

MODULE = """
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1 4)
  (global $g (mut i32) (i32.const -5))
  (global $h (mut i64) (i64.const 7))
  (func (export "_start") (call $exit (global.get $g)))
  (data (i32.const 16) "hi"))
"""


@pytest.mark.parametrize("value", [0, 1, 63, 64, 127, 128, 2**31 - 1, 2**32 - 1, 2**63])
def test_uleb__round_trip(value: int) -> None:
    assert ws.Reader(ws.uleb(value)).uleb() == value


@pytest.mark.parametrize("value", [0, -1, 63, -64, 64, -65, 2**31 - 1, -(2**31), -(2**63)])
def test_sleb__round_trip(value: int) -> None:
    assert ws.Reader(ws.sleb(value)).sleb() == value


def test_split_join__any_module__identical_bytes() -> None:
    wasm = bytes(wasmtime.wat2wasm(MODULE))
    assert ws.join_sections(ws.split_sections(wasm)) == wasm


def test_rewrite__globals_memory_data__module_runs_with_new_values() -> None:
    wasm = bytes(wasmtime.wat2wasm(MODULE))
    out = []
    for section in ws.split_sections(wasm):
        if section.id == ws.GLOBAL:
            old = ws.read_globals(section.body)
            assert [(g.valtype, g.mutable) for g in old] == [(ws.I32, True), (ws.I64, True)]
            new = [ws.Global(ws.I32, True, ws.const_init(ws.I32, 2**32 - 3)), old[1]]
            section = ws.Section(ws.GLOBAL, ws.globals_section(new))
        elif section.id == ws.MEMORY:
            assert ws.read_memory(section.body) == (1, 4)
            section = ws.Section(ws.MEMORY, ws.memory_section(2, 4))
        elif section.id == ws.DATA:
            section = ws.Section(ws.DATA, ws.data_section([(70_000, b"snap")]))
        out.append(section)
    engine = wasmtime.Engine()
    module = wasmtime.Module(engine, ws.join_sections(out))
    store = wasmtime.Store(engine)
    exited: list[int] = []
    linker = wasmtime.Linker(engine)
    exit_type = wasmtime.FuncType([wasmtime.ValType.i32()], [])
    linker.define_func("wasi_snapshot_preview1", "proc_exit", exit_type, exited.append)
    instance = linker.instantiate(store, module)
    memory = instance.exports(store)["memory"]
    assert isinstance(memory, wasmtime.Memory)
    assert memory.data_len(store) == 2 * 65536
    assert bytes(memory.read(store, 70_000, 70_004)) == b"snap"
    start = instance.exports(store)["_start"]
    assert isinstance(start, wasmtime.Func)
    start(store)
    assert exited == [-3]


def test_split_sections__not_wasm__format_error() -> None:
    with pytest.raises(ws.WasmFormatError, match="not a WebAssembly"):
        ws.split_sections(b"\x7fELF....")
