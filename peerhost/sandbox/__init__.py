"""Deterministic wasmtime sandbox for PeerHost functions.

    from peerhost.sandbox import Sandbox, Limits, RunRequest
    result = Sandbox(cache_dir=path).run(RunRequest(runtime="wasi", code=..., ...))
    keccak256(result.envelope)  # what workers commit

See docs/functions.md for the function ABI and the envelope format.
"""

from __future__ import annotations

from peerhost.sandbox.abi import canonical_request
from peerhost.sandbox.envelope import Envelope, ErrorKind, decode_envelope
from peerhost.sandbox.limits import Limits
from peerhost.sandbox.pool import SandboxPool
from peerhost.sandbox.request import RunRequest, RunResult
from peerhost.sandbox.sandbox import Sandbox

__all__ = [
    "Envelope",
    "ErrorKind",
    "Limits",
    "RunRequest",
    "RunResult",
    "Sandbox",
    "SandboxPool",
    "canonical_request",
    "decode_envelope",
]
