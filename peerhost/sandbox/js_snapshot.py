"""Builds the JavaScript runtime: QuickJS-NG with its prelude, snapshotted once initialized.

Starting QuickJS and evaluating the prelude (``tools/quickjs/prelude.js``: the
web APIs and handler shapes) costs about 5.7 million fuel and most of a
millisecond, on every call. So the shipped engine is a *snapshot* (see
:mod:`peerhost.sandbox.snapshot`): the reactor built by ``tools/quickjs/build.sh``
runs ``_initialize`` (libc's constructors) and ``peerhost_init`` (engine,
native helpers, prelude) once in the deterministic WASI host; the builder
writes a module whose memory and globals are the engine's at that point and
whose ``_start`` calls ``peerhost_run`` and exits with its code.

The fuel that initialization spent is recorded in the module
(``peerhost:start-fuel``) and charged on every run before the function starts,
so the fuel a call costs stays what it was without the snapshot: a protocol
constant, the same on every worker.

Usage: ``python -m peerhost.sandbox.js_snapshot BASE.wasm OUT.wasm``
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import wasmtime

from peerhost.sandbox import snapshot as snap
from peerhost.sandbox import wasm_sections as ws
from peerhost.sandbox.engine import make_engine
from peerhost.sandbox.snapshot import SnapshotError
from peerhost.sandbox.wasi import WasiHost

ARGS = [b"quickjs"]


def _start_body(probe: bytes) -> bytes:
    """``_start``: ``proc_exit(peerhost_run())``."""
    run = snap.export_index(probe, "peerhost_run")
    proc_exit = snap.import_index(probe, "proc_exit")
    return b"\x00" + b"\x10" + ws.uleb(run) + b"\x10" + ws.uleb(proc_exit) + b"\x0b"


def build_snapshot(base: bytes) -> bytes:
    """The engine module: the reactor ``base`` initialized and snapshotted."""
    probe = snap.probe_module(base)
    io = snap.start_io(list(ARGS), [])
    boot = snap.Boot(probe, WasiHost(), io)
    boot.call("_initialize")
    code = boot.call("peerhost_init")
    if code != 0:
        raise SnapshotError(f"peerhost_init failed ({code}): {bytes(io.stdout)[-2000:]!r}")
    if io.stdout or io.stderr or io.stdin_pos:
        raise SnapshotError("the initialization used a standard stream")
    image = boot.image()
    return snap.snapshot_module(probe, image, _start_body(probe), start_fuel=image.fuel_used)


def main(argv: list[str]) -> int:
    base, out = Path(argv[0]), Path(argv[1])
    module = build_snapshot(base.read_bytes())
    wasmtime.Module.validate(make_engine(), module)
    out.write_bytes(module)
    print(f"{hashlib.sha256(module).hexdigest()}  {out.name}  start fuel {snap.start_fuel(module)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
