"""Cron expressions: run times, the minimum gap, refusals, and a scheduled run's request."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from peerhost.wire import declarations
from peerhost.wire.schedule import (
    SCHEDULE_HEADER,
    SCHEDULED_AT_HEADER,
    InvalidSchedule,
    Schedule,
    scheduled_request,
)


def _at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def _iso(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize(
    ("cron", "after", "runs"),
    [
        ("*/5 * * * * *", "2026-03-01 10:00:03", ["2026-03-01 10:00:05", "2026-03-01 10:00:10"]),
        ("*/15 * * * *", "2026-03-01 10:07:00", ["2026-03-01 10:15:00", "2026-03-01 10:30:00"]),
        ("0 9 * * mon-fri", "2026-03-06 09:00:00", ["2026-03-09 09:00:00", "2026-03-10 09:00:00"]),
        ("@daily", "2026-12-31 12:00:00", ["2027-01-01 00:00:00", "2027-01-02 00:00:00"]),
        ("0 0 29 feb *", "2026-01-01 00:00:00", ["2028-02-29 00:00:00", "2032-02-29 00:00:00"]),
        ("0 12 1 * 0", "2026-03-01 13:00:00", ["2026-03-08 12:00:00", "2026-03-15 12:00:00"]),
        (
            "30 1-3/2 * jan,jul *",
            "2026-06-30 00:00:00",
            ["2026-07-01 01:30:00", "2026-07-01 03:30:00"],
        ),
    ],
)
def test_next_runs__cron_fields__utc_times(cron: str, after: str, runs: list[str]) -> None:
    assert [_iso(t) for t in Schedule.parse(cron).next_runs(_at(after), 2)] == runs


@pytest.mark.parametrize(
    ("cron", "gap"),
    [
        ("*/5 * * * * *", 5),
        ("* * * * *", 60),
        ("@hourly", 3600),
        ("0 9 * * mon-fri", 86_400),
        ("0,59 0,23 * * *", 60),  # 23:59 then 00:00 the next day
        ("10,11 * * * * *", 1),
    ],
)
def test_min_gap__schedules__shortest_distance_between_runs(cron: str, gap: int) -> None:
    assert Schedule.parse(cron).min_gap() == gap


@pytest.mark.parametrize(
    ("cron", "reason"),
    [
        ("* * *", "cron takes 5 fields"),
        ("61 * * * *", "minute field: 61 is outside 0-59"),
        ("0 0 30 2 *", "it never runs"),
        ("*/0 * * * *", "a step must be at least 1"),
        ("5-1 * * * *", "range 5-1 runs backwards"),
        ("0 0 * smarch *", "month field: 'smarch' is not a number"),
        ("", "it is empty"),
    ],
)
def test_parse__bad_expression__refused_naming_the_field(cron: str, reason: str) -> None:
    with pytest.raises(InvalidSchedule, match=reason):
        Schedule.parse(cron)


def test_due__window__every_time_in_it_once_oldest_first() -> None:
    schedule = Schedule.parse("*/2 * * * * *")
    start = _at("2026-03-01 10:00:00")
    assert schedule.due(start, start + 7) == [start + 2, start + 4, start + 6]
    assert schedule.due(start + 7, start + 7) == []


def test_scheduled_request__names_schedule_and_due_time_in_fn_headers() -> None:
    data = scheduled_request(
        "*/2 * * * * *",
        1_767_225_600,
        request_id=b"\x01" * 32,
        wallet="0x" + "ab" * 20,
        project="p",
        function="tick",
    )
    doc = json.loads(data)
    assert doc["method"] == "POST" and doc["body"] == ""
    assert doc["headers"] == {SCHEDULE_HEADER: "*/2 * * * * *", SCHEDULED_AT_HEADER: "1767225600"}


def test_declarations__schedule__round_trips_and_headers_only_code_keeps_its_bytes() -> None:
    declared = declarations.Declarations(("x-a",), "@daily")
    assert declarations.read(declarations.add_js_line(b"return 1", declared)) == declared
    # Code published before schedules existed declares exactly the same bytes as before.
    assert declarations.Declarations(("x-a",)).to_json() == b'{"headers":["x-a"]}'
