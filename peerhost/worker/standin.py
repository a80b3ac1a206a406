"""The stand-in issuer: a worker holding a project's schedule key keeps its schedule running while
the primary gateway is down.

Enabled when the worker's ``<data_dir>/schedule-keys/`` holds key files
(:mod:`peerhost.secrets.schedule_key`) sealed to it, and ``standin_takeover`` is more than 0. Every
``tick`` seconds, for each key file:

1. **Heartbeat.** ``GET <gateway>/_status/schedules/<owner>/<project>`` at the primary gateway the
   file names; an answer is the primary's heartbeat, and its runs say which due times the
   primary issued (``issued``).
2. **Hand-over.** For each scheduled function the file names and each due time in the last
   ``catch_up`` seconds, :func:`~peerhost.wire.schedule_ticket.standin_may_issue` decides by what
   the primary issued, not by whether it answers: a due time ``takeover`` late that the primary
   did not issue is the stand-ins' when the primary answered since without it (up but not
   issuing: a slow restart, a run it gave up) or has not answered for ``takeover`` seconds (down,
   or too slow to answer: a timeout is no proof it issued nothing, so it waits the takeover).
   A due time whose seq is posted on-chain already (``isSeqPosted``), or that this worker holds
   already (it attested it, from the gateway's feed or as a stand-in), is skipped.
3. **Issue.** The worker builds the due time's deterministic ticket
   (:class:`~peerhost.chain.schedule_runs.ScheduleRuns`: the same ticket the primary and every
   other holder sign), signs it with the schedule key and hands it to its own
   :class:`~peerhost.worker.tickets.TicketRunner`: the usual checks (the key bonded and
   authorized at ``issuedAt``, the project's reserve covers it beside the key's tickets in
   flight, no replay), the run, the attestation.
4. **Post.** The attested ticket is in the worker's ledger like any other: the committee duty's
   cheques post it with ``postOrphans`` after ``orphanDelay`` and before its deadline (the key's
   bond refunds the poster's gas). Two stand-ins racing for a due time signed one ticket: the
   first post pays it, the other's is skipped (``isSeqPosted``) or reverts ``SeqAlreadyPosted``.

The key is opened once per file and kept in memory only; it never reaches a log line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from nacl.public import PrivateKey

from peerhost.chain.schedule_runs import ScheduleRuns
from peerhost.chain.settlement import SettlementView
from peerhost.secrets.schedule_key import (
    ScheduleKeyFile,
    ScheduleKeyUnusable,
    key_files,
    open_schedule_key,
)
from peerhost.wire.feed import Answer, JobOffer, sign_digest
from peerhost.wire.ids import function_id_of
from peerhost.wire.schedule import InvalidSchedule, Schedule
from peerhost.wire.schedule_ticket import standin_may_issue
from peerhost.wire.ticket import ticket_digest
from peerhost.worker.tickets import TicketRunner

log = logging.getLogger(__name__)


@dataclass
class _Held:
    """One key file this worker opened."""

    path: Path
    file: ScheduleKeyFile
    key: bytes = field(repr=False)
    #: when the primary last answered (at first: when this worker opened the file)
    heard_at: float
    #: per function the primary runs (its last answer), the due times it said it issued
    issued: dict[str, set[int]] = field(default_factory=dict)


class StandIn:
    """Issues due runs while the primary gateway is down (module docstring).

    Args:
        view: Settlement contract reads.
        runner: Checks, runs and attests tickets (the feed's runner).
        runs: Builds the deterministic scheduled tickets.
        data_dir: The worker's data directory (key files in ``schedule-keys/``).
        address: This worker.
        encryption_key: This worker's X25519 key (opens its share of a key file).
        takeover: Seconds the primary's heartbeat must be missing, and a due time late, before
            this worker issues it.
        catch_up: Due times older than this are never issued (a schedule is not a queue).
        tick: Seconds between rounds.
    """

    def __init__(
        self,
        view: SettlementView,
        runner: TicketRunner,
        runs: ScheduleRuns,
        data_dir: Path,
        address: str,
        encryption_key: PrivateKey,
        *,
        takeover: float,
        catch_up: float,
        tick: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.view = view
        self.runner = runner
        self.runs = runs
        self.data_dir = data_dir
        self.address = address
        self._encryption_key = encryption_key
        self.takeover = takeover
        self.catch_up = catch_up
        self.tick = tick
        self.clock = clock
        self.http = httpx.AsyncClient(timeout=2.0)
        self.held: dict[Path, _Held] = {}
        self._refused: set[Path] = set()
        self._done: set[tuple[bytes, int]] = set()
        self._pending: set[tuple[bytes, int]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.issued = 0

    async def run(self) -> None:
        """Rounds until cancelled."""
        try:
            while True:
                try:
                    await self.round()
                except Exception:
                    log.exception("stand-in round failed; next in %.1f s", self.tick)
                await asyncio.sleep(self.tick)
        finally:
            for task in list(self._tasks):
                task.cancel()
            await self.http.aclose()

    def _open(self) -> None:
        for path in key_files(self.data_dir):
            if path in self.held or path in self._refused:
                continue
            try:
                file = ScheduleKeyFile.load(path)
                key = open_schedule_key(
                    file,
                    holder=self.address,
                    holder_key=self._encryption_key,
                    chain_id=self.view.config.chain_id,
                    registry=self.view.config.registry,
                    now=int(self.clock()),
                    path=str(path),
                )
            except ScheduleKeyUnusable as exc:
                self._refused.add(path)
                log.warning("stand-in: %s", exc)
                continue
            # the primary counts as alive until it has missed a whole takeover
            self.held[path] = _Held(path, file, key, heard_at=self.clock())
            log.info(
                "stand-in: holding the schedule key %s of %s/%s (%s)",
                file.address,
                file.owner,
                file.project,
                ", ".join(file.functions),
            )

    async def round(self) -> int:
        """One round over every held key; returns how many due times it started issuing."""
        self._open()
        issued = 0
        for held in self.held.values():
            await self._heartbeat(held)
            for function in held.file.functions:
                issued += await self._function(held, function)
        return issued

    async def _heartbeat(self, held: _Held) -> None:
        url = held.file.gateway_url.rstrip("/")
        if not url:
            return
        try:
            response = await self.http.get(
                f"{url}/_status/schedules/{held.file.owner}/{held.file.project}"
            )
        except httpx.HTTPError:
            return  # no answer: what the primary issued is unknown, not nothing
        if response.status_code != 200:
            return
        try:
            issued = issued_by_primary(response.json())
        except (ValueError, KeyError, TypeError):
            return
        now = self.clock()
        oldest = now - self.catch_up - self.takeover
        for function, dues in issued.items():  # an answer lists the latest runs only: keep older
            dues.update(d for d in held.issued.get(function, ()) if d >= oldest)
        held.issued = issued
        held.heard_at = now

    async def _function(self, held: _Held, function: str) -> int:
        now = self.clock()
        issued = held.issued.get(function)
        if now - held.heard_at < self.takeover and issued is None:
            return 0  # the primary answers and does not run it (the owner stopped it there)
        file = held.file
        function_id = function_id_of(file.owner, file.project, function)
        info = await self.view.function_info(function_id)
        expression = await self.runs.expression(function_id, int(info["activeVersion"]))
        if expression is None:
            return 0
        try:
            schedule = Schedule.parse(expression)
        except InvalidSchedule:
            return 0
        started = 0
        for due in schedule.due(int(now - self.catch_up), int(now)):
            key = (function_id, due)
            if key in self._done or key in self._pending:
                continue
            if not standin_may_issue(
                due,
                now,
                heard_at=held.heard_at,
                issued=issued,
                takeover=self.takeover,
                catch_up=self.catch_up,
            ):
                continue
            # each due time on its own task: a slow run never makes the next one too late
            self._pending.add(key)
            task = asyncio.create_task(self._issue_once(held, function, key), name=f"standin-{due}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    async def _issue_once(self, held: _Held, function: str, key: tuple[bytes, int]) -> None:
        try:
            await self._issue(held, function, key[1])
            self._done.add(key)
        except Exception as exc:  # a chain error: tried again next round while still in time
            log.warning("stand-in: %s due %d: %s", function, key[1], exc)
        finally:
            self._pending.discard(key)

    async def _issue(self, held: _Held, function: str, due: int) -> bool:
        file = held.file
        run = await self.runs.run(
            key=file.address,
            owner=file.owner,
            project=file.project,
            function=function,
            due=due,
            ticket_life=file.ticket_life,
        )
        if run is None:
            return False
        ticket = run.ticket()
        if await self.view.is_seq_posted(ticket.gateway, ticket.seq):
            return False  # the primary's (or another stand-in's) ticket is on-chain already
        digest = ticket_digest(self.view.config.chain_id, self.view.config.settlement, ticket)
        offer = JobOffer(ticket, sign_digest(held.key, digest), run.input())
        answer = await self.runner.handle(offer, ticket.gateway)
        if not isinstance(answer, Answer):
            log.info(
                "stand-in: %s/%s due %d not issued: %s", file.project, function, due, answer.reason
            )
            return False
        self.issued += 1
        log.info(
            "stand-in: issued %s/%s due %d as request 0x%s",
            file.project,
            function,
            due,
            answer.request_id.hex(),
        )
        return True


def issued_by_primary(doc: object) -> dict[str, set[int]]:
    """Per function the primary's status lists, the due times it says it issued.

    Raises:
        ValueError: The answer is not a schedule status (also KeyError, TypeError on a bad run).
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("functions"), list):
        raise ValueError("not a schedule status")
    out: dict[str, set[int]] = {}
    for entry in doc["functions"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("function"), str):
            raise ValueError("not a schedule status")
        runs = entry.get("runs") or []
        out[entry["function"]] = {
            int(r["due"]) for r in runs if isinstance(r, dict) and r.get("issued") is True
        }
    return out


__all__ = ["StandIn", "issued_by_primary"]
