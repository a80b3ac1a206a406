"""What a run is given, and what it gives back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from peerhost.sandbox.limits import Limits
from peerhost.wire.envelope import Envelope, decode_envelope, result_hash

RUNTIMES = ("wasi", "js", "python", "clf")
#: Runtimes that run on the QuickJS engine (clf sources are wrapped into a js module first).
JS_RUNTIMES = ("js", "clf")


@dataclass(frozen=True, slots=True)
class RunRequest:
    """One execution of a function on one input.

    Attributes:
        runtime: "wasi" (code is a WASI preview1 command module), "js" (code
            is ES module source exporting ``handler``), "python" (code is a
            Python module defining ``handler(req)``) or "clf" (a Chainlink-Functions-style
            source, see :mod:`peerhost.sandbox.clf`).
        code: the function's code, as fetched by CID.
        code_id: a stable id of the code (its CID); informational, the cache
            keys on the code's own sha256.
        input: the canonical request bytes (see :mod:`peerhost.wire.request`).
        env: environment variables (secrets) the function may read.
        request_id: the 32-byte on-chain request id; seeds WASI random.
        block_timestamp: seconds; what every WASI clock reads.
        limits: resource limits of the run.
    """

    runtime: str
    code: bytes
    code_id: str
    input: bytes
    env: Mapping[str, str] = field(default_factory=dict)
    request_id: bytes = bytes(32)
    block_timestamp: int = 0
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True, slots=True)
class RunResult:
    """The outcome of a run.

    Attributes:
        envelope: canonical bytes; ``resultHash = keccak256(envelope)``.
        committable: False when the wall-clock backstop fired (or the host
            could not compile the code in time): such a result is never committed.
        logs: the function's stderr, capped; not part of the envelope.
        fuel_used: fuel the run consumed (also when the envelope reports null).
        duration_seconds: wall time of the run, for metrics only.
    """

    envelope: bytes
    committable: bool
    logs: bytes
    fuel_used: int
    duration_seconds: float = 0.0

    @property
    def decoded(self) -> Envelope:
        return decode_envelope(self.envelope)

    @property
    def result_hash(self) -> bytes:
        """keccak256 of the envelope: the value committed on-chain."""
        return result_hash(self.envelope)
