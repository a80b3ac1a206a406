"""Deterministic wasmtime sandbox for PeerHost functions.

    from peerhost.sandbox import Sandbox, Limits, RunRequest
    result = Sandbox(cache_dir=path).run(RunRequest(runtime="wasi", code=..., ...))
    result.result_hash  # keccak256(result.envelope): what workers commit

The byte formats a run reads and writes (the canonical request, the envelope) live in
:mod:`peerhost.wire`; see docs/functions.md.
"""

from __future__ import annotations

from peerhost.sandbox.limits import Limits
from peerhost.sandbox.pool import SandboxPool
from peerhost.sandbox.request import RunRequest, RunResult
from peerhost.sandbox.sandbox import Sandbox

__all__ = [
    "Limits",
    "RunRequest",
    "RunResult",
    "Sandbox",
    "SandboxPool",
]
