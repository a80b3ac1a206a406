"""Deviating behaviours a worker process can be started with, for the protocol lab's devnets.

    python -m peerhost.worker --strategy lazy        # or PEERHOST_WORKER_STRATEGY=lazy
    ape run worker --account TEST::4 --strategy forger
    bin/devnet --workers honest,honest,lazy,forger

A strategy decides one thing: the envelope a worker stands behind for a job. That one envelope is
what the node attests on the job feed and what it commits to and reveals as a committee seat, so
the single hook (:class:`~peerhost.worker.execution.JobExecutor`'s ``hook``) covers execution,
attestation, commit and reveal. A strategy also says whether the node challenges a finalized leaf
that contradicts it (only ``honest`` does). The names and behaviours are those of the lab's
model strategies (``peerhost.lab.strategies``, docs/economics.md): ``lazy`` answers without
running, ``forger`` tells one lie its owner's identities share, ``random-liar`` lies on a share of
its jobs, ``griefer`` tells a lie of its own, ``no-show`` never answers. With ``honest`` (the
default) the node has no hook and runs as the production worker does.

Four strategies decide across their owner's identities, as the lab's ``withholder``,
``captured-committee`` and ``self-dealing`` do: the identities of one owner share what a real
cartel shares, a common configuration (``--cartel 0xA,0xB``: the owner's worker addresses, from
which each derives the same lie for a leaf) and what the chain shows (who holds a batch's seats,
a case's standing value). They act through the node's other hooks, each default-None:
:class:`~peerhost.worker.committee.Committee`'s ``ballot`` (what a seat commits, whether it
reveals) and :class:`~peerhost.worker.accountability.Accountability`'s ``challenge``, ``present``
and ``tier_vote``. ``withholder`` attests honestly, commits its owner's lie and reveals it only
when its owner holds a quorum of the batch's seats; ``captured-committee`` votes honestly unless
its owner holds a quorum of seats, then commits and reveals the owner's lie (and stands by it in
the tiers), hoping to punish the honest seat and present the honest attestations the lie
contradicts; ``spam-challenger`` runs honestly and challenges every standing value it agrees
with; ``self-dealing`` attests its owner's lie, votes honestly, and presents its owner's lying
attestations itself once the leaf settles (the presenter's share is its, the reward goes back to
the project).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Awaitable, Callable
from typing import ClassVar

from eth_utils import is_address

from peerhost.wire.batch import ABSTAIN
from peerhost.wire.envelope import Envelope, decode_envelope, result_hash
from peerhost.worker.accountability import ChallengeHook, PresentHook, TierVoteHook
from peerhost.worker.committee import BallotHook, SeatBallot, SeatContext
from peerhost.worker.errors import InvalidWorkerSettings, JobSkipped
from peerhost.worker.execution import Execution, ExecutionHook
from peerhost.worker.job import Job

#: Runs the job honestly (fetch, verify, sandbox) and returns its execution.
HonestRun = Callable[[], Awaitable[Execution]]


def forged(envelope_bytes: bytes, tag: str) -> bytes:
    """A wrong but well-formed envelope; equal ``tag``s give equal lies (coordination)."""
    envelope = decode_envelope(envelope_bytes)
    if envelope.ok:
        return dataclasses.replace(envelope, body=f"forged:{tag}", body_encoding=None).encode()
    return dataclasses.replace(envelope, error_detail=f"forged:{tag}").encode()


def uniform(identity: str, job: Job) -> float:
    """A number in [0, 1) from a hash of (identity, request id): reproducible per job (a local
    draw, not a wire format: no other party recomputes it)."""
    digest = hashlib.blake2b(b"u|" + identity.lower().encode() + b"|" + job.request_id).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def cartel_lie(tag: str, batch_id: int, index: int) -> bytes:
    """The result hash a cartel stands behind for leaf ``index`` of ``batch_id``: every identity
    of one owner (one ``tag``) derives the same one, and it is no envelope's hash."""
    return hashlib.blake2b(b"cartel|%s|%d|%d" % (tag.encode(), batch_id, index)).digest()[:32]


def parse_cartel(text: str) -> tuple[str, ...]:
    """``--cartel``: comma-separated worker addresses (lower case, sorted, no duplicates).

    Raises:
        InvalidWorkerSettings: an entry is not an address.
    """
    members = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in members if not is_address(m)]
    if bad:
        raise InvalidWorkerSettings(
            "cartel", f"{', '.join(bad)} is not an address; give the owner's worker addresses"
        )
    return tuple(sorted({m.lower() for m in members}))


class WorkerStrategy:
    """Honest: runs every job and stands behind its result (the node installs no hook).

    Args:
        identity: This worker's address.
        cartel: Its owner's worker addresses (this one included or not): the identities a
            cartel strategy coordinates with.
    """

    name: ClassVar[str] = "honest"
    #: Whether the node challenges a finalized leaf that contradicts its own result.
    challenges: ClassVar[bool] = True
    #: Whether the strategy coordinates its owner's identities (needs ``--cartel``).
    needs_cartel: ClassVar[bool] = False

    def __init__(self, identity: str, cartel: tuple[str, ...] = ()) -> None:
        self.identity = identity
        self.cartel = tuple(sorted({*cartel, identity.lower()}))
        #: The owner's lie tag: every member derives it from the same member list.
        self.owner_tag = ",".join(self.cartel)

    # ---- the hooks the node installs (None: the production behaviour) ----

    def execution_hook(self) -> ExecutionHook | None:
        return None if type(self).execute is WorkerStrategy.execute else self.execute

    def ballot_hook(self) -> BallotHook | None:
        return None

    def challenge_hook(self) -> ChallengeHook | None:
        return None

    def present_hook(self) -> PresentHook | None:
        return None

    def tier_vote_hook(self) -> TierVoteHook | None:
        return None

    def owner_seats(self, ctx: SeatContext) -> int:
        """Seats of the batch the owner's identities hold (seats are public once drawn)."""
        return sum(n for holder, n in ctx.seats.items() if holder in self.cartel)

    def lie_vector(self, ctx: SeatContext) -> tuple[bytes, ...]:
        """The owner's lie on every leaf this seat audits (ABSTAIN elsewhere)."""
        return tuple(
            ABSTAIN if v == ABSTAIN else cartel_lie(self.owner_tag, ctx.batch_id, i)
            for i, v in enumerate(ctx.vector)
        )

    async def execute(self, job: Job, run: HonestRun) -> Execution:
        """The execution this worker attests, commits and reveals for ``job``.

        Raises:
            JobSkipped: the worker answers nothing (never attests, never commits).
        """
        return await run()


class Lazy(WorkerStrategy):
    """Answers without running anything: a guessed envelope (an empty 200 response)."""

    name = "lazy"
    challenges = False
    GUESS = Envelope(ok=True, status=200, headers={}, body="", fuel_used=0).encode()

    async def execute(self, job: Job, run: HonestRun) -> Execution:
        return Execution(self.GUESS, True, 0, 0.0, 0.0)


class Forger(WorkerStrategy):
    """Runs the job, then stands behind one lie that every forger identity shares."""

    name = "forger"
    challenges = False
    tag: ClassVar[str] = "forger"

    async def execute(self, job: Job, run: HonestRun) -> Execution:
        honest = await run()
        return dataclasses.replace(honest, envelope=forged(honest.envelope, self._tag()))

    def _tag(self) -> str:
        return self.tag


class Griefer(Forger):
    """Lies on every job with a lie of its own (two griefer identities tell two lies)."""

    name = "griefer"

    def _tag(self) -> str:
        return self.identity.lower()


class RandomLiar(Griefer):
    """Lies on a share ``rate`` of its jobs (drawn from the job's id), each lie its own."""

    name = "random-liar"
    rate: ClassVar[float] = 0.5

    async def execute(self, job: Job, run: HonestRun) -> Execution:
        if uniform(self.identity, job) >= self.rate:
            return await run()
        return await super().execute(job, run)


class NoShow(WorkerStrategy):
    """Never answers: attests nothing and, drawn for a committee, never commits."""

    name = "no-show"
    challenges = False

    async def execute(self, job: Job, run: HonestRun) -> Execution:
        raise JobSkipped(job.request_id, "the no-show strategy answers nothing")


class Withholder(WorkerStrategy):
    """Attests honestly; as a seat commits its owner's lie and reveals it only when its owner
    holds a quorum of the batch's seats (it wins), else withholds the reveal (a no-show)."""

    name = "withholder"
    challenges = False
    needs_cartel = True

    def ballot_hook(self) -> BallotHook | None:
        return self.ballot

    def tier_vote_hook(self) -> TierVoteHook | None:
        return self.tier_vote

    async def ballot(self, ctx: SeatContext) -> SeatBallot:
        return SeatBallot(self.lie_vector(ctx), reveal=self.owner_seats(ctx) >= ctx.quorum)

    def tier_vote(
        self, batch_id: int, index: int, rid: bytes, mine: bytes, standing: bytes
    ) -> bytes:
        return cartel_lie(self.owner_tag, batch_id, index)


class CapturedCommittee(Withholder):
    """Votes honestly unless its owner holds a quorum of the batch's seats; then commits and
    reveals its owner's lie (and stands by it in the tiers), so that the honest minority seat is
    punished and the honest attestations the lie contradicts are presented by its seats."""

    name = "captured-committee"

    async def ballot(self, ctx: SeatContext) -> SeatBallot:
        if self.owner_seats(ctx) < ctx.quorum:
            return SeatBallot(ctx.vector)
        return SeatBallot(self.lie_vector(ctx))

    def tier_vote(
        self, batch_id: int, index: int, rid: bytes, mine: bytes, standing: bytes
    ) -> bytes:
        lie = cartel_lie(self.owner_tag, batch_id, index)
        return lie if standing == lie else mine


class SpamChallenger(WorkerStrategy):
    """Runs, attests and votes honestly, but challenges every standing value it agrees with (to
    make the court work), never one it contradicts."""

    name = "spam-challenger"
    challenges = False

    def challenge_hook(self) -> ChallengeHook | None:
        return self.challenge

    def challenge(self, batch_id: int, index: int, mine: bytes, standing: bytes) -> bool:
        return mine != ABSTAIN and mine == standing


class SelfDealing(WorkerStrategy):
    """The identity of a project owner: attests its owner's lie, votes honestly as a seat, and
    once the leaf settles presents its owner's lying attestations itself (the presenter's share
    is its, the ticket's reward goes back to the project)."""

    name = "self-dealing"
    challenges = False
    needs_cartel = True

    def __init__(self, identity: str, cartel: tuple[str, ...] = ()) -> None:
        super().__init__(identity, cartel)
        #: request id -> the honest result hash (what this identity votes as a seat)
        self.honest: dict[bytes, bytes] = {}

    async def execute(self, job: Job, run: HonestRun) -> Execution:
        honest = await run()
        self.honest[job.request_id] = result_hash(honest.envelope)
        return dataclasses.replace(
            honest, envelope=forged(honest.envelope, "owner:" + self.owner_tag)
        )

    def ballot_hook(self) -> BallotHook | None:
        return self.ballot

    def present_hook(self) -> PresentHook | None:
        return self.presents

    def tier_vote_hook(self) -> TierVoteHook | None:
        return self.tier_vote

    async def ballot(self, ctx: SeatContext) -> SeatBallot:
        """The honest vector: a leaf it attested (its lie) gets the honest result it ran."""
        return SeatBallot(
            tuple(
                self.honest.get(rid, v) if v != ABSTAIN else v
                for rid, v in zip(ctx.request_ids, ctx.vector, strict=True)
            )
        )

    def tier_vote(
        self, batch_id: int, index: int, rid: bytes, mine: bytes, standing: bytes
    ) -> bytes:
        return self.honest.get(rid, mine)

    def presents(self, attester: str) -> bool:
        return attester.lower() in self.cartel


#: Strategy name -> class, for ``--strategy``.
WORKER_STRATEGIES: dict[str, type[WorkerStrategy]] = {
    s.name: s
    for s in (
        WorkerStrategy,
        Lazy,
        Forger,
        Griefer,
        RandomLiar,
        NoShow,
        Withholder,
        CapturedCommittee,
        SpamChallenger,
        SelfDealing,
    )
}
#: The strategies that coordinate their owner's identities (``--cartel``).
CARTEL_STRATEGIES = tuple(n for n, s in WORKER_STRATEGIES.items() if s.needs_cartel)


def check_strategy(name: str, cartel: str | None = None) -> str:
    """``name`` if it is a known strategy (and, when ``cartel`` is given, the cartel it needs is
    there); raises InvalidWorkerSettings naming the known ones or what to give."""
    if name not in WORKER_STRATEGIES:
        known = ", ".join(WORKER_STRATEGIES)
        raise InvalidWorkerSettings("strategy", f"unknown strategy {name!r}; use one of {known}")
    if cartel is not None:
        members = parse_cartel(cartel)
        if WORKER_STRATEGIES[name].needs_cartel and not members:
            raise InvalidWorkerSettings(
                "cartel",
                f"the {name} strategy coordinates its owner's identities: give --cartel "
                "0xA,0xB (or PEERHOST_WORKER_CARTEL), the owner's worker addresses",
            )
    return name


def worker_strategy(name: str, identity: str, cartel: str = "") -> WorkerStrategy:
    """The strategy called ``name`` for the worker at ``identity`` (its address), coordinating
    with the ``cartel`` (comma-separated addresses of its owner's workers)."""
    check_strategy(name, cartel)
    return WORKER_STRATEGIES[name](identity, parse_cartel(cartel))


__all__ = [
    "CARTEL_STRATEGIES",
    "WORKER_STRATEGIES",
    "CapturedCommittee",
    "Forger",
    "Griefer",
    "HonestRun",
    "Lazy",
    "NoShow",
    "RandomLiar",
    "SelfDealing",
    "SpamChallenger",
    "Withholder",
    "WorkerStrategy",
    "cartel_lie",
    "check_strategy",
    "forged",
    "parse_cartel",
    "worker_strategy",
]
