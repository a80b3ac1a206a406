"""What the gateway counts and times, served as Prometheus text at ``GET /metrics``.

Counted as calls finish: ``peerhost_gateway_requests_total{function,mode,status}`` and the
latency histogram ``peerhost_gateway_request_duration_seconds{mode}``. Read from the running
gateway at scrape time: requests in flight, waiters, transactions and batches sent, log-stream
reconnects, RPC errors, and ``peerhost_gateway_rpc_calls_total{method}`` (JSON-RPC calls to the
chain by method, each call of a batch counted). ``function`` is ``wallet/project/function`` for calls that reached the
chain and ``-`` for calls refused before (unknown functions, limits), so strangers cannot grow
the label set. The last calls are also kept in memory (:attr:`GatewayMetrics.recent`) for the
status page's latency chart.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from prometheus_client import Counter, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from peerhost.metrics import CONTENT_TYPE, LATENCY_BUCKETS, Live, Reading, new_registry, render

#: Calls kept for the latency chart.
RECENT_CALLS = 512


@dataclass(frozen=True)
class CallSample:
    """One finished call, for the status page."""

    at: float
    function: str
    mode: str
    status: int
    latency_ms: float


#: How often :class:`LoopLag` asks to be woken (seconds), and the lag it counts as late.
LAG_INTERVAL = 0.02
LAG_LATE = 0.002


class LoopLag:
    """How late the event loop wakes a task that sleeps :data:`LAG_INTERVAL` seconds: the time
    the loop spent running something else (a handler, a poster tick, a scrape) when it was due.
    Lifetime totals, so a scrape before and after a phase gives its mean lag and late share."""

    def __init__(self) -> None:
        self.checks = 0
        self.late = 0  # wakes more than LAG_LATE behind
        self.total = 0.0  # seconds behind, summed
        self.worst = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + LAG_INTERVAL
            await asyncio.sleep(LAG_INTERVAL)
            lag = max(0.0, loop.time() - due)
            self.checks += 1
            self.total += lag
            self.late += lag > LAG_LATE
            self.worst = max(self.worst, lag)


class ByLabel(Collector):
    """A counter family with one label whose values come from ``read()`` at each scrape."""

    def __init__(
        self, name: str, doc: str, label: str, read: Callable[[], Mapping[str, int]]
    ) -> None:
        self.name, self.doc, self.label, self.read = name, doc, label, read

    def collect(self) -> Iterable[CounterMetricFamily]:
        family = CounterMetricFamily(self.name, self.doc, labels=[self.label])
        for value, count in sorted(self.read().items()):
            family.add_metric([value], count)
        yield family


class GatewayMetrics:
    """The gateway's registry; :meth:`watch` adds the values read from the running parts."""

    def __init__(self) -> None:
        self.registry = new_registry()
        self.requests = Counter(
            "peerhost_gateway_requests",
            "Function calls answered, by function, mode and HTTP status.",
            ["function", "mode", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "peerhost_gateway_request_duration_seconds",
            "Time from a call's arrival to its answer, by mode.",
            ["mode"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.recent: deque[CallSample] = deque(maxlen=RECENT_CALLS)
        self.started = time.time()

    def call_finished(self, function: str | None, mode: str, status: int, seconds: float) -> None:
        """Counts one answered call (``function`` None: refused before reaching the chain)."""
        label = function or "-"
        self.requests.labels(label, mode, str(status)).inc()
        self.latency.labels(mode).observe(seconds)
        self.recent.append(CallSample(time.time(), label, mode, status, round(seconds * 1000, 1)))

    def watch(self, read: Callable[[], Iterable[Reading]]) -> None:
        """Registers live values read at each scrape."""
        self.registry.register(Live(read))

    def watch_by(
        self, name: str, doc: str, label: str, read: Callable[[], Mapping[str, int]]
    ) -> None:
        """Registers a counter family by ``label`` read at each scrape."""
        self.registry.register(ByLabel(name, doc, label, read))

    def exposition(self) -> bytes:
        return render(self.registry)


async def metrics(request: Request) -> Response:
    """``GET /metrics``: the gateway's metrics in the Prometheus text format."""
    found: GatewayMetrics = request.app.state.gateway.metrics
    return Response(found.exposition(), media_type=CONTENT_TYPE)
