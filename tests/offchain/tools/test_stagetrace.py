"""Stage traces: marks kept per call, bounded, and carried in a response header."""

from __future__ import annotations

import asyncio
import time

import httpx

from peerhost.stagetrace import StageTrace, header_value, parse_header
from peerhost.worker.server import MetricsServer


def test_mark__stage_marked_twice__first_mark_kept() -> None:
    trace = StageTrace()
    trace.mark(b"\x01", "sent", 10)
    trace.mark(b"\x01", "sent", 20)
    trace.mark(b"\x01", "answered")
    marks = trace.marks(b"\x01")
    assert marks["sent"] == 10
    assert marks["answered"] >= time.monotonic_ns() - 10**9


def test_mark__more_calls_than_kept__oldest_dropped() -> None:
    trace = StageTrace(keep=2)
    for key in (b"a", b"b", b"c"):
        trace.mark(key, "entry", 1)
    assert trace.marks(b"a") == {}
    assert set(trace.snapshot()) == {"0x62", "0x63"}


def test_header__round_trip__marks_in_time_order() -> None:
    value = header_value({"woke": 30, "entry": 10, "signed": 20})
    assert value == "entry=10,signed=20,woke=30"
    assert parse_header(value + ",broken,=5,x=notanumber") == {
        "entry": 10,
        "signed": 20,
        "woke": 30,
    }


def test_metrics_server__trace_given__serves_it_at_trace_json() -> None:
    trace = StageTrace()
    trace.mark(b"\xab", "sent", 42)

    async def fetch(with_trace: bool) -> tuple[int, int]:
        server = MetricsServer(
            lambda: {}, "127.0.0.1", 0, trace=trace.snapshot if with_trace else None
        )
        await server.start()
        try:
            async with httpx.AsyncClient() as client:
                response = await client.get(server.url + "/trace.json")
        finally:
            await server.stop()
        if with_trace:
            assert response.json() == {"0xab": {"sent": 42}}
        return response.status_code, len(response.content)

    assert asyncio.run(fetch(True))[0] == 200
    assert asyncio.run(fetch(False))[0] == 404
