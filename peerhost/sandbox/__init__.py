"""Deterministic wasmtime sandbox for PeerHost functions.

    from peerhost.sandbox import Sandbox, Limits, RunRequest
    result = Sandbox(cache_dir=path).run(RunRequest(runtime="wasi", code=..., ...))
    result.result_hash  # keccak256(result.envelope): what workers commit

The byte formats a run reads and writes (the canonical request, the envelope) live in
:mod:`peerhost.wire`; see docs/functions.md.

The names below are imported when first used, so a process that needs one module of the
package (the module compiler's child, :mod:`peerhost.sandbox.compiler`) starts without the wire
formats and their Ethereum libraries: about a second of imports on every cold compile.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from peerhost.sandbox.limits import Limits
    from peerhost.sandbox.pool import SandboxPool
    from peerhost.sandbox.request import RunRequest, RunResult
    from peerhost.sandbox.sandbox import Sandbox

_HOMES = {
    "Limits": "peerhost.sandbox.limits",
    "RunRequest": "peerhost.sandbox.request",
    "RunResult": "peerhost.sandbox.request",
    "Sandbox": "peerhost.sandbox.sandbox",
    "SandboxPool": "peerhost.sandbox.pool",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'peerhost.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


__all__ = [
    "Limits",
    "RunRequest",
    "RunResult",
    "Sandbox",
    "SandboxPool",
]
