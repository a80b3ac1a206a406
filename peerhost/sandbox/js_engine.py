"""The shared JavaScript runtime: QuickJS-NG compiled to a WASI command.

Built reproducibly by ``tools/quickjs/build.sh`` (pinned source, pinned
toolchain); its sha256 below is the engine's identity, checked on load, and
part of the protocol: all workers run user JavaScript on these exact bytes.

The engine reads on stdin a u32 little-endian source length, the user's ES
module source, then the canonical request; it exits 0 with the handler's
JSON response on stdout, or 3 (the function threw) / 4 (no handler) with the
error's text as a JSON string on stdout.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

from peerhost.sandbox.errors import JsEngineMismatch, JsEngineNotFound
from peerhost.wire.feed import RUNTIME_ENGINE_SHA256

#: The runtime engines shipped as package data.
ENGINES_DIR = Path(__file__).resolve().parent / "engines"

ENGINE_SHA256 = RUNTIME_ENGINE_SHA256["js"]  # pinned in peerhost.wire.feed
ENGINE_ENV = "PEERHOST_QUICKJS_WASM"
EXIT_THROWN = 3
EXIT_NO_HANDLER = 4


def default_engine_path() -> Path:
    """``$PEERHOST_QUICKJS_WASM``, else the engine shipped in the package.

    In a source checkout ``peerhost/sandbox/engines/quickjs-peerhost.wasm`` is a link to
    ``tools/quickjs/dist``, where the build writes; a built wheel carries the file itself.
    """
    configured = os.environ.get(ENGINE_ENV)
    if configured:
        return Path(configured)
    return ENGINES_DIR / "quickjs-peerhost.wasm"


def load_engine(path: Path | None = None, expected_sha256: str = ENGINE_SHA256) -> bytes:
    """Reads the engine and checks its sha256."""
    path = path or default_engine_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise JsEngineNotFound(path) from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise JsEngineMismatch(path, expected_sha256, actual)
    return data


def engine_stdin(source: bytes, request: bytes) -> bytes:
    """Frames the user's source and the canonical request for the engine."""
    return struct.pack("<I", len(source)) + source + request
