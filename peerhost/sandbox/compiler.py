"""Compiles one module in a child process: ``python -m peerhost.sandbox.compiler``.

Compiling hostile code is bounded from outside: the parent kills this process
after its timeout, and it caps its own address space before compiling. It
writes the serialized module (``Module.serialize()``) for the parent to cache.

Usage: ``python -m peerhost.sandbox.compiler IN.wasm OUT.cwasm ADDRESS_SPACE_BYTES``
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

import wasmtime

from peerhost.sandbox.engine import make_engine

EXIT_COMPILE_ERROR = 3


def compile_to_file(source: Path, target: Path) -> None:
    module = wasmtime.Module(make_engine(), source.read_bytes())
    target.write_bytes(module.serialize())


def main(argv: list[str]) -> int:
    source, target, address_space = Path(argv[0]), Path(argv[1]), int(argv[2])
    if address_space > 0:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    try:
        compile_to_file(source, target)
    except (wasmtime.WasmtimeError, MemoryError) as exc:
        print(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, file=sys.stderr)
        return EXIT_COMPILE_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
