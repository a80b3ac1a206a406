"""Just enough of the WebAssembly binary format to rewrite a module's sections.

Used to build the Python runtime's snapshot (:mod:`peerhost.sandbox.python_snapshot`):
split a module into sections, read and write LEB128 numbers, and list the
entries of the few sections that are rewritten (types, functions, globals,
memories, exports).
"""

from __future__ import annotations

from dataclasses import dataclass

MAGIC = b"\0asm\x01\0\0\0"

CUSTOM, TYPE, IMPORT, FUNCTION, TABLE, MEMORY, GLOBAL, EXPORT, START, ELEMENT = range(10)
CODE, DATA, DATACOUNT = 10, 11, 12

I32, I64, F32, F64 = 0x7F, 0x7E, 0x7D, 0x7C
END = 0x0B


class WasmFormatError(ValueError):
    """The bytes are not the kind of module this reader understands."""


def uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        done = (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40)
        out.append(byte if done else byte | 0x80)
        if done:
            return bytes(out)


def vec(items: list[bytes]) -> bytes:
    return uleb(len(items)) + b"".join(items)


def name(text: str) -> bytes:
    raw = text.encode()
    return uleb(len(raw)) + raw


class Reader:
    """A cursor over bytes."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise WasmFormatError("unexpected end of data")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise WasmFormatError("unexpected end of data")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def uleb(self) -> int:
        result = shift = 0
        while True:
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return result

    def sleb(self) -> int:
        result = shift = 0
        while True:
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                if byte & 0x40:
                    result -= 1 << shift
                return result

    def name(self) -> str:
        return self.take(self.uleb()).decode()

    def const_expr(self) -> bytes:
        """The raw bytes of a constant expression, ``end`` included."""
        start = self.pos
        while True:
            op = self.byte()
            if op == END:
                return self.data[start : self.pos]
            if op in (0x41, 0x42):  # i32.const, i64.const
                self.sleb()
            elif op == 0x43:
                self.take(4)
            elif op == 0x44:
                self.take(8)
            elif op in (0x23, 0xD2):  # global.get, ref.func
                self.uleb()
            elif op == 0xD0:  # ref.null
                self.byte()
            else:
                raise WasmFormatError(f"unsupported opcode 0x{op:02x} in a constant expression")

    @property
    def done(self) -> bool:
        return self.pos >= len(self.data)


@dataclass(frozen=True, slots=True)
class Section:
    id: int
    body: bytes

    def encode(self) -> bytes:
        return bytes([self.id]) + uleb(len(self.body)) + self.body


def split_sections(module: bytes) -> list[Section]:
    if module[:8] != MAGIC:
        raise WasmFormatError("not a WebAssembly 1.0 binary module")
    reader = Reader(module, 8)
    sections = []
    while not reader.done:
        section_id = reader.byte()
        sections.append(Section(section_id, reader.take(reader.uleb())))
    return sections


def join_sections(sections: list[Section]) -> bytes:
    return MAGIC + b"".join(section.encode() for section in sections)


@dataclass(frozen=True, slots=True)
class FuncType:
    params: bytes
    results: bytes


def read_types(body: bytes) -> list[FuncType]:
    reader = Reader(body)
    types = []
    for _ in range(reader.uleb()):
        if reader.byte() != 0x60:
            raise WasmFormatError("only function types are supported")
        params = reader.take(reader.uleb())
        results = reader.take(reader.uleb())
        types.append(FuncType(params, results))
    return types


def count_imports(body: bytes) -> dict[int, int]:
    """How many imported functions (0), tables (1), memories (2) and globals (3)."""
    reader = Reader(body)
    counts = {0: 0, 1: 0, 2: 0, 3: 0}
    for _ in range(reader.uleb()):
        reader.name()
        reader.name()
        kind = reader.byte()
        counts[kind] += 1
        if kind == 0:
            reader.uleb()
        elif kind == 1:
            reader.byte()
            _limits(reader)
        elif kind == 2:
            _limits(reader)
        elif kind == 3:
            reader.take(2)
        else:
            raise WasmFormatError(f"unknown import kind {kind}")
    return counts


def _limits(reader: Reader) -> tuple[int, int | None]:
    flags = reader.byte()
    if flags not in (0, 1):
        raise WasmFormatError("only 32-bit unshared memories and tables are supported")
    minimum = reader.uleb()
    return minimum, reader.uleb() if flags == 1 else None


def read_function_types(body: bytes) -> list[int]:
    reader = Reader(body)
    return [reader.uleb() for _ in range(reader.uleb())]


def read_memory(body: bytes) -> tuple[int, int | None]:
    reader = Reader(body)
    if reader.uleb() != 1:
        raise WasmFormatError("expected exactly one memory")
    return _limits(reader)


def memory_section(minimum: int, maximum: int | None) -> bytes:
    if maximum is None:
        return uleb(1) + b"\x00" + uleb(minimum)
    return uleb(1) + b"\x01" + uleb(minimum) + uleb(maximum)


@dataclass(frozen=True, slots=True)
class Global:
    valtype: int
    mutable: bool
    init: bytes


def read_globals(body: bytes) -> list[Global]:
    reader = Reader(body)
    result = []
    for _ in range(reader.uleb()):
        valtype, mutable = reader.byte(), reader.byte()
        result.append(Global(valtype, bool(mutable), reader.const_expr()))
    return result


def globals_section(items: list[Global]) -> bytes:
    return vec([bytes([g.valtype, int(g.mutable)]) + g.init for g in items])


def const_init(valtype: int, value: int) -> bytes:
    """A constant expression giving an i32 or i64 ``value``."""
    if valtype == I32:
        signed = value - (1 << 32) if value >= 1 << 31 else value
        return b"\x41" + sleb(signed) + bytes([END])
    if valtype == I64:
        signed = value - (1 << 64) if value >= 1 << 63 else value
        return b"\x42" + sleb(signed) + bytes([END])
    raise WasmFormatError("only i32 and i64 globals can be snapshotted")


@dataclass(frozen=True, slots=True)
class Export:
    name: str
    kind: int  # 0 func, 1 table, 2 memory, 3 global
    index: int


def read_exports(body: bytes) -> list[Export]:
    reader = Reader(body)
    return [Export(reader.name(), reader.byte(), reader.uleb()) for _ in range(reader.uleb())]


def exports_section(items: list[Export]) -> bytes:
    return vec([name(e.name) + bytes([e.kind]) + uleb(e.index) for e in items])


def data_section(segments: list[tuple[int, bytes]]) -> bytes:
    """Active segments of memory 0 at the given offsets."""
    return vec(
        [b"\x00" + const_init(I32, offset) + uleb(len(data)) + data for offset, data in segments]
    )
