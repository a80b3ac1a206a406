"""The ticket desk: sign a ticket per HTTP call, push it to attesters, answer by mode.

A call's life: reserve check (never more tickets in flight for a project than its reserve covers)
→ seq and running total allocated → canonical request built with the ticket's request id →
ticket signed and written to the ticket book (with its input) → pushed to ``A`` attesters over
the job feed → answers checked (the output's keccak is the attested result hash; the attestation
recovers to the worker the ticket was sent to, active in the epoch) → answered by mode:

- ``fast``: the first valid attestation;
- ``attested``: ``A`` attestations of one result; two different results fall back to
  ``verified`` (logged);
- ``verified``: the result the chain finalized for the ticket's leaf, with an output whose hash
  is that result (another attester is asked when none of the received outputs has it).

A worker that refuses a ticket or drops its feed mid-ticket is replaced by another active worker.

Answering does not end the ticket for its other attesters: a ``fast`` call answers with the first
attestation while the others are still running the ticket. Their attestations are recorded in
the book as they arrive (so the batch's opening pays them, and a lie among them can be presented)
until the last one answers, refuses or drops, or for :data:`LATE_ANSWER_GRACE` seconds; such a
call gets no replacement attester.

An answer is checked before any caller is answered from it, and recorded before it with one
exception. A ``fast`` call's later answers, which may arrive in the same read as its first, wait
one loop turn: the waiting handler writes the response first (no caller waits for them). An
``attested`` call's ``A``-th matching attestation wakes the waiting handler as soon as it is
checked and is recorded on the next loop turn, after the response is written (its attester stays
outstanding until then, so the batch poster, which waits for a ticket's outstanding attesters,
never posts the ticket without it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from peerhost.chain.reads import SharedReads
from peerhost.chain.settlement import ActiveSet, SettlementView
from peerhost.gateway.errors import NoAttesters, RequestRefunded, ReserveExhausted, ResultTimeout
from peerhost.gateway.feed import FeedHub, WorkerLink
from peerhost.gateway.functions import ResolvedFunction
from peerhost.gateway.ticketbook import TicketBook
from peerhost.stagetrace import StageTrace
from peerhost.wire.envelope import result_hash
from peerhost.wire.feed import (
    ENGINE_PROFILE,
    MODE_NAMES,
    Answer,
    DigestSigner,
    JobOffer,
    Refusal,
    encode_message,
    recover_digest,
    sign_digest,
)
from peerhost.wire.schedule_ticket import ScheduledRun
from peerhost.wire.ticket import (
    Ticket,
    attestation_digest,
    input_hash_of,
    request_id,
    ticket_digest,
    ticket_hash,
)

log = logging.getLogger(__name__)

#: Seconds an answered call still records its other attesters' answers (the poster waits up to
#: five seconds for a ticket's attesters before it posts the ticket).
LATE_ANSWER_GRACE = 5.0

_ACTIVE_TTL = 2.0
_RESERVE_TTL = 2.0


@dataclass(frozen=True)
class Attestation:
    """One worker's valid answer to a ticket."""

    worker: str
    result_hash: bytes
    signature: bytes
    output: bytes
    logs: bytes = b""


@dataclass
class TicketCall:
    """A ticket waiting for its answer."""

    ticket: Ticket
    request_id: bytes
    ticket_hash: bytes
    signature: bytes
    input: bytes
    mode: str
    project: str
    answers: list[Attestation] = field(default_factory=list)
    tried: set[str] = field(default_factory=set)
    outstanding: set[str] = field(default_factory=set)
    refusals: list[str] = field(default_factory=list)
    final: bytes | None = None
    refunded: bool = False
    fell_back: bool = False
    answered: bool = False  # the caller is done; attesters still running may answer
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    digests: dict[bytes, bytes] = field(default_factory=dict)  # result hash -> what is signed

    @property
    def rid(self) -> str:
        return "0x" + self.request_id.hex()

    def matching(self, result_hash: bytes) -> list[Attestation]:
        return [a for a in self.answers if a.result_hash == result_hash]

    def awaits(self, worker: str) -> bool:
        """Whether a frame from ``worker`` (an answer, a refusal, its feed dropping) still
        counts: it was asked and has not answered; an answer already checked whose record is
        put off a turn (an attested call's ``A``-th) is outstanding but no longer awaited."""
        return worker in self.outstanding and not any(a.worker == worker for a in self.answers)

    def results(self) -> set[bytes]:
        return {a.result_hash for a in self.answers}


@dataclass(frozen=True)
class TicketAnswer:
    """What the HTTP layer sends back."""

    output: bytes
    result_hash: bytes
    mode: str
    attestations: list[tuple[str, bytes]]
    logs: bytes


class Reserves:
    """Per project: the on-chain reserve (cached) against the rewards of unposted tickets."""

    def __init__(self, view: SettlementView, in_flight: dict[bytes, int]) -> None:
        self.view = view
        self.in_flight = dict(in_flight)
        self._reads = SharedReads(_RESERVE_TTL)

    async def reserve(self, project_id: bytes, fresh: bool = False) -> int:
        if fresh:
            self._reads.forget(project_id)
        value: int = await self._reads.get(project_id, lambda: self.view.reserve_of(project_id))
        return value

    async def take(self, project_id: bytes, project: str, reward: int) -> None:
        reserve = await self.reserve(project_id)
        in_flight = self.in_flight.get(project_id, 0)
        if reserve < in_flight + reward:
            reserve = await self.reserve(project_id, fresh=True)
            if reserve < in_flight + reward:
                raise ReserveExhausted(project, reserve, in_flight, reward)
        self.in_flight[project_id] = in_flight + reward

    def posted(self, project_id: bytes, amount: int) -> None:
        """Rewards drawn from the reserve on-chain: no longer in flight; the cache is stale."""
        self.in_flight[project_id] = max(0, self.in_flight.get(project_id, 0) - amount)
        self._reads.forget(project_id)

    def returned(self, project_id: bytes, amount: int) -> None:
        """Rewards a reorg gave back to the reserve on-chain (their post dropped): in flight again
        until they are posted anew (then :meth:`posted` draws them once more)."""
        self.in_flight[project_id] = self.in_flight.get(project_id, 0) + amount
        self._reads.forget(project_id)


class Desk:
    """Issues tickets and answers calls from their attestations (see the module docstring)."""

    def __init__(
        self,
        view: SettlementView,
        hub: FeedHub,
        book: TicketBook,
        private_key: bytes,
        address: str,
        *,
        attesters: int,
        ticket_life: int,
        trace: StageTrace | None = None,
    ) -> None:
        self.view = view
        self.trace = trace  # each ticket call's stages (peerhost.stagetrace), when debugging
        hub.traced = trace is not None
        self.hub = hub
        self.book = book
        self._signer = DigestSigner(private_key)  # built once: signs every ticket
        self.address = address
        self.attesters = attesters
        self.ticket_life = ticket_life
        self.chain_id = view.config.chain_id
        self.settlement = view.config.settlement
        self.calls: dict[bytes, TicketCall] = {}
        self._late: deque[tuple[float, bytes]] = deque()  # (until, request id) of answered calls
        self.reserves = Reserves(view, book.unposted_rewards())
        self._active: ActiveSet | None = None
        self._reads = SharedReads(0.0)  # the active set's own read_at says when it is stale
        self._head = 0
        self._clock_offset = 0.0
        self.reward = 0
        self.disagreements = 0
        hub.on_answer = self._on_answer
        hub.on_refusal = self._on_refusal
        hub.on_drop = self._on_drop

    async def start(self) -> None:
        params = await self.view.params()
        self.reward = int(params["minReward"])
        await self.active()

    # ---- clock and active set --------------------------------------------------------------

    def now(self) -> int:
        """The tickets' clock: wall time, never behind the chain's latest block."""
        return int(time.time() + self._clock_offset)

    async def active(self) -> ActiveSet:
        """The active set (and the head and clock with it), read once per ``_ACTIVE_TTL``: the
        calls that find it stale while it is read wait for that read."""
        if self._active is None or time.monotonic() - self._active.read_at > _ACTIVE_TTL:
            await self._reads.get("active", self._read_active)
        assert self._active is not None
        return self._active

    async def _read_active(self) -> None:
        active = await self.view.active_set()
        self._head, chain_now = await self.view.head()
        self._clock_offset = max(0.0, chain_now - time.time())
        self._active = active

    # ---- issuing ---------------------------------------------------------------------------

    async def issue(
        self, fn: ResolvedFunction, build_input: Callable[[bytes], bytes], mode: str
    ) -> TicketCall:
        """Signs, records and dispatches a ticket for one call."""
        trace = self.trace
        started = time.monotonic_ns() if trace is not None else 0
        active = await self.active()
        if not self.hub.any_linked(active.contains):
            raise NoAttesters(len(self.hub.links), len(active.members))  # before anything is signed
        reward = self.reward
        await self.reserves.take(fn.project_id, fn.project, reward)
        try:
            seq, total = self.book.allocate(reward)
            rid = request_id(self.chain_id, self.settlement, self.address, seq)
            if trace is not None:
                trace.mark(rid, "issue", started)
                trace.mark(rid, "allocated")
            data = build_input(rid)
            issued_at = self.now()
            ticket = Ticket(
                gateway=self.address,
                seq=seq,
                function_id=fn.function_id,
                version=fn.version,
                input_hash=input_hash_of(data),
                reward=reward,
                issued_at=issued_at,
                deadline=issued_at + self.ticket_life,
                mode=MODE_NAMES.index(mode),
                # the project's secrets as of this (recent) block: every run of the ticket,
                # attester's or committee's, opens the same bundle even if the owner rotates it
                secrets_version=self._head,
                engine_profile=ENGINE_PROFILE,
                issued_total=total,
            )
            signature = self._signer.sign(ticket_digest(self.chain_id, self.settlement, ticket))
            if trace is not None:
                trace.mark(rid, "signed")
            self.book.save(ticket, rid, fn.project_id, signature, data)
            if trace is not None:
                trace.mark(rid, "persisted")
        except BaseException:
            self.reserves.in_flight[fn.project_id] -= reward
            raise
        call = TicketCall(ticket, rid, ticket_hash(ticket), signature, data, mode, fn.project)
        self.calls[rid] = call
        sent = await self._dispatch(call, self.attesters, active)
        if not sent:
            self.calls.pop(rid, None)
            raise NoAttesters(len(self.hub.links), len(active.members))
        return call

    async def issue_scheduled(self, run: ScheduledRun, key: bytes, project_id: bytes) -> TicketCall:
        """Signs a schedule key's deterministic ticket for ``run`` and dispatches it.

        Not written to the ticket book (this gateway's batches carry only its own tickets): the
        attesters post it with ``postOrphans``, and a committee rebuilds its input from the
        ticket. Nothing is signed when no attester is linked or the reserve does not cover it.
        """
        active = await self.active()
        if not self.hub.any_linked(active.contains):
            raise NoAttesters(len(self.hub.links), len(active.members))
        ticket = run.ticket()
        reserve = await self.reserves.reserve(project_id, fresh=True)
        if reserve < ticket.reward:
            raise ReserveExhausted(run.project, reserve, 0, ticket.reward)
        signature = sign_digest(key, ticket_digest(self.chain_id, self.settlement, ticket))
        rid = run.request_id
        call = TicketCall(
            ticket, rid, ticket_hash(ticket), signature, run.input(), "fast", run.project
        )
        self.calls[rid] = call
        if not await self._dispatch(call, self.attesters, active):
            self.calls.pop(rid, None)
            raise NoAttesters(len(self.hub.links), len(active.members))
        return call

    async def _dispatch(self, call: TicketCall, count: int, active: ActiveSet | None = None) -> int:
        active = active or await self.active()
        links = self.hub.offer(active.contains, count, call.tried)
        offer = JobOffer(call.ticket, call.signature, call.input)
        text = encode_message(offer) if links else ""  # the same bytes for every attester
        sent = 0
        for link in links:
            call.tried.add(link.worker)
            call.outstanding.add(link.worker)
            try:
                await link.send(offer, call.request_id, text)
                sent += 1
                if self.trace is not None:
                    self.trace.mark(call.request_id, f"pushed{len(call.tried)}")
            except Exception as exc:  # the link died under us; another one may do
                call.outstanding.discard(link.worker)
                log.info("feed: could not send to %s: %s", link.worker, exc)
        return sent

    def _replace(self, call: TicketCall, worker: str) -> None:
        call.outstanding.discard(worker)
        if call.answered:  # nobody waits for another attester
            self._drop_if_done(call)
            return
        call.changed.set()
        task = asyncio.get_running_loop().create_task(self._dispatch(call, 1))
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    # ---- feed events ---------------------------------------------------------------------

    def _on_answer(self, link: WorkerLink, answer: Answer) -> None:
        call = self.calls.get(answer.request_id)
        if call is None or link.worker not in call.outstanding:
            return  # late, or not asked: ignored
        if call.mode == "fast" and call.answers and not call.answered:
            # the caller's answer is the first attestation, already recorded, and its handler
            # is queued to resume: this one is checked and recorded on the next loop turn, after
            # that handler wrote the response (both attesters may answer in one read)
            asyncio.get_running_loop().call_soon(self._take_answer, link, answer, link.frame_ns)
            return
        self._take_answer(link, answer, link.frame_ns)

    def _take_answer(self, link: WorkerLink, answer: Answer, frame_ns: int) -> None:
        """Checks ``answer`` (module docstring) and records it in the book: before the caller may
        be answered from it, except an attested call's ``A``-th matching attestation (recorded
        on the next loop turn, after the woken handler wrote the response)."""
        call = self.calls.get(answer.request_id)
        if call is None or not call.awaits(link.worker):
            return
        nth = len(call.answers) + 1
        if self.trace is not None:
            self.trace.mark(call.request_id, f"frame{nth}", frame_ns)
            self.trace.mark(call.request_id, f"decoded{nth}")
        if result_hash(answer.output) != answer.result_hash:
            log.warning(
                "ticket %s: output bytes from %s do not match the attested result hash",
                call.rid,
                link.worker,
            )
            self.hub.credit(link.worker, False)
            self._replace(call, link.worker)
            return
        digest = call.digests.get(answer.result_hash)
        if digest is None:  # once per result: the attesters that agree sign the same digest
            digest = call.digests[answer.result_hash] = attestation_digest(
                self.chain_id, self.settlement, call.ticket_hash, answer.result_hash
            )
        try:
            signer = recover_digest(digest, answer.attestation)
        except ValueError:
            signer = ""
        if signer != link.worker:
            log.warning("ticket %s: attestation from %s is not its own", call.rid, link.worker)
            self.hub.credit(link.worker, False)
            self._replace(call, link.worker)
            return
        if self._active is not None and not self._active.contains(link.worker):
            log.warning("ticket %s: %s is not active in the epoch", call.rid, link.worker)
            self._replace(call, link.worker)
            return
        call.answers.append(
            Attestation(
                link.worker, answer.result_hash, answer.attestation, answer.output, answer.logs
            )
        )
        if (
            call.mode == "attested"
            and not call.answered
            and len(call.matching(answer.result_hash)) == self.attesters
        ):
            # the caller's answer is complete: its handler writes the response on the next turn,
            # this attestation is recorded on the turn after (module docstring)
            if self.trace is not None:
                self.trace.mark(call.request_id, f"verified{nth}")
            call.changed.set()
            asyncio.get_running_loop().call_soon(self._record, call, link.worker)
            return
        self._record(call, link.worker)
        if self.trace is not None:
            self.trace.mark(call.request_id, f"verified{nth}")
        call.changed.set()

    def _record(self, call: TicketCall, worker: str) -> None:
        """``worker``'s checked attestation (in ``call.answers``) into the ticket book; its
        attester is no longer outstanding."""
        call.outstanding.discard(worker)
        self.book.record_attestations(
            call.request_id,
            [(a.worker, a.result_hash, a.signature) for a in call.answers],
            call.answers[0].result_hash,
        )
        if call.answered:
            self._drop_if_done(call)

    def _on_refusal(self, link: WorkerLink, refusal: Refusal) -> None:
        call = self.calls.get(refusal.request_id)
        if call is None or not call.awaits(link.worker):
            return
        call.refusals.append(f"{link.worker}: {refusal.reason}")
        log.info("ticket %s: worker %s refused it: %s", call.rid, link.worker, refusal.reason)
        self._replace(call, link.worker)

    def _on_drop(self, link: WorkerLink, pending: list[bytes]) -> None:
        calls = [self.calls.get(rid) for rid in pending]
        waiting = [c for c in calls if c is not None and c.awaits(link.worker)]
        if waiting:  # one drop (a crash, a restart), however many tickets it held: not a lie
            self.hub.dropped(link.worker)
        for call in waiting:
            self._replace(call, link.worker)

    # ---- settlement --------------------------------------------------------------------------

    def waiting(self, request_id: bytes) -> bool:
        """Whether a ticket's attesters may still answer (the poster waits for them)."""
        call = self.calls.get(request_id)
        return call is not None and bool(call.outstanding)

    def settled(self, request_id: bytes, result_hash: bytes | None, final: bool = True) -> None:
        """The chain settled the ticket: its result (``final``: the committee's final result, not
        an unaudited leaf's first attestation), or None when it was refunded (called once per
        ticket). With a final result, each attester's reputation learns whether it agreed."""
        if result_hash is not None and final:
            stored = self.book.get(request_id)
            for worker, attested, _ in stored.attestations if stored is not None else ():
                self.hub.credit(worker, attested == "0x" + result_hash.hex())
        call = self.calls.get(request_id)
        if call is None:
            return
        if result_hash is None:
            call.refunded = True
        else:
            call.final = result_hash
        call.changed.set()

    # ---- answering ---------------------------------------------------------------------------

    async def answer(self, call: TicketCall, timeout: float, status_url: str) -> TicketAnswer:
        """Waits for the call's answer by its mode (module docstring)."""
        deadline = time.monotonic() + timeout
        mode = call.mode
        asked_more = False
        while True:
            if mode == "fast" and call.answers:
                return self._reply(call, call.answers[:1], "fast")
            if mode == "attested":
                for result in call.results():
                    same = call.matching(result)
                    if len(same) >= self.attesters:
                        return self._reply(call, same[: self.attesters], "attested")
                if len(call.results()) > 1:
                    self.disagreements += 1
                    log.warning(
                        "ticket %s: attesters disagree (%s); answering verified",
                        call.rid,
                        ", ".join(f"{a.worker}=0x{a.result_hash.hex()[:12]}" for a in call.answers),
                    )
                    call.fell_back = True
                    mode = "verified"
            if mode == "verified":
                if call.refunded:
                    raise RequestRefunded(call.rid, status_url)
                if call.final is not None:
                    same = call.matching(call.final)
                    if same:
                        return self._reply(call, same, "verified")
                    if not call.outstanding and not asked_more:
                        asked_more = True
                        await self._dispatch(call, 1)
            short = mode != "verified" and len(call.answers) < self.attesters
            # every attester answered, refused or left: ask one more (or fall back when none)
            if (
                short
                and not call.outstanding
                and await self._dispatch(call, 1) == 0
                and mode == "attested"
                and call.answers
            ):
                call.fell_back = True
                mode = "verified"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ResultTimeout(call.rid, status_url, timeout, self._why(call, mode))
            call.changed.clear()
            # a timeout scope, not wait_for: on Python 3.11 wait_for runs the wait in a task of
            # its own, so an answer reached this handler three loop turns after it was read
            # (that task, its done callback, then this task); here it takes one
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, 1.0)):
                    await call.changed.wait()

    def _reply(self, call: TicketCall, chosen: list[Attestation], mode: str) -> TicketAnswer:
        first = chosen[0]
        return TicketAnswer(
            output=first.output,
            result_hash=first.result_hash,
            mode=mode,
            attestations=[(a.worker, a.signature) for a in chosen],
            logs=first.logs,
        )

    @staticmethod
    def _why(call: TicketCall, mode: str) -> str:
        refused = f"; refusals: {'; '.join(call.refusals)}" if call.refusals else ""
        if mode == "verified":
            state = "not settled yet" if call.final is None else "settled, no matching output"
            return f"{state}; {len(call.answers)} attestation(s){refused}"
        return f"{len(call.answers)} attestation(s) received{refused}"

    def forget(self, call: TicketCall) -> None:
        """The caller is done with ``call``; attesters still running it may answer for
        :data:`LATE_ANSWER_GRACE` seconds more (module docstring)."""
        now = time.monotonic()
        while self._late and self._late[0][0] <= now:
            late = self.calls.get(self._late.popleft()[1])
            if late is not None and late.answered:
                self.calls.pop(late.request_id, None)
        call.answered = True
        if call.outstanding:
            self._late.append((now + LATE_ANSWER_GRACE, call.request_id))
        else:
            self.calls.pop(call.request_id, None)

    def _drop_if_done(self, call: TicketCall) -> None:
        if not call.outstanding:
            self.calls.pop(call.request_id, None)
