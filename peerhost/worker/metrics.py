"""What the node counts and times, as served by ``GET /metrics``.

Counters are lifetime totals kept in the state file (they survive restarts); latencies are the
recent samples of this process.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from typing import Any

from peerhost.worker.state import WorkerState

COUNTERS = (
    "seen",  # ExecutionRequested events handled
    "run",  # sandbox runs finished
    "skipped",  # jobs not answerable honestly (no code, backstop fired, bad input)
    "committed",  # commitments mined
    "revealed",  # reveals mined
    "won",  # requests where this worker was the fastest correct committer
    "agreed",  # requests this worker was paid for
    "slashed",  # slashes of this worker
    "missed",  # jobs run but not committed in time (the commit phase closed first)
    "finalized",  # finalize transactions this worker sent that settled a request
    "posted",  # outputs accepted by a result inbox
    "post_refused",  # outputs an inbox refused (4xx)
    "earned_wei",  # rewards credited to this worker
    "slashed_wei",  # stake slashed from this worker
    "withdrawn_wei",  # rewards withdrawn
)

_SAMPLES = 2048


class Metrics:
    """Counters (persisted) and latency samples (in memory)."""

    def __init__(self, state: WorkerState) -> None:
        self.state = state
        self.started = time.time()
        self.execution_ms: deque[float] = deque(maxlen=_SAMPLES)
        self.end_to_end_ms: deque[float] = deque(maxlen=_SAMPLES)
        self.commit_ms: deque[float] = deque(maxlen=_SAMPLES)
        self.timings: dict[str, float] = {
            "rpc": 0.0,  # reads, signing and sending
            "inclusion": 0.0,  # waiting for transactions to be mined
            "sandbox": 0.0,
            "fetch": 0.0,
            "waiting": 0.0,  # waiting for a phase to open (events or deadlines)
        }
        self.in_flight = 0
        self.connected = False
        self.reconnects = 0

    def add(self, name: str, amount: int = 1) -> None:
        self.state.add(name, amount)

    def spent(self, what: str, seconds: float) -> None:
        """Adds wall time spent in ``what`` (rpc, inclusion, sandbox, fetch, waiting)."""
        self.timings[what] = self.timings.get(what, 0.0) + seconds

    def snapshot(self) -> dict[str, Any]:
        counters = {name: 0 for name in COUNTERS}
        counters.update(self.state.counters())
        return {
            **{k: counters[k] for k in COUNTERS},
            "in_flight": self.in_flight,
            "connected": self.connected,
            "reconnects": self.reconnects,
            "uptime_s": round(time.time() - self.started, 3),
            "execution_ms_p50": _median(self.execution_ms),
            "end_to_end_ms_p50": _median(self.end_to_end_ms),
            "commit_ms_p50": _median(self.commit_ms),
            "time_s": {k: round(v, 6) for k, v in self.timings.items()},
            "jobs_by_status": self.state.count_by_status(),
        }


def _median(samples: deque[float]) -> float | None:
    return round(statistics.median(samples), 3) if samples else None
