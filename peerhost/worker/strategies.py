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
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Awaitable, Callable
from typing import ClassVar

from peerhost.wire.envelope import Envelope, decode_envelope
from peerhost.worker.errors import InvalidWorkerSettings, JobSkipped
from peerhost.worker.execution import Execution
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


class WorkerStrategy:
    """Honest: runs every job and stands behind its result (the node installs no hook)."""

    name: ClassVar[str] = "honest"
    #: Whether the node challenges a finalized leaf that contradicts its own result.
    challenges: ClassVar[bool] = True

    def __init__(self, identity: str) -> None:
        self.identity = identity

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


#: Strategy name -> class, for ``--strategy``.
WORKER_STRATEGIES: dict[str, type[WorkerStrategy]] = {
    s.name: s for s in (WorkerStrategy, Lazy, Forger, Griefer, RandomLiar, NoShow)
}


def check_strategy(name: str) -> str:
    """``name`` if it is a known strategy; raises InvalidWorkerSettings naming the known ones."""
    if name not in WORKER_STRATEGIES:
        known = ", ".join(WORKER_STRATEGIES)
        raise InvalidWorkerSettings("strategy", f"unknown strategy {name!r}; use one of {known}")
    return name


def worker_strategy(name: str, identity: str) -> WorkerStrategy:
    """The strategy called ``name`` for the worker at ``identity`` (its address)."""
    return WORKER_STRATEGIES[check_strategy(name)](identity)


__all__ = [
    "WORKER_STRATEGIES",
    "Forger",
    "Griefer",
    "HonestRun",
    "Lazy",
    "NoShow",
    "RandomLiar",
    "WorkerStrategy",
    "check_strategy",
    "forged",
    "worker_strategy",
]
