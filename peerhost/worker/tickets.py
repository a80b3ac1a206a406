"""A ticket from the job feed: check it, run it, attest the result.

Checks, in order (the first that fails is the refusal's reason, which the gateway logs): the
engine profile is one this worker runs; the ticket is signed by the gateway it names, and that is
the gateway the feed connection belongs to (a schedule key's deterministic ticket, seq in
``[2^62, 2^63)``, may come through any feed: see :mod:`peerhost.wire.schedule_ticket`); the mode is known; the deadline has not passed and
``issuedAt`` is within the allowed clock skew; the function version exists; the gateway holds the
minimum bond and was authorized on the project at ``issuedAt``; the project's reserve covers this
ticket beside the other unposted tickets of that gateway this worker took; the ticket was not
seen before (replay). Then the run uses the ticket's function version, clock (``issuedAt``) and
request id. A result that is not deterministic — the wall-clock backstop, a host error, a stack
overflow — is never attested.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from peerhost.chain.errors import ChainUnavailable, TransactionReverted
from peerhost.chain.reads import SharedReads
from peerhost.chain.settlement import SettlementView
from peerhost.stagetrace import StageTrace
from peerhost.wire.batch import Leaf
from peerhost.wire.envelope import ErrorKind, decode_envelope, result_hash
from peerhost.wire.feed import (
    ENGINE_PROFILE,
    Answer,
    DigestSigner,
    FeedMessageError,
    JobOffer,
    Refusal,
    recover_digest,
)
from peerhost.wire.ids import project_id_of
from peerhost.wire.inbox import inbox_base_url
from peerhost.wire.schedule_ticket import is_schedule_seq, scheduled_ticket_problem
from peerhost.wire.ticket import (
    attestation_digest,
    input_hash_of,
    request_id,
    ticket_digest,
    ticket_hash,
)
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.errors import JobSkipped
from peerhost.worker.execution import JobExecutor, Runner
from peerhost.worker.job import Job
from peerhost.worker.metrics import Metrics

log = logging.getLogger(__name__)

_TTL = 2.0
#: Outcomes that depend on the machine, never on the function: not attested.
_UNATTESTABLE = frozenset({ErrorKind.TIMEOUT, ErrorKind.HOST_ERROR, ErrorKind.STACK_OVERFLOW})


#: Envelope bytes -> the outcome that makes them unattestable (None: attestable), for envelopes of
#: at most :data:`_KINDS_MAX_BYTES`: a function answering the same bytes again (every ``hello``)
#: is decoded once. The kind is a pure function of the bytes.
_KINDS: dict[bytes, ErrorKind | None] = {}
_KINDS_KEPT = 256
_KINDS_MAX_BYTES = 4096


def _unattestable(envelope: bytes) -> ErrorKind | None:
    """The outcome of ``envelope`` that is never attested (:data:`_UNATTESTABLE`), or None."""
    if envelope in _KINDS:
        return _KINDS[envelope]
    decoded = decode_envelope(envelope)
    kind = decoded.error_kind if not decoded.ok and decoded.error_kind in _UNATTESTABLE else None
    if len(envelope) <= _KINDS_MAX_BYTES:
        if len(_KINDS) >= _KINDS_KEPT:
            _KINDS.clear()
        _KINDS[envelope] = kind
    return kind


class TicketRefused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class _Fn:
    project_id: bytes
    runtime: str
    code_cid: bytes
    fuel_limit: int
    memory_limit: int


class TicketRunner:
    """Answers job offers (see the module docstring).

    Args:
        view: Settlement contract reads.
        executor: Fetches code and runs the sandbox.
        ledger: What was claimed and attested.
        private_key: The worker's key (signs attestations).
        address: The worker's address.
        clock_skew: Seconds ``issuedAt`` may differ from this worker's clock.
        gateway_urls: Gateway address (lowercase) -> base URL (sealed credentials are opened at
            the issuing gateway's inbox).
        metrics: The node's metrics (runs, sandbox time, fuel, attestations, refusals).
        urgent: Runs the sandbox for feed offers (someone waits for the answer); committee
            re-execution keeps the executor's own runner.
        trace: Marks each feed ticket's stages (:mod:`peerhost.stagetrace`; None: not traced).
    """

    def __init__(
        self,
        view: SettlementView,
        executor: JobExecutor,
        ledger: AttestedLedger,
        private_key: bytes,
        address: str,
        *,
        clock_skew: int = 30,
        gateway_urls: Callable[[], dict[str, str]] = dict,
        metrics: Metrics | None = None,
        urgent: Runner | None = None,
        trace: StageTrace | None = None,
    ) -> None:
        self.view = view
        self.trace = trace
        self.urgent = urgent
        self.executor = executor
        self.ledger = ledger
        self._signer = DigestSigner(private_key)  # built once: signs every attestation
        self.address = address
        self.clock_skew = clock_skew
        self.gateway_urls = gateway_urls
        self.chain_id = view.config.chain_id
        self.settlement = view.config.settlement
        self._fns: dict[tuple[bytes, int], _Fn] = {}
        self._reads = SharedReads(_TTL)  # one read shared by the offers that find it stale
        self.metrics = metrics
        self.attested = 0
        self.refused = 0

    async def _cached(self, key: tuple[Any, ...], load: Callable[[], Awaitable[Any]]) -> Any:
        return await self._reads.get(key, load)

    @property
    def chain_reads(self) -> int:
        """Reads of the cached chain values (bond, authorization, reserve, clock) made so far."""
        return self._reads.reads

    async def now(self) -> int:
        """This worker's clock, never behind the chain's (the offset read once per ``_TTL``)."""
        offset: float = await self._cached(("clock",), self._clock_offset)
        return int(time.time() + offset)

    async def _clock_offset(self) -> float:
        return max(0.0, await self.view.block_timestamp() - time.time())

    async def _function(self, function_id: bytes, version: int) -> _Fn:
        key = (function_id, version)
        if key not in self._fns:
            info = await self.view.function_info(function_id)
            v = await self.view.function_version(function_id, version)
            self._fns[key] = _Fn(
                project_id=project_id_of(str(info["owner"]), str(info["project"])),
                runtime=str(v["runtime"]),
                code_cid=bytes(v["codeCid"]),
                fuel_limit=int(v["fuelLimit"]),
                memory_limit=int(v["memoryLimit"]),
            )
        return self._fns[key]

    async def check(
        self, offer: JobOffer, gateway: str, rid: bytes | None = None
    ) -> tuple[bytes, _Fn]:
        """Raises TicketRefused with the reason; returns the request id (``rid``: already worked
        out by the caller) and the function."""
        t = offer.ticket
        if t.engine_profile != ENGINE_PROFILE:
            raise TicketRefused(f"engine profile 0x{t.engine_profile.hex()} is not run here")
        try:
            signer = recover_digest(
                ticket_digest(self.chain_id, self.settlement, t), offer.signature
            )
        except FeedMessageError:
            signer = ""
        if signer != t.gateway:
            raise TicketRefused("the ticket is not signed by the gateway it names")
        # a schedule key's deterministic ticket comes through the feed of the gateway holding the
        # key (or a stand-in's own hands); its signer is checked like any gateway below
        if t.gateway != gateway and not is_schedule_seq(t.seq):
            raise TicketRefused(f"the ticket names gateway {t.gateway}, not this feed's {gateway}")
        if t.mode > 2:
            raise TicketRefused(f"unknown mode {t.mode}")
        now = await self.now()
        if t.deadline <= now:
            raise TicketRefused(f"the ticket expired at {t.deadline} (now {now})")
        if abs(t.issued_at - now) > self.clock_skew:
            raise TicketRefused(
                f"issuedAt {t.issued_at} is more than {self.clock_skew} s from now ({now})"
            )
        if is_schedule_seq(t.seq) and (problem := scheduled_ticket_problem(t, now)):
            raise TicketRefused(problem)
        if input_hash_of(offer.input) != t.input_hash:
            raise TicketRefused("the input does not match the ticket's inputHash")
        try:
            fn = await self._function(t.function_id, t.version)
        except TransactionReverted as exc:
            raise TicketRefused(f"unknown function version: {exc.reason}") from None
        params = await self.view.params()
        bond = await self._cached(("bond", t.gateway), lambda: self.view.bond_of(t.gateway))
        if bond < int(params["minGatewayBond"]):
            raise TicketRefused(f"gateway bond {bond} is below the minimum")
        valid_from, valid_until = await self._cached(
            ("auth", fn.project_id, t.gateway),
            lambda: self.view.authorization_of(fn.project_id, t.gateway),
        )
        if not valid_from <= t.issued_at < valid_until:
            raise TicketRefused("the gateway is not authorized on the project at issuedAt")
        reserve = await self._cached(
            ("reserve", fn.project_id), lambda: self.view.reserve_of(fn.project_id)
        )
        in_flight = self.ledger.unposted_rewards(fn.project_id, t.gateway)
        if reserve < in_flight + t.reward:
            raise TicketRefused(
                f"the project's reserve ({reserve} wei) does not cover this ticket beside "
                f"{in_flight} wei in flight"
            )
        if rid is None:
            rid = request_id(self.chain_id, self.settlement, t.gateway, t.seq)
        if not self.ledger.claim(t, rid, fn.project_id, offer.signature):
            raise TicketRefused(f"ticket seq {t.seq} of {t.gateway} was seen before (replay)")
        return rid, fn

    async def handle(self, offer: JobOffer, gateway: str) -> Answer | Refusal:
        """Checks and runs one offer; never raises for anything the ticket or function does."""
        t = offer.ticket
        trace = self.trace
        key = ticket_hash(t) if trace is not None else b""
        if trace is not None:
            trace.mark(key, "start")
        rid = request_id(self.chain_id, self.settlement, t.gateway, t.seq)
        try:
            rid, fn = await self.check(offer, gateway, rid)
        except TicketRefused as exc:
            return self._refuse(rid, exc.reason)
        except (ChainUnavailable, TransactionReverted) as exc:
            return self._refuse(rid, f"cannot check the ticket against the chain: {exc}")
        if trace is not None:
            trace.mark(key, "checked")
        # the check compared the input with the ticket's inputHash: not hashed again for the run
        outcome = await self.run(
            rid,
            t.gateway,
            Leaf.of(t),
            offer.input,
            fn,
            urgent=True,
            trace_key=key,
            input_checked=True,
        )
        if trace is not None:
            trace.mark(key, "ran")
        if isinstance(outcome, str):
            self.ledger.decline(t)
            return self._refuse(rid, outcome)
        output, logs_ = outcome
        result = result_hash(output)
        attestation = self._signer.sign(
            attestation_digest(self.chain_id, self.settlement, ticket_hash(t), result)
        )
        if trace is not None:
            trace.mark(key, "signed")
        self.ledger.attest(t, result, attestation)
        if trace is not None:
            trace.mark(key, "persisted")
        self.attested += 1
        if self.metrics is not None:
            self.metrics.attestations += 1
        return Answer(rid, result, output, attestation, logs_)

    def _refuse(self, rid: bytes, reason: str) -> Refusal:
        self.refused += 1
        if self.metrics is not None:
            self.metrics.tickets_refused += 1
        return Refusal(rid, reason)

    async def run(
        self,
        rid: bytes,
        gateway: str,
        leaf: Leaf,
        input_: bytes,
        fn: _Fn | None = None,
        *,
        urgent: bool = False,
        trace_key: bytes = b"",
        input_checked: bool = False,
    ) -> tuple[bytes, bytes] | str:
        """Runs a ticket's function; returns (output envelope, logs) as this worker would attest
        them, or the reason there is no deterministic result (``urgent``: an answer someone
        waits for, through the ``urgent`` runner; ``trace_key``: the traced ticket's hash;
        ``input_checked``: ``input_`` was compared with the leaf's inputHash already)."""
        if fn is None:
            fn = await self._function(leaf.function_id, leaf.version)
        base = self.gateway_urls().get(gateway.lower())
        job = Job(
            request_id=rid,
            function_id=leaf.function_id,
            requester=gateway,
            version=leaf.version,
            runtime=fn.runtime,
            code_cid=fn.code_cid,
            fuel_limit=fn.fuel_limit,
            memory_limit=fn.memory_limit,
            mode=leaf.mode,
            input=input_,
            input_cid=b"",
            input_hash=leaf.input_hash,
            reward=leaf.reward,
            requested_at=leaf.issued_at,
            # the secrets pointer as of the ticket's secretsVersion block (0: the latest)
            block_number=leaf.secrets_version,
            commit_deadline=leaf.deadline,
            reveal_deadline=leaf.deadline,
            # where sealed credential headers are disclosed: the issuing gateway's inbox
            reply_to=inbox_base_url(base).encode() if base is not None else b"",
        )
        metrics = self.metrics
        if metrics is not None:
            metrics.in_flight += 1
        try:
            execution = await self.executor.execute(
                job, self.urgent if urgent else None, input_checked=input_checked
            )
        except JobSkipped as exc:
            return f"no deterministic result: {exc}"
        finally:
            if metrics is not None:
                metrics.in_flight -= 1
        if trace_key and self.trace is not None:  # the sandbox's own part of the run
            ended = time.monotonic_ns()
            self.trace.mark(trace_key, "sandbox", ended - int(execution.run_seconds * 1e9))
            self.trace.mark(trace_key, "sandboxed", ended)
        if metrics is not None:
            metrics.spent("sandbox", execution.run_seconds)
            metrics.spent("fetch", execution.fetch_seconds)
            metrics.executed(execution.run_seconds, execution.fuel_used)
        unattestable = _unattestable(execution.envelope)
        if unattestable is not None:
            return f"no deterministic result: {unattestable}"
        return execution.envelope, execution.log.encode()
