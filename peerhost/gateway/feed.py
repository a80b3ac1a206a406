"""The job feed's gateway end: workers hold a WebSocket at ``/_feed``; the gateway pushes tickets.

A connection starts with a challenge (a fresh nonce) that the worker signs with its key: the link
is then known to speak for that address. Attesters are picked among linked workers that are
active in the current stake epoch, cheapest first: a link's cost is its answer latency (an
exponentially weighted average of job → answer times; untried links count as fast so they get
tried) divided by its reputation. A worker's reputation (kept by address, across reconnects) is
``(good + 1) / (good + 1 + 5 × bad + dropped)``: good answers are attestations the chain's final
result agreed with; bad ones are attestations it contradicted, outputs that did not match their
attestation and foreign signatures; ``dropped`` counts the feeds it dropped with tickets pending
(a crash or a restart: a liveness fault, which costs the ticket a replacement, not a wrong
answer). Given :class:`WorkerRecords`, the counts are stored as they change and each worker's
latency when its link ends, and a new link starts from the latency its worker had: a restarted
gateway picks as it did before. Answers and refusals are handed to the :class:`Desk` that issued
the ticket.

Only a worker that is offered tickets has its latency measured again, so cheapest-first alone
starves a worker whose stored estimate is high (a slow first answer after a restart): with three
workers and two attesters it would never be offered a ticket again. :meth:`FeedHub.offer` (the
choice for a ticket) therefore explores: on a small share of offers (``explore_share``, drawn
from a seeded generator) one seat, the last and most expensive, goes instead to the eligible
worker offered nothing for longest, once that is ``stale_after`` offers or more; the answer to
such a probe replaces the stale estimate instead of blending into it. A ticket never gets more
seats than asked; a probe goes only to an active, linked worker the ticket has not tried, whose
honesty (its reputation without the drops) is at least ``_EXPLORE_MIN_SCORE``: a worker caught
wrong waits to be cheapest again, a worker that crashed is probed like any other (were drops
counted as wrong answers, one crash with a ticket pending would put a worker with few good answers
below the threshold for good: never offered a ticket again, it could never earn one back).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.websockets import WebSocket, WebSocketDisconnect

from peerhost.gateway.reputation import WorkerRecords
from peerhost.wire.feed import (
    Answer,
    Challenge,
    Cosignature,
    CosignRequest,
    FeedMessageError,
    Hello,
    JobOffer,
    Refusal,
    decode_message,
    encode_message,
    hello_digest,
    recover_digest,
)

log = logging.getLogger(__name__)

_EWMA = 0.2
_BAD_WEIGHT = 5
_LATENCY_FLOOR = 0.001  # seconds: untried links cost this much before reputation
EXPLORE_SHARE = 0.1  # at most this share of offers gives a seat to a worker not picked lately
STALE_AFTER = 10  # offers: a worker offered nothing for this long has a stale latency estimate
_EXPLORE_MIN_SCORE = 0.5  # honesty below which a worker is never explored


@dataclass(eq=False)
class WorkerLink:
    """One worker's authenticated feed connection."""

    worker: str
    socket: WebSocket
    latency: float = 0.0
    jobs: int = 0
    sent_at: dict[bytes, float] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    stale: bool = False  # the latency is an old estimate: the next answer replaces it
    frame_ns: int = 0  # when the message being handled arrived (marked only when tracing)

    async def send(self, offer: JobOffer, request_id: bytes, text: str | None = None) -> None:
        """Sends ``offer`` (``text``: the offer already encoded, once for all its attesters)."""
        self.sent_at[request_id] = time.monotonic()
        self.jobs += 1
        async with self.lock:
            await self.socket.send_text(text if text is not None else encode_message(offer))

    async def send_message(self, message: CosignRequest) -> None:
        """Sends a message that is not a job (a co-sign request)."""
        async with self.lock:
            await self.socket.send_text(encode_message(message))

    def answered(self, request_id: bytes) -> None:
        sent = self.sent_at.pop(request_id, None)
        if sent is not None:
            took = time.monotonic() - sent
            fresh = self.latency == 0 or self.stale
            self.latency = took if fresh else (1 - _EWMA) * self.latency + _EWMA * took
            self.stale = False


@dataclass
class Reputation:
    """What this gateway saw of one worker (module docstring)."""

    good: int = 0
    bad: int = 0
    dropped: int = 0

    @property
    def score(self) -> float:
        """In (0, 1]: 1 for a worker never caught wrong nor dropped, falling with each fault."""
        return (self.good + 1) / (self.good + 1 + _BAD_WEIGHT * self.bad + self.dropped)

    @property
    def honesty(self) -> float:
        """The score without the drops: in (0, 1], falling only with wrong answers."""
        return (self.good + 1) / (self.good + 1 + _BAD_WEIGHT * self.bad)


async def _receive_text(socket: WebSocket) -> str:
    """The next text message; a binary one raises FeedMessageError (the feed speaks JSON text)."""
    message = await socket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    if message.get("text") is None:
        raise FeedMessageError("feed messages are JSON in text frames, not binary")
    return str(message["text"])


AnswerHandler = Callable[[WorkerLink, Answer], None]
RefusalHandler = Callable[[WorkerLink, Refusal], None]
DropHandler = Callable[[WorkerLink, list[bytes]], None]
CosignatureHandler = Callable[[WorkerLink, Cosignature], None]


class FeedHub:
    """Every worker link of this gateway."""

    def __init__(
        self,
        gateway: str,
        chain_id: int,
        records: WorkerRecords | None = None,
        hello_timeout: float = 10.0,
        explore_share: float = EXPLORE_SHARE,
        stale_after: int = STALE_AFTER,
        seed: int | None = None,
    ) -> None:
        if not 0 <= explore_share <= 0.5 or stale_after < 1:
            raise ValueError(
                f"explore_share must be in [0, 0.5] and stale_after >= 1 offer, not"
                f" {explore_share} and {stale_after}"
            )
        self.gateway = gateway
        self.explore_share = explore_share
        self.stale_after = stale_after
        self._random = random.Random(seed)
        self.offers = 0  # tickets (and replacements) offered so far
        self.offered_at: dict[str, int] = {}  # by worker (lower case): the offer it last had
        self.probes = 0  # offers that gave a seat to a worker not picked lately
        self.hello_timeout = hello_timeout
        self.chain_id = chain_id
        self.links: dict[str, WorkerLink] = {}
        self.on_answer: AnswerHandler = lambda link, answer: None
        self.on_refusal: RefusalHandler = lambda link, refusal: None
        self.on_drop: DropHandler = lambda link, pending: None
        self.on_cosignature: CosignatureHandler = lambda link, cosignature: None
        self.refusals = 0
        self.traced = False  # mark each frame's arrival (the desk's stage trace is on)
        self.records = records
        self.reputations: dict[str, Reputation] = {}
        self.latencies: dict[str, float] = {}  # by worker: its last link's answer latency
        for worker, stored in (records.load() if records is not None else {}).items():
            self.reputations[worker] = Reputation(stored.good, stored.bad, stored.dropped)
            self.latencies[worker] = stored.latency

    def reputation(self, worker: str) -> Reputation:
        key = worker.lower()
        record = self.reputations.get(key)  # no new record built for a worker already known
        if record is None:
            record = self.reputations[key] = Reputation()
        return record

    def credit(self, worker: str, good: bool) -> None:
        """Records one good or bad answer of ``worker`` (module docstring)."""
        record = self.reputation(worker)
        if good:
            record.good += 1
        else:
            record.bad += 1
        self._store(worker, record)

    def dropped(self, worker: str) -> None:
        """Records that ``worker``'s feed ended with tickets pending (module docstring)."""
        record = self.reputation(worker)
        record.dropped += 1
        self._store(worker, record)

    def _store(self, worker: str, record: Reputation) -> None:
        if self.records is not None:
            self.records.credit(worker, record.good, record.bad, record.dropped)

    def _remember(self, links: list[WorkerLink]) -> None:
        values = {link.worker.lower(): link.latency for link in links if link.latency > 0}
        self.latencies.update(values)
        if self.records is not None and values:
            self.records.latencies(values)

    def cost(self, link: WorkerLink) -> float:
        """Expected latency over reputation: lower is picked first."""
        return max(link.latency, _LATENCY_FLOOR) / self.reputation(link.worker).score

    def any_linked(self, active: Callable[[str], bool]) -> bool:
        """Whether any linked worker is active (:meth:`pick` would find one), nothing ranked."""
        return any(active(worker) for worker in self.links)

    def pick(
        self, active: Callable[[str], bool], count: int, exclude: set[str]
    ) -> list[WorkerLink]:
        """Up to ``count`` links of active workers not in ``exclude``, cheapest first."""
        candidates = [
            link for worker, link in self.links.items() if worker not in exclude and active(worker)
        ]
        candidates.sort(key=lambda link: (self.cost(link), link.jobs))
        return candidates[:count]

    def idle(self, worker: str) -> int:
        """Offers made since ``worker`` was last offered one (since this hub started if never)."""
        return self.offers - self.offered_at.get(worker.lower(), 0)

    def offer(
        self, active: Callable[[str], bool], count: int, exclude: set[str]
    ) -> list[WorkerLink]:
        """The links one ticket is offered to: :meth:`pick`, except that on a share of offers
        the last seat probes a worker not offered anything lately (module docstring)."""
        ranked = self.pick(active, len(self.links), exclude)
        links = ranked[:count]
        if not links:
            return links
        self.offers += 1
        if self._random.random() < self.explore_share:
            stale = [
                link
                for link in ranked[count:]
                if self.idle(link.worker) >= self.stale_after
                and self.reputation(link.worker).honesty >= _EXPLORE_MIN_SCORE
            ]
            if stale:
                probe = max(stale, key=lambda link: (self.idle(link.worker), -self.cost(link)))
                probe.stale = True
                links[-1] = probe
                self.probes += 1
                log.info(
                    "feed: probing %s (offered nothing for %d offers, stored latency %.3f s)",
                    probe.worker,
                    self.idle(probe.worker),
                    probe.latency,
                )
        for link in links:
            self.offered_at[link.worker.lower()] = self.offers
        return links

    async def ask(self, worker: str, request: CosignRequest) -> bool:
        """Sends ``request`` to ``worker`` when it is linked; False when it is not (or the send
        failed)."""
        link = self.links.get(worker) or next(
            (lk for w, lk in self.links.items() if w.lower() == worker.lower()), None
        )
        if link is None:
            return False
        try:
            await link.send_message(request)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return False
        return True

    async def serve(self, socket: WebSocket) -> None:
        """The ``/_feed`` endpoint: authenticate, then read answers until the worker leaves."""
        await socket.accept()
        nonce = os.urandom(32)
        await socket.send_text(encode_message(Challenge(self.gateway, self.chain_id, nonce)))
        try:
            try:
                text = await asyncio.wait_for(_receive_text(socket), self.hello_timeout)
            except TimeoutError:
                raise FeedMessageError(f"no hello within {self.hello_timeout:g} s") from None
            hello = decode_message(text)
            if not isinstance(hello, Hello) or hello.nonce != nonce:
                raise FeedMessageError("expected a hello answering this connection's nonce")
            if recover_digest(hello_digest(self.gateway, nonce), hello.signature) != hello.worker:
                raise FeedMessageError("the hello is not signed by the worker it names")
        except (TimeoutError, FeedMessageError, WebSocketDisconnect) as exc:
            log.warning("feed connection refused: %s", exc)
            with contextlib.suppress(Exception):
                await socket.close(code=4001, reason=str(exc)[:120])
            return
        link = WorkerLink(hello.worker, socket, self.latencies.get(hello.worker.lower(), 0.0))
        old = self.links.get(link.worker)
        self.links[link.worker] = link
        if old is not None:
            with contextlib.suppress(Exception):
                await old.socket.close(code=4000, reason="replaced by a newer connection")
        log.info("feed: worker %s connected (%d linked)", link.worker, len(self.links))
        try:
            while True:
                try:
                    text = await _receive_text(socket)
                    if self.traced:
                        link.frame_ns = time.monotonic_ns()
                    message = decode_message(text)
                except FeedMessageError as exc:
                    log.warning("feed: bad message from %s: %s", link.worker, exc)
                    continue
                if isinstance(message, Answer):
                    link.answered(message.request_id)
                    self.on_answer(link, message)
                elif isinstance(message, Refusal):
                    link.sent_at.pop(message.request_id, None)
                    self.refusals += 1
                    log.warning(
                        "feed: %s refused ticket 0x%s: %s",
                        link.worker,
                        message.request_id.hex(),
                        message.reason,
                    )
                    self.on_refusal(link, message)
                elif isinstance(message, Cosignature):
                    self.on_cosignature(link, message)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            if self.links.get(link.worker) is link:
                del self.links[link.worker]
            self._remember([link])
            pending = list(link.sent_at)
            link.sent_at.clear()
            log.info("feed: worker %s left with %d ticket(s) unanswered", link.worker, len(pending))
            if pending:
                self.on_drop(link, pending)

    async def close(self) -> None:
        self._remember(list(self.links.values()))
        for link in list(self.links.values()):
            with contextlib.suppress(Exception):
                await link.socket.close(code=1001, reason="gateway stopping")
        self.links.clear()
