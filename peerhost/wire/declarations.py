"""What a function's code declares about itself, embedded in the code so its CID binds it.

Two declarations: the extra request ``headers`` the function receives (project.json's
``"headers"``), and its ``schedule`` (project.json's ``"schedule"``, a cron expression, see
:mod:`peerhost.wire.schedule`). The gateway reads them from the code of the active version (by
CID, from the content store): it keeps those headers in the canonical request and runs the
schedule; nothing else changes on-chain, and a new declaration is a new version (the code, hence
the CID, changes).

Where it lives:

- ``js``: the bundle's first line, ``// peerhost-function {"headers":["stripe-signature"]}``
  (written as esbuild's banner, so the source map accounts for it);
- ``wasi``: a custom section named ``peerhost-function`` holding the same JSON (ignored by
  every WebAssembly engine, the sandbox included);
- ``python``: the source's last line, ``# peerhost-function {"headers":[...]}`` (a comment,
  appended so that the author's line numbers stay as written);
- ``clf``: the source's last line, ``// peerhost-function {...}`` (likewise).

Code without a declaration declares nothing (no extra headers).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

JS_PREFIX = b"// peerhost-function "
PYTHON_PREFIX = b"# peerhost-function "
WASM_SECTION = b"peerhost-function"
_WASM_MAGIC = b"\0asm\x01\0\0\0"
HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9a-z]{1,64}$")
MAX_HEADERS = 32


@dataclass(frozen=True)
class Declarations:
    """A function's declarations: ``headers``, lowercase names, sorted; its ``schedule``."""

    headers: tuple[str, ...] = ()
    schedule: str | None = None

    def __bool__(self) -> bool:
        return bool(self.headers) or self.schedule is not None

    def to_json(self) -> bytes:
        doc: dict[str, object] = {"headers": list(self.headers)}
        if self.schedule is not None:  # absent otherwise: older code keeps its bytes and CID
            doc["schedule"] = self.schedule
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Declarations:
        """Parses a declaration; anything malformed declares nothing (the gateway fails closed)."""
        try:
            doc = json.loads(data)
        except ValueError:
            return cls()
        if not isinstance(doc, dict):
            return cls()
        names = doc.get("headers")
        valid = (
            {n for n in names if isinstance(n, str) and HEADER_NAME.match(n)}
            if isinstance(names, list)
            else set()
        )
        schedule = doc.get("schedule")
        return cls(
            tuple(sorted(valid))[:MAX_HEADERS],
            schedule if isinstance(schedule, str) and len(schedule) <= 128 else None,
        )


def js_banner(declarations: Declarations) -> str:
    """The first line of a js bundle (without the newline)."""
    return (JS_PREFIX + declarations.to_json()).decode()


def _leb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_leb(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while at < len(data) and shift < 35:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
    raise ValueError("bad LEB128")


def add_wasm_section(module: bytes, declarations: Declarations) -> bytes:
    """Appends the ``peerhost-function`` custom section to a wasm module."""
    payload = _leb(len(WASM_SECTION)) + WASM_SECTION + declarations.to_json()
    return module + b"\0" + _leb(len(payload)) + payload


def add_python_line(source: bytes, declarations: Declarations) -> bytes:
    """Appends the declaration comment as the last line of a Python source."""
    if source and not source.endswith(b"\n"):
        source += b"\n"
    return source + PYTHON_PREFIX + declarations.to_json() + b"\n"


def add_js_line(source: bytes, declarations: Declarations) -> bytes:
    """Appends the declaration comment as the last line of a clf source."""
    if source and not source.endswith(b"\n"):
        source += b"\n"
    return source + JS_PREFIX + declarations.to_json() + b"\n"


def read(code: bytes) -> Declarations:
    """The declarations embedded in ``code`` (js bundle, wasm module or Python source); none if
    absent."""
    if code.startswith(JS_PREFIX):
        line = code[len(JS_PREFIX) :].split(b"\n", 1)[0]
        return Declarations.from_json(line)
    if code.startswith(_WASM_MAGIC):
        at = len(_WASM_MAGIC)
        try:
            while at < len(code):
                section = code[at]
                size, body = _read_leb(code, at + 1)
                end = body + size
                if section == 0:
                    name_len, name_at = _read_leb(code, body)
                    if code[name_at : name_at + name_len] == WASM_SECTION:
                        return Declarations.from_json(code[name_at + name_len : end])
                at = end
        except (ValueError, IndexError):
            return Declarations()
        return Declarations()
    last = code.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    for prefix in (PYTHON_PREFIX, JS_PREFIX):
        if last.startswith(prefix):
            return Declarations.from_json(last[len(prefix) :])
    return Declarations()
