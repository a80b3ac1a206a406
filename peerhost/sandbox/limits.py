"""Per-run resource limits.

Every limit except ``wall_clock_seconds`` is part of the protocol: it decides
*where* a run fails, so all workers must use the same values for a function
version (the registry snapshots them with the version). ``wall_clock_seconds``
is a local backstop only: a run stopped by it yields no committable result.
"""

from __future__ import annotations

from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits of one run.

    Attributes:
        fuel: WebAssembly fuel (about one unit per instruction, plus host-call
            charges). The JS engine spends about 2 million starting up.
        memory_bytes: cap on linear memory; growth past it fails (``memory.grow``
            returns -1) the same way on every worker.
        max_output_bytes: cap on stdout; writing past it fails the run.
        max_log_bytes: cap on captured stderr; the rest is dropped silently.
        max_input_bytes: cap on the canonical request given on stdin.
        max_code_bytes: cap on the function's code (wasm module or JS source).
        wall_clock_seconds: local backstop (epoch interruption); never committed.
    """

    fuel: int = 500_000_000
    memory_bytes: int = 64 * MiB
    max_output_bytes: int = 1 * MiB
    max_log_bytes: int = 64 * KiB
    max_input_bytes: int = 1 * MiB
    max_code_bytes: int = 8 * MiB
    wall_clock_seconds: float = 10.0

    def __post_init__(self) -> None:
        for name in (
            "fuel",
            "memory_bytes",
            "max_output_bytes",
            "max_log_bytes",
            "max_input_bytes",
            "max_code_bytes",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Limits.{name} must be a non-negative int, got {value!r}")
        if not self.wall_clock_seconds > 0:
            raise ValueError("Limits.wall_clock_seconds must be positive")
