"""Runtime snapshots: an initialized instance written back as a new module.

Starting an interpreter in WebAssembly (CPython, QuickJS and its prelude) costs
far more than a small handler. So a runtime is built once from its pinned
*base* module: the base runs its initialization in the deterministic WASI host
(fixed arguments, environment, clock and random stream), and its linear memory
and globals at that point become the data segments and global initializers of
a new module whose ``_start`` continues from there. Each run instantiates that
module afresh, so nothing survives a run, and every worker starts from the same
bytes: the snapshot's sha256 is the runtime's identity.

Each runtime decides where its initialization stops and what its ``_start``
calls (:mod:`~peerhost.sandbox.python_snapshot`,
:mod:`~peerhost.sandbox.js_snapshot`); this module holds what they share.

A snapshot may carry a ``peerhost:start-fuel`` custom section: the fuel every
run is charged up front for the start-up the snapshot skips
(:func:`start_fuel`). It is a protocol constant, fixed by the runtime's bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import wasmtime

from peerhost.sandbox import wasm_sections as ws
from peerhost.sandbox.engine import make_engine
from peerhost.sandbox.randomness import RandomStream
from peerhost.sandbox.wasi import RunIO, WasiHost

START_CLOCK_NS = 0
START_SEED = bytes(32)
#: Fuel given to a runtime's initialization at build time.
START_FUEL_BUDGET = 10**10
#: Zero runs at least this long split the memory image into two data segments.
ZERO_GAP = 64
GLOBAL_EXPORT = "peerhost:global:{}"
START_FUEL_SECTION = "peerhost:start-fuel"


class SnapshotError(RuntimeError):
    """The base module did not reach its snapshot point as expected."""


@dataclass(frozen=True, slots=True)
class Image:
    """An instance's state at the snapshot point."""

    memory: bytes
    globals: list[int]
    fuel_used: int


def section(sections: list[ws.Section], section_id: int) -> ws.Section:
    for item in sections:
        if item.id == section_id:
            return item
    raise SnapshotError(f"the module has no section {section_id}")


def probe_module(base: bytes) -> bytes:
    """``base`` without custom sections, with every global exported (to read them)."""
    sections = [s for s in ws.split_sections(base) if s.id != ws.CUSTOM]
    out = []
    for item in sections:
        if item.id == ws.EXPORT:
            exports = ws.read_exports(item.body)
            count = len(ws.read_globals(section(sections, ws.GLOBAL).body))
            exports += [ws.Export(GLOBAL_EXPORT.format(i), 3, i) for i in range(count)]
            item = ws.Section(ws.EXPORT, ws.exports_section(exports))
        out.append(item)
    return ws.join_sections(out)


def start_io(args: list[bytes], env: list[bytes]) -> RunIO:
    """The fixed WASI context of an initialization."""
    return RunIO(
        stdin=b"",
        args=args,
        env=env,
        clock_ns=START_CLOCK_NS,
        random=RandomStream(START_SEED),
        max_stdout=1 << 20,
        max_stderr=1 << 20,
    )


class Boot:
    """A probe module instantiated in the deterministic WASI host, to be initialized.

    Args:
        probe: the base module as :func:`probe_module` returns it.
        host: the WASI host (a subclass may stop the run at its snapshot point).
        io: the initialization's WASI context (:func:`start_io`).
    """

    def __init__(self, probe: bytes, host: WasiHost, io: RunIO) -> None:
        engine = make_engine()
        linker = wasmtime.Linker(engine)
        host.define(linker)
        self.host, self.io = host, io
        self.store = wasmtime.Store(engine)
        self.store.set_fuel(START_FUEL_BUDGET)
        self.store.set_epoch_deadline(1 << 62)
        host.bind(io)
        try:
            self.instance = linker.instantiate(self.store, wasmtime.Module(engine, probe))
        finally:
            host.bind(None)
        self.exports = self.instance.exports(self.store)
        memory = self.exports["memory"]
        if not isinstance(memory, wasmtime.Memory):
            raise SnapshotError("the module exports no memory")
        self.memory = memory
        io.memory = memory

    def call(self, name: str) -> object:
        """Calls the export ``name`` (no arguments) with the WASI context bound."""
        func = self.exports.get(name)
        if not isinstance(func, wasmtime.Func):
            raise SnapshotError(f"the module exports no function {name}")
        self.host.bind(self.io)
        try:
            return func(self.store)
        finally:
            self.host.bind(None)

    def image(self) -> Image:
        """The instance's memory and globals now, and the fuel spent so far."""
        values = []
        index = 0
        while True:
            item = self.exports.get(GLOBAL_EXPORT.format(index))
            if item is None:
                break
            assert isinstance(item, wasmtime.Global)
            value = item.value(self.store)
            assert isinstance(value, int)
            values.append(value)
            index += 1
        data = self.memory.read(self.store, 0, self.memory.data_len(self.store))
        return Image(bytes(data), values, START_FUEL_BUDGET - self.store.get_fuel())


def segments(memory: bytes) -> list[tuple[int, bytes]]:
    """The non-zero stretches of ``memory`` (zero runs shorter than ZERO_GAP kept)."""
    found = []
    pos, size = 0, len(memory)
    zeros = b"\0" * ZERO_GAP
    while pos < size:
        while pos < size and memory[pos] == 0:
            pos += 1
        if pos >= size:
            break
        end = memory.find(zeros, pos)
        end = size if end < 0 else end
        found.append((pos, memory[pos:end]))
        pos = end
    return found


def import_index(probe: bytes, wanted: str) -> int:
    """The function index of the import ``wanted`` (only function imports expected)."""
    reader = ws.Reader(section(ws.split_sections(probe), ws.IMPORT).body)
    for index in range(reader.uleb()):
        reader.name()
        field = reader.name()
        if reader.byte() != 0:
            raise SnapshotError("only function imports are expected")
        if field == wanted:
            return index
        reader.uleb()
    raise SnapshotError(f"the module does not import {wanted}")


def export_index(probe: bytes, wanted: str) -> int:
    """The function index of the exported function ``wanted``."""
    for export in ws.read_exports(section(ws.split_sections(probe), ws.EXPORT).body):
        if export.name == wanted and export.kind == 0:
            return export.index
    raise SnapshotError(f"the module exports no function {wanted}")


def type_index(probe: bytes, wanted: ws.FuncType) -> int:
    types = ws.read_types(section(ws.split_sections(probe), ws.TYPE).body)
    if wanted not in types:
        raise SnapshotError(f"the module declares no function type {wanted}")
    return types.index(wanted)


def _mask(valtype: int) -> int:
    return (1 << 32) - 1 if valtype == ws.I32 else (1 << 64) - 1


def _append_body(code: bytes, body: bytes) -> bytes:
    reader = ws.Reader(code)
    count = reader.uleb()
    return ws.uleb(count + 1) + code[reader.pos :] + ws.uleb(len(body)) + body


def snapshot_module(
    probe: bytes, image: Image, start_body: bytes, *, start_fuel: int | None = None
) -> bytes:
    """The module that starts from ``image``.

    Its memory holds ``image.memory`` and its globals start at ``image.globals``;
    it exports only ``memory`` and ``_start``, a new function of type ``[] -> []``
    whose body (locals and ``end`` included) is ``start_body``. With
    ``start_fuel``, a ``peerhost:start-fuel`` section records the per-run charge.
    """
    sections = ws.split_sections(probe)
    imports = ws.count_imports(section(sections, ws.IMPORT).body)
    functions = ws.read_function_types(section(sections, ws.FUNCTION).body)
    void_type = type_index(probe, ws.FuncType(b"", b""))
    start_index = imports[0] + len(functions)
    old_globals = ws.read_globals(section(sections, ws.GLOBAL).body)
    new_globals = [
        ws.Global(g.valtype, g.mutable, ws.const_init(g.valtype, value & _mask(g.valtype)))
        for g, value in zip(old_globals, image.globals, strict=True)
    ]
    _, maximum = ws.read_memory(section(sections, ws.MEMORY).body)
    pages = len(image.memory) // 65536
    out = []
    for item in sections:
        if item.id == ws.FUNCTION:
            item = ws.Section(ws.FUNCTION, ws.vec([ws.uleb(t) for t in [*functions, void_type]]))
        elif item.id == ws.MEMORY:
            item = ws.Section(ws.MEMORY, ws.memory_section(pages, maximum))
        elif item.id == ws.GLOBAL:
            item = ws.Section(ws.GLOBAL, ws.globals_section(new_globals))
        elif item.id == ws.EXPORT:
            exports = [ws.Export("memory", 2, 0), ws.Export("_start", 0, start_index)]
            item = ws.Section(ws.EXPORT, ws.exports_section(exports))
        elif item.id == ws.CODE:
            item = ws.Section(ws.CODE, _append_body(item.body, start_body))
            if not any(other.id == ws.DATA for other in sections):  # a base without data
                out.append(item)
                item = ws.Section(ws.DATA, ws.data_section(segments(image.memory)))
        elif item.id == ws.DATA:
            item = ws.Section(ws.DATA, ws.data_section(segments(image.memory)))
        elif item.id in (ws.START, ws.DATACOUNT):
            raise SnapshotError("a start or data-count section is not expected")
        out.append(item)
    if start_fuel is not None:
        payload = ws.name(START_FUEL_SECTION) + struct.pack("<Q", start_fuel)
        out.append(ws.Section(ws.CUSTOM, payload))
    return ws.join_sections(out)


def start_fuel(module: bytes) -> int:
    """The per-run start-up charge a runtime snapshot records (0 if none)."""
    for item in ws.split_sections(module):
        if item.id != ws.CUSTOM:
            continue
        reader = ws.Reader(item.body)
        if reader.name() == START_FUEL_SECTION:
            value: int = struct.unpack("<Q", reader.take(8))[0]
            return value
    return 0
