"""Runtime snapshots (peerhost.sandbox.snapshot): an initialized instance as a new module."""

from __future__ import annotations

import struct

import pytest
import wasmtime
from sandbox_helpers import RunFn

from peerhost.sandbox import Limits, Sandbox
from peerhost.sandbox import snapshot as snap
from peerhost.sandbox import wasm_sections as ws
from peerhost.sandbox.js_engine import load_engine
from peerhost.sandbox.wasi import WasiHost
from peerhost.wire import ErrorKind

#: A reactor: ``init`` writes 42 at address 100 and sets a global to 7; ``run``
#: returns their sum. A snapshot taken after ``init`` must answer 49 at once.
REACTOR = """(module
  (type (func))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (global $g (mut i32) (i32.const 0))
  (func (export "init") (result i32)
    (i32.store (i32.const 100) (i32.const 42))
    (global.set $g (i32.const 7))
    (i32.const 0))
  (func (export "run") (result i32)
    (i32.add (i32.load (i32.const 100)) (global.get $g))))"""


def _snapshot(start_fuel: bool = True) -> bytes:
    probe = snap.probe_module(bytes(wasmtime.wat2wasm(REACTOR)))
    boot = snap.Boot(probe, WasiHost(), snap.start_io([b"reactor"], []))
    assert boot.call("init") == 0
    image = boot.image()
    body = (
        b"\x00"
        + b"\x10" + ws.uleb(snap.export_index(probe, "run"))
        + b"\x10" + ws.uleb(snap.import_index(probe, "proc_exit"))
        + b"\x0b"
    )  # fmt: skip
    return snap.snapshot_module(
        probe, image, body, start_fuel=image.fuel_used if start_fuel else None
    )


def test_snapshot__reactor_initialized__starts_from_its_memory_and_globals(run: RunFn) -> None:
    result = run(_snapshot())
    assert result.committable
    assert result.decoded.error_kind is ErrorKind.EXIT
    assert result.decoded.error_detail == "49"  # 42 from memory + 7 from the global


def test_snapshot__built_twice__same_bytes() -> None:
    assert _snapshot() == _snapshot()


def test_snapshot__start_fuel__recorded_in_its_section() -> None:
    module = _snapshot()
    assert snap.start_fuel(module) > 0
    assert snap.start_fuel(_snapshot(start_fuel=False)) == 0
    names = [ws.Reader(s.body).name() for s in ws.split_sections(module) if s.id == ws.CUSTOM]
    assert names == [snap.START_FUEL_SECTION]


def test_snapshot__exports__only_memory_and_start() -> None:
    module = wasmtime.Module(wasmtime.Engine(), _snapshot())
    assert sorted(e.name for e in module.exports) == ["_start", "memory"]


def test_snapshot__base_without_void_type__refused() -> None:
    no_void = REACTOR.replace("(type (func))", "")
    probe = snap.probe_module(bytes(wasmtime.wat2wasm(no_void)))
    boot = snap.Boot(probe, WasiHost(), snap.start_io([b"reactor"], []))
    boot.call("init")
    with pytest.raises(snap.SnapshotError, match="function type"):
        snap.snapshot_module(probe, boot.image(), b"\x00\x0b")


def test_js_engine__start_fuel__pinned_constant() -> None:
    """The js start-up charge is part of the engine's identity: a change here changes consensus."""
    assert snap.start_fuel(load_engine()) == 5_474_069


def test_run__js_start_fuel_charged__on_every_call(sandbox: Sandbox, run: RunFn) -> None:
    source = b"export function handler() { return {status: 200, body: 'ok'} }"
    first, second = run(source, "js"), run(source, "js")
    assert first.envelope == second.envelope
    assert first.fuel_used > sandbox.js_start_fuel
    assert first.decoded.fuel_used == first.fuel_used


def test_run__js_fuel_below_start_up__out_of_fuel_whole_budget(run: RunFn) -> None:
    budget = 1_000_000
    source = b"export function handler() { return {status: 200} }"
    result = run(source, "js", limits=Limits(fuel=budget))
    assert result.committable
    assert result.decoded.error_kind is ErrorKind.OUT_OF_FUEL
    assert result.fuel_used == result.decoded.fuel_used == budget


def test_run__wasi_module_claims_start_fuel__not_charged(run: RunFn) -> None:
    """Only the pinned js engine's section counts: a function cannot set its own charge."""
    module = _snapshot()
    sections = [s for s in ws.split_sections(module) if s.id != ws.CUSTOM]
    payload = ws.name(snap.START_FUEL_SECTION) + struct.pack("<Q", 10**12)
    claimed = ws.join_sections([*sections, ws.Section(ws.CUSTOM, payload)])
    assert run(claimed).fuel_used == run(ws.join_sections(sections)).fuel_used
