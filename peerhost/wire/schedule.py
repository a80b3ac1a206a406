"""Schedules: cron expressions, their run times, and the request a scheduled run receives.

A function's schedule is declared in its code (:mod:`peerhost.wire.declarations`, from
project.json's ``"schedule"``), so the function version's CID binds it. Times are UTC.

Syntax: five fields ``minute hour day-of-month month day-of-week`` (standard cron), or six with
``second`` first. Each field is ``*``, a number, a range ``a-b``, a step ``*/n`` or ``a-b/n``,
or a comma-separated list of those; months and weekdays also take names (``jan``, ``mon``);
weekday 0 and 7 are Sunday. As in cron, when both day fields are restricted a day matches
either. Shorthands: ``@yearly``, ``@monthly``, ``@weekly``, ``@daily``, ``@hourly``.

A scheduled run is an ordinary ticket whose canonical request is :func:`scheduled_request`:
``POST /`` with an empty body and the headers ``x-fn-schedule`` (the expression) and
``x-fn-scheduled-at`` (the due time, Unix seconds). Any HTTP caller may send ``x-fn-*`` headers
too: a function that must know a run was scheduled checks the ticket's issuer (its gateway), not
the header.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from peerhost.wire.errors import WireError
from peerhost.wire.request import canonical_request

#: The protocol's default minimum interval between two runs of a schedule (seconds); a gateway
#: may set its own (``schedule_min_interval``) and publish refuses a schedule below it.
MIN_INTERVAL_SECONDS = 60
SCHEDULE_HEADER = "x-fn-schedule"
SCHEDULED_AT_HEADER = "x-fn-scheduled-at"
MAX_EXPRESSION = 128

_SHORTHANDS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {d.lower(): (i + 1) % 7 for i, d in enumerate(calendar.day_abbr)}  # mon=1 … sun=0
_NO_NAMES: dict[str, int] = {}
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("second", 0, 59, _NO_NAMES),
    ("minute", 0, 59, _NO_NAMES),
    ("hour", 0, 23, _NO_NAMES),
    ("day-of-month", 1, 31, _NO_NAMES),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 7, _DAYS),
)
_PART = re.compile(r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d+))?$")
#: How far ahead a next run is looked for before the schedule is called one that never runs.
_HORIZON_DAYS = 366 * 5
#: How many runs (over at most a year) :meth:`Schedule.min_gap` measures.
_GAP_RUNS = 20_000


class InvalidSchedule(WireError, ValueError):
    """A schedule expression that is not valid cron (the message says which field and why)."""

    def __init__(self, expression: str, reason: str) -> None:
        super().__init__(f"schedule {expression!r}: {reason}")


def _field(
    expression: str, text: str, name: str, low: int, high: int, names: dict[str, int]
) -> frozenset[int]:
    def number(token: str) -> int:
        value = names.get(token)
        if value is None:
            if not token.isdigit():
                raise InvalidSchedule(expression, f"{name} field: {token!r} is not a number")
            value = int(token)
        if not low <= value <= high:
            raise InvalidSchedule(expression, f"{name} field: {value} is outside {low}-{high}")
        return value

    values: set[int] = set()
    for part in text.split(","):
        found = _PART.match(part)
        if found is None:
            raise InvalidSchedule(expression, f"{name} field: {part!r} is not *, n, a-b or */n")
        span, step_text = found.groups()
        step = int(step_text) if step_text else 1
        if step < 1:
            raise InvalidSchedule(expression, f"{name} field: a step must be at least 1")
        if span == "*":
            first, last = low, high
        elif "-" in span:
            a, b = span.split("-", 1)
            first, last = number(a), number(b)
            if first > last:
                raise InvalidSchedule(expression, f"{name} field: range {span} runs backwards")
        else:
            first = number(span)
            last = high if step_text else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Schedule:
    """A parsed cron expression."""

    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_restricted: bool
    weekdays_restricted: bool

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        """Parses ``expression``; raises :class:`InvalidSchedule` naming the problem."""
        if not isinstance(expression, str) or not expression.strip():
            raise InvalidSchedule(str(expression), "it is empty")
        if len(expression) > MAX_EXPRESSION:
            raise InvalidSchedule(expression[:40] + "…", f"longer than {MAX_EXPRESSION} characters")
        text = _SHORTHANDS.get(expression.strip().lower(), expression.strip().lower())
        parts = text.split()
        if len(parts) == 5:
            parts = ["0", *parts]
        if len(parts) != 6:
            raise InvalidSchedule(
                expression,
                "cron takes 5 fields (minute hour day-of-month month day-of-week) or 6 (second "
                f"first), not {len(parts)}",
            )
        sets = [_field(expression, p, *spec) for p, spec in zip(parts, _FIELDS, strict=True)]
        weekdays = frozenset(d % 7 for d in sets[5])
        schedule = cls(
            expression=expression,
            seconds=sets[0],
            minutes=sets[1],
            hours=sets[2],
            days=sets[3],
            months=sets[4],
            weekdays=weekdays,
            days_restricted=parts[3] != "*",
            weekdays_restricted=parts[5] != "*",
        )
        schedule.next_after(0)  # raises when it never runs
        return schedule

    def _day_matches(self, day: datetime) -> bool:
        in_month = day.day in self.days
        in_week = (day.weekday() + 1) % 7 in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_month or in_week
        return in_month and in_week

    def next_after(self, after: int) -> int:
        """The first run time (Unix seconds, UTC) strictly after ``after``."""
        at = datetime.fromtimestamp(after, UTC).replace(microsecond=0) + timedelta(seconds=1)
        limit = at + timedelta(days=_HORIZON_DAYS)
        while at < limit:
            if at.month not in self.months:
                year, month = (at.year + 1, 1) if at.month == 12 else (at.year, at.month + 1)
                at = at.replace(year=year, month=month, day=1, hour=0, minute=0, second=0)
            elif not self._day_matches(at):
                at = (at + timedelta(days=1)).replace(hour=0, minute=0, second=0)
            elif at.hour not in self.hours:
                at = (at + timedelta(hours=1)).replace(minute=0, second=0)
            elif at.minute not in self.minutes:
                at = (at + timedelta(minutes=1)).replace(second=0)
            elif at.second not in self.seconds:
                at += timedelta(seconds=1)
            else:
                return int(at.timestamp())
        raise InvalidSchedule(self.expression, "it never runs (no such date within five years)")

    def next_runs(self, after: int, count: int) -> list[int]:
        """The next ``count`` run times after ``after``."""
        out: list[int] = []
        for _ in range(count):
            after = self.next_after(after)
            out.append(after)
        return out

    def due(self, after: int, until: int) -> list[int]:
        """Run times in ``(after, until]``, oldest first."""
        out: list[int] = []
        at = self.next_after(after)
        while at <= until:
            out.append(at)
            at = self.next_after(at)
        return out

    def min_gap(self) -> int:
        """The shortest time between two consecutive runs, measured over a year of runs (from
        2026-01-01, at most 20,000 of them)."""
        start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) - 1
        end = start + 366 * 86_400
        previous = self.next_after(start)
        gap: int | None = None
        for _ in range(_GAP_RUNS):
            try:
                current = self.next_after(previous)
            except InvalidSchedule:
                break
            gap = current - previous if gap is None else min(gap, current - previous)
            if current > end or gap == 1:
                break
            previous = current
        return gap if gap is not None else 366 * 86_400


def scheduled_request(
    schedule: str, due: int, *, request_id: bytes, wallet: str, project: str, function: str
) -> bytes:
    """The canonical request of the run of ``schedule`` due at ``due`` (see the module doc)."""
    return canonical_request(
        "POST",
        "/",
        {},
        {SCHEDULE_HEADER: schedule, SCHEDULED_AT_HEADER: str(due)},
        b"",
        request_id=request_id,
        block_timestamp=0,
        wallet=wallet,
        project=project,
        function=function,
    )
