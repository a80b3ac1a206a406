"""What the node counts and times: Prometheus text at ``GET /metrics``, JSON at ``/metrics.json``.

Counters are lifetime totals kept in the state file (they survive restarts); latencies are the
recent samples of this process, and also Prometheus histograms (sandbox run, job end to end).
In the text format every counter is ``peerhost_worker_<name>_total`` (wei amounts as
``..._wei_total``), beside ``peerhost_worker_time_seconds_total{part}`` (where the time went),
``peerhost_worker_jobs{status}`` (jobs in the state file), ``peerhost_worker_stake_wei``,
``peerhost_worker_fuel_used_total``, ``peerhost_worker_rpc_errors_total``,
``peerhost_worker_rpc_calls_total{method}``, ``peerhost_worker_duty_reverted_total{step}``
(committee transactions the chain refused, by step: commit, reveal, seat, finalize, ...),
``peerhost_worker_reconnects_total``, ``peerhost_worker_in_flight`` and
``peerhost_worker_connected``. On the ticket path (this process's counts):
``peerhost_worker_attestations_given_total`` and ``peerhost_worker_tickets_refused_total``; ticket
runs feed the sandbox histogram, fuel and time like per-request jobs. Read from the settlement
contracts: ``peerhost_worker_bonded_stake_wei``, ``peerhost_worker_settlement_earned_wei_total``,
``peerhost_worker_settlement_slashed_total`` and ``..._slashed_wei_total``.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

from prometheus_client import Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from peerhost.chain.rpc import RpcClient
from peerhost.metrics import LATENCY_BUCKETS, new_registry, render
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
        self.fuel_used = 0
        self.stake_wei: int | None = None  # known once registered; slashes lower it
        self.attestations = 0  # tickets run and attested (the ticket path)
        self.tickets_refused = 0  # tickets refused: a failed check or no deterministic result
        # the settlement contracts (ticket path), read from the chain (Credited, StakeSlashed)
        self.bonded_stake_wei: int | None = None
        self.settlement_earned_wei = 0
        self.settlement_slashes = 0
        self.settlement_slashed_wei = 0
        self.rpc: RpcClient | None = None  # its error count is reported
        # the committee's transactions the chain refused, by step (the committee's own dict)
        self.duty_reverted: dict[str, int] = {}
        self.registry = new_registry()
        self._run_seconds = Histogram(
            "peerhost_worker_sandbox_run_seconds",
            "Wall time of one sandbox run.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._job_seconds = Histogram(
            "peerhost_worker_job_duration_seconds",
            "Time from a job's start to its settlement (jobs that reached DONE).",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_Live(self))

    def add(self, name: str, amount: int = 1) -> None:
        self.state.add(name, amount)

    def executed(self, run_seconds: float, fuel_used: int) -> None:
        """Records one finished sandbox run."""
        self.execution_ms.append(run_seconds * 1000)
        self._run_seconds.observe(run_seconds)
        self.fuel_used += fuel_used

    def job_done(self, seconds: float) -> None:
        """Records one job taken to DONE."""
        self.end_to_end_ms.append(seconds * 1000)
        self._job_seconds.observe(seconds)

    def slashed(self, amount: int) -> None:
        self.add("slashed")
        self.add("slashed_wei", amount)
        if self.stake_wei is not None:
            self.stake_wei = max(0, self.stake_wei - amount)

    def exposition(self) -> bytes:
        """The Prometheus text format of everything above."""
        return render(self.registry)

    def spent(self, what: str, seconds: float) -> None:
        """Adds wall time spent in ``what`` (rpc, inclusion, sandbox, fetch, waiting)."""
        self.timings[what] = self.timings.get(what, 0.0) + seconds

    def snapshot(self) -> dict[str, Any]:
        counters = {name: 0 for name in COUNTERS}
        counters.update(self.state.counters())
        return {
            **{k: counters[k] for k in COUNTERS},
            "in_flight": self.in_flight,
            "attestations": self.attestations,
            "tickets_refused": self.tickets_refused,
            "bonded_stake_wei": self.bonded_stake_wei,
            "settlement_earned_wei": self.settlement_earned_wei,
            "settlement_slashes": self.settlement_slashes,
            "settlement_slashed_wei": self.settlement_slashed_wei,
            "fuel_used": self.fuel_used,
            "stake_wei": self.stake_wei,
            "rpc_errors": self.rpc.errors if self.rpc is not None else 0,
            "rpc_requests": self.rpc.requests if self.rpc is not None else 0,
            "rpc_calls": dict(self.rpc.calls) if self.rpc is not None else {},
            "duty_reverted": dict(self.duty_reverted),
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


class _Live(Collector):
    """The node's counters and gauges, read at each scrape."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        m = self.metrics
        counters = {name: 0 for name in COUNTERS}
        counters.update(m.state.counters())
        for name, value in sorted(counters.items()):
            yield _counter(f"peerhost_worker_{name}", f"Lifetime count: {name}.", value)
        yield _counter("peerhost_worker_fuel_used", "Fuel burnt in the sandbox.", m.fuel_used)
        yield _counter("peerhost_worker_reconnects", "Log-stream reconnects.", m.reconnects)
        yield _counter("peerhost_worker_attestations_given", "Tickets attested.", m.attestations)
        yield _counter("peerhost_worker_tickets_refused", "Tickets refused.", m.tickets_refused)
        yield _counter(
            "peerhost_worker_settlement_earned_wei",
            "Credited by the settlement contract (seats, attestations, refunds).",
            m.settlement_earned_wei,
        )
        yield _counter("peerhost_worker_settlement_slashed", "Stake slashes.", m.settlement_slashes)
        yield _counter(
            "peerhost_worker_settlement_slashed_wei", "Stake slashed.", m.settlement_slashed_wei
        )
        errors = m.rpc.errors if m.rpc is not None else 0
        yield _counter("peerhost_worker_rpc_errors", "Failed chain calls.", errors)
        calls = CounterMetricFamily(
            "peerhost_worker_rpc_calls",
            "JSON-RPC calls to the chain, by method.",
            labels=["method"],
        )
        for method, count in sorted(m.rpc.calls.items() if m.rpc is not None else []):
            calls.add_metric([method], count)
        yield calls
        reverted = CounterMetricFamily(
            "peerhost_worker_duty_reverted",
            "Committee transactions the chain refused, by step.",
            labels=["step"],
        )
        for step, count in sorted(m.duty_reverted.items()):
            reverted.add_metric([step], count)
        yield reverted
        spent = CounterMetricFamily(
            "peerhost_worker_time_seconds", "Wall time spent, by part.", labels=["part"]
        )
        for part, seconds in sorted(m.timings.items()):
            spent.add_metric([part], seconds)
        yield spent
        jobs = GaugeMetricFamily("peerhost_worker_jobs", "Jobs by status.", labels=["status"])
        for status, count in sorted(m.state.count_by_status().items()):
            jobs.add_metric([status], count)
        yield jobs
        yield _gauge("peerhost_worker_in_flight", "Jobs in the sandbox now.", m.in_flight)
        yield _gauge("peerhost_worker_connected", "1 while the log stream is live.", m.connected)
        yield _gauge("peerhost_worker_start_time_seconds", "Unix time the node started.", m.started)
        if m.stake_wei is not None:
            yield _gauge("peerhost_worker_stake_wei", "This worker's stake.", m.stake_wei)
        if m.bonded_stake_wei is not None:
            yield _gauge(
                "peerhost_worker_bonded_stake_wei",
                "This worker's bonded stake in the StakeRegistry.",
                m.bonded_stake_wei,
            )


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=float(value))


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=float(value))
