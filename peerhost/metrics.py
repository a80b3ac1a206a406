"""Prometheus metrics shared by the gateway and the worker.

Each running part owns its own :class:`~prometheus_client.CollectorRegistry` (never the
library's global one), so several gateways or workers in one process — as in the tests — count
apart. Instruments the code updates as it goes (counters, histograms) live in that registry;
values read from the running part at scrape time (queue lengths, totals kept elsewhere) come from
a :class:`Live` collector built around a callback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

#: The ``Content-Type`` of the text exposition format.
CONTENT_TYPE = CONTENT_TYPE_LATEST

#: Latency buckets in seconds: a call in the sandbox takes milliseconds; a verified answer waits
#: for commit and reveal windows (tens of seconds on a real chain).
LATENCY_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
)

Reading = tuple[str, str, str, float | None]
"""One live value: (kind "counter" | "gauge", name, help, value or None when unknown)."""


class Live(Collector):
    """A collector whose values come from ``read()`` at each scrape.

    ``read`` returns :data:`Reading` tuples; a ``None`` value (not known yet, e.g. the stake
    before registration) is left out rather than reported as zero.
    """

    def __init__(self, read: Callable[[], Iterable[Reading]]) -> None:
        self.read = read

    def collect(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        for kind, name, doc, value in self.read():
            if value is None:
                continue
            if kind == "counter":
                family: CounterMetricFamily | GaugeMetricFamily = CounterMetricFamily(name, doc)
            else:
                family = GaugeMetricFamily(name, doc)
            family.add_metric([], float(value))
            yield family


def new_registry() -> CollectorRegistry:
    """A registry of one running part (``auto_describe`` off: live collectors read at scrape)."""
    return CollectorRegistry(auto_describe=False)


def render(registry: CollectorRegistry) -> bytes:
    """The registry in the Prometheus text exposition format."""
    return generate_latest(registry)


def samples(registry: CollectorRegistry, name: str) -> Sequence[Sample]:
    """Every sample of the metric family ``name`` (for status views and tests)."""
    for family in registry.collect():
        if family.name == name:
            return family.samples
    return ()
