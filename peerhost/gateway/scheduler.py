"""The heartbeat: turns due schedules into tickets.

Every ``schedule_tick`` seconds, for each function its owner asked this gateway to schedule
(:class:`~peerhost.gateway.schedulebook.ScheduleBook`), the scheduler resolves the active version,
reads the cron expression its code declares (:mod:`peerhost.wire.declarations`; no declaration,
or a disabled function: nothing runs), and for each due time in
``(max(registered, last due run, now - catch_up), now]`` claims the due time in the book, then
issues an ordinary ticket (:meth:`~peerhost.gateway.tickets.Desk.issue`: the project's reserve
pays, as for an HTTP call) whose input is :func:`~peerhost.wire.schedule.scheduled_request`. The
answer is recorded in the book and in the function's logs (``[schedule]`` first line).

A due time is claimed before its ticket is signed, so it runs at most once, across restarts too.
Due times missed while the gateway was down run late when they are at most ``catch_up`` seconds
old, older ones never (a schedule is not a queue). When no ticket could be signed (no attesters
linked, the reserve short), the claim is released and the function rests ``RETRY_SECONDS``: the
due time is tried again until it is ``catch_up`` old. A schedule whose runs come closer than
``schedule_min_interval`` is not run (publish refuses it first; the log says why).

A project whose owner sealed a schedule key to this gateway
(:mod:`peerhost.gateway.schedulekeys`) has its runs signed with the key: each due time's
deterministic ticket (:mod:`peerhost.wire.schedule_ticket`), the one stand-in workers issue while
this gateway is down, so a due time is one ticket however many holders issue it. A due time
already posted on-chain is not issued again (``issued by a stand-in``); due times that passed
while this gateway was away, too old to issue, are recorded with their deterministic request id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from peerhost.chain.schedule_runs import ScheduleRuns
from peerhost.functionlogs import LogStore
from peerhost.gateway.errors import FunctionNotFound
from peerhost.gateway.functions import FunctionCache, ResolvedFunction
from peerhost.gateway.problems import status_of
from peerhost.gateway.routing import Target
from peerhost.gateway.schedulebook import NOT_ISSUED, STANDIN, ScheduleBook
from peerhost.gateway.schedulekeys import HeldKey, ScheduleKeys
from peerhost.gateway.tickets import Desk, TicketCall
from peerhost.wire.envelope import decode_envelope
from peerhost.wire.feed import MODE_NAMES
from peerhost.wire.schedule import InvalidSchedule, Schedule, scheduled_request
from peerhost.wire.schedule_ticket import schedule_seq
from peerhost.wire.ticket import request_id

log = logging.getLogger(__name__)

#: Seconds a keyed run may be issued late (below the workers' default 30 s clock skew).
KEYED_CATCH_UP = 25.0
#: Due times missed while away that are recorded at most, per function and heartbeat.
ABSENT_RUNS = 100

#: Seconds a function's schedule rests after a run could not be issued.
RETRY_SECONDS = 5.0


def iso(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Scheduler:
    """Runs the heartbeat (see the module docstring)."""

    def __init__(
        self,
        book: ScheduleBook,
        functions: FunctionCache,
        desk: Desk,
        logs: LogStore,
        *,
        status_base: str,
        min_interval: float,
        catch_up: float,
        tick: float,
        timeout: float,
        clock: Callable[[], float] = time.time,
        keys: ScheduleKeys | None = None,
        runs: ScheduleRuns | None = None,
    ) -> None:
        self.book = book
        self.functions = functions
        self.desk = desk
        self.logs = logs
        self.status_base = status_base.rstrip("/")
        self.min_interval = min_interval
        self.catch_up = catch_up
        self.tick = tick
        self.timeout = timeout
        self.clock = clock
        self.keys = keys
        self.runs = runs
        self.runs_started = 0
        self._parsed: dict[str, Schedule | str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._resting: dict[bytes, float] = {}  # function id -> monotonic time it may run again

    async def run(self) -> None:
        """Beats until cancelled."""
        try:
            while True:
                try:
                    await self.beat()
                except Exception:
                    log.exception("schedule heartbeat failed; next beat in %.1f s", self.tick)
                await asyncio.sleep(self.tick)
        finally:
            for task in list(self._tasks):
                task.cancel()

    def schedule_of(self, expression: str) -> Schedule | str:
        """The parsed schedule, or why it is not run (cached per expression)."""
        found = self._parsed.get(expression)
        if found is None:
            try:
                found = Schedule.parse(expression)
                gap = found.min_gap()
                if gap < self.min_interval:
                    found = (
                        f"runs {gap} s apart, below this gateway's minimum interval of "
                        f"{self.min_interval:g} s"
                    )
            except InvalidSchedule as exc:
                found = str(exc)
            self._parsed[expression] = found
        return found

    async def beat(self) -> int:
        """One heartbeat: issues every due run; returns how many it started."""
        now = int(self.clock())
        started = 0
        if self.keys is not None:
            self.keys.refresh()
        for entry in self.book.scheduled():
            target = Target(entry.wallet, entry.project, entry.function, "/")
            try:
                fn = await self.functions.resolve(target)
            except FunctionNotFound:
                continue
            if fn.disabled or fn.schedule is None:
                continue
            if self._resting.get(fn.function_id, 0.0) > time.monotonic():
                continue
            schedule = self.schedule_of(fn.schedule)
            if isinstance(schedule, str):
                log.warning("schedule of %s not run: %s", target.label, schedule)
                continue
            last = self.book.last_due(fn.function_id) or 0
            held = self.keys.of(fn.wallet, fn.project) if self.keys is not None else None
            # a keyed run's issuedAt is its due time: workers refuse one older than their skew
            window = self.catch_up if held is None else min(self.catch_up, KEYED_CATCH_UP)
            if held is not None and last:
                self._absent(fn, held, schedule.due(last, int(now - window))[-ABSENT_RUNS:])
            after = max(entry.since, int(now - window), last)
            for due in schedule.due(after, now):
                if not self.book.claim(
                    fn.function_id, due, fn.wallet, fn.project, fn.name, self.clock()
                ):
                    continue
                started += 1
                self.runs_started += 1
                task = asyncio.create_task(self._run(fn, fn.schedule, due), name=f"run-{due}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        return started

    async def _run(self, fn: ResolvedFunction, expression: str, due: int) -> None:
        started = time.monotonic()
        mode = fn.mode if fn.mode in MODE_NAMES else "fast"
        head = f"[schedule] run due {iso(due)} ({expression})"

        signed: list[bytes] = []

        def build_input(request_id: bytes) -> bytes:
            signed.append(request_id)  # the ticket is signed right after its input is built
            return scheduled_request(
                expression,
                due,
                request_id=request_id,
                wallet=fn.wallet,
                project=fn.project,
                function=fn.name,
            )

        held = self.keys.of(fn.wallet, fn.project) if self.keys is not None else None
        try:
            if held is not None:
                keyed = await self._issue_keyed(fn, held, due)
                if isinstance(keyed, str):
                    self.book.finished(fn.function_id, due, None, keyed)
                    self._log(fn, None, started, None, mode, None, [head, f"[schedule] {keyed}"])
                    return
                call = keyed
            else:
                call = await self.desk.issue(fn, build_input, mode)
        except Exception as exc:
            # nothing signed (or a schedule key's deterministic ticket, the same when signed again):
            # give the due time back and rest a while
            if not signed:
                self.book.release(fn.function_id, due)
                resting = self._resting.get(fn.function_id, 0.0) > time.monotonic()
                self._resting[fn.function_id] = time.monotonic() + RETRY_SECONDS
                if not resting:
                    log.warning(
                        "scheduled run of %s due %s not issued yet: %s", fn.name, iso(due), exc
                    )
                    retry = f"[error] not issued yet ({exc}); tried again until {iso(due + int(self.catch_up))}"
                    self._log(fn, None, started, None, mode, None, [head, retry])
                return
            self.book.finished(fn.function_id, due, None, f"{NOT_ISSUED}: {exc}")
            self._log(fn, None, started, None, mode, None, [head, f"[error] not issued: {exc}"])
            return
        self.book.issued(fn.function_id, due, call.request_id)
        url = f"{self.status_base}/_status/requests/0x{call.request_id.hex()}"
        try:
            answer = await self.desk.answer(call, self.timeout, url)
        except Exception as exc:
            status = status_of(exc)
            self.book.finished(fn.function_id, due, status, f"{type(exc).__name__}: {exc}")
            self._log(fn, status, started, call.request_id, mode, None, [head, f"[error] {exc}"])
            return
        finally:
            self.desk.forget(call)
        envelope = decode_envelope(answer.output)
        status, _, _ = envelope.to_http()
        lines = [head, *answer.logs.decode("utf-8", "replace").splitlines()]
        outcome = "ok"
        if not envelope.ok:
            outcome = f"{envelope.error_kind}: {envelope.error_detail}".rstrip(": ")
            lines.append(f"[error] {outcome}")
        self.book.finished(fn.function_id, due, status, outcome)
        worker = answer.attestations[0][0] if answer.attestations else None
        self._log(fn, status, started, call.request_id, answer.mode, worker, lines)

    def _absent(self, fn: ResolvedFunction, held: HeldKey, dues: list[int]) -> None:
        """Records the due times that passed while this gateway was away, too old to issue now:
        with a schedule key, a stand-in may have issued each; its run is the deterministic
        request recorded here (its ``/_status/requests`` page says whether it was posted)."""
        for due in dues:
            if not self.book.claim(
                fn.function_id, due, fn.wallet, fn.project, fn.name, self.clock()
            ):
                continue
            seq = schedule_seq(fn.function_id, due)
            rid = request_id(self.desk.chain_id, self.desk.settlement, held.file.address, seq)
            self.book.issued(fn.function_id, due, rid)
            self.book.finished(fn.function_id, due, None, STANDIN)
            head = f"[schedule] run due {iso(due)} ({fn.schedule})"
            line = f"[schedule] {STANDIN}: request 0x{rid.hex()}"
            self._log(fn, None, time.monotonic(), rid, "fast", None, [head, line])

    async def _issue_keyed(self, fn: ResolvedFunction, held: HeldKey, due: int) -> TicketCall | str:
        """Issues the due time's deterministic ticket with the project's schedule key; a string
        says why nothing is issued (not due at the version active then, or on-chain already:
        a stand-in issued it while this gateway was away)."""
        assert self.runs is not None
        run = await self.runs.run(
            key=held.file.address,
            owner=held.file.owner,
            project=held.file.project,
            function=fn.name,
            due=due,
            ticket_life=held.file.ticket_life,
        )
        if run is None:
            return f"{NOT_ISSUED}: not due under the version active then, or before the key"
        if self.clock() - due > KEYED_CATCH_UP:  # workers would refuse its issuedAt
            return f"{NOT_ISSUED}: more than {KEYED_CATCH_UP:g} s late"
        if await self.desk.view.is_seq_posted(run.schedule_key, run.seq):
            return f"issued by a stand-in: request 0x{run.request_id.hex()}"
        return await self.desk.issue_scheduled(run, held.key, fn.project_id)

    def _log(
        self,
        fn: ResolvedFunction,
        status: int | None,
        started: float,
        request_id: bytes | None,
        mode: str,
        worker: str | None,
        lines: list[str],
    ) -> None:
        self.logs.add(
            fn.wallet,
            fn.project,
            at=time.time(),
            function=fn.name,
            status=status or 0,
            latency_ms=round((time.monotonic() - started) * 1000, 1),
            request_id="0x" + request_id.hex() if request_id else "-",
            mode=mode,
            worker=worker,
            lines=tuple(lines),
        )
