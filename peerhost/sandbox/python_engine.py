"""The shared Python runtime: CPython 3.12 for WASI, snapshotted once initialized.

Built reproducibly by ``tools/python/build.sh`` (pinned interpreter, pinned
harness; see :mod:`peerhost.sandbox.python_snapshot`); its sha256 below is the
runtime's identity, checked on load, and part of the protocol: all workers run
user Python on these exact bytes.

The runtime reads on stdin the user's source and the secrets (each framed by a
u32 little-endian length), then the canonical request; it exits 0 with the
handler's JSON response on stdout, or with one of the codes below and the
error's text as a JSON string on stdout.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Mapping
from pathlib import Path

from peerhost.sandbox.errors import PythonRuntimeMismatch, PythonRuntimeNotFound
from peerhost.wire.feed import RUNTIME_ENGINE_SHA256

ENGINE_SHA256 = RUNTIME_ENGINE_SHA256["python"]  # pinned in peerhost.wire.feed
ENGINE_ENV = "PEERHOST_PYTHON_WASM"
EXIT_RAISED = 3
EXIT_NO_HANDLER = 4
EXIT_MEMORY = 5

#: Modules a function may not import, with why: the runtime's harness (``tools/python/harness.py``,
#: its ``FORBIDDEN``) refuses them with ``ImportError``; the publish check (``python-imports``)
#: refuses a file importing them. The two lists are the same (a test compares them).
FORBIDDEN_MODULES: Mapping[str, str] = {
    "socket": "there is no network",
    "_socket": "there is no network",
    "ssl": "there is no network",
    "select": "there is no network",
    "selectors": "there is no network",
    "asyncio": "there is no event loop (async def handler runs without one)",
    "subprocess": "there are no processes",
    "_posixsubprocess": "there are no processes",
    "multiprocessing": "there are no processes",
    "threading": "there are no threads",
    "_thread": "there are no threads",
    "concurrent": "there are no threads",
}
#: Modules CPython for WASI does not build: importing them fails with ModuleNotFoundError.
UNBUILT_MODULES: Mapping[str, str] = dict.fromkeys(
    ("ctypes", "_ctypes", "_multiprocessing", "mmap", "fcntl", "termios", "pty", "resource"),
    "it is not built into the runtime, CPython for WASI",
)


def default_engine_path() -> Path:
    """Where the Python runtime is found, first match wins.

    ``$PEERHOST_PYTHON_WASM``; else ``engines/python-peerhost.wasm`` beside this module (an
    installed package: copy the runtime there, or set the variable); else ``tools/python/dist``
    of the source checkout this module runs from (``tools/python/build.sh`` writes it; it is
    18 MB and not committed, so it is not in the wheel).
    """
    configured = os.environ.get(ENGINE_ENV)
    if configured:
        return Path(configured)
    beside = Path(__file__).resolve().parent / "engines" / "python-peerhost.wasm"
    if beside.exists():
        return beside
    checkout = Path(__file__).resolve().parents[2] / "tools" / "python" / "dist"
    return checkout / "python-peerhost.wasm"


def load_engine(path: Path | None = None, expected_sha256: str = ENGINE_SHA256) -> bytes:
    """Reads the runtime and checks its sha256."""
    path = path or default_engine_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PythonRuntimeNotFound(path) from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise PythonRuntimeMismatch(path, expected_sha256, actual)
    return data


def engine_stdin(source: bytes, env: Mapping[str, str], request: bytes) -> bytes:
    """Frames the user's source, the secrets and the canonical request for the runtime.

    The secrets travel on stdin because the snapshot's ``os.environ`` was
    built before the run; the harness replaces it with these.
    """
    secrets = json.dumps(dict(sorted(env.items())), separators=(",", ":")).encode()
    return (
        struct.pack("<I", len(source))
        + source
        + struct.pack("<I", len(secrets))
        + secrets
        + request
    )
