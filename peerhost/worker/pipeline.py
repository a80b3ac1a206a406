"""One job's life on this worker: run → persist salt → commit (and post) → reveal → settle.

Each step reads the request's phase from the chain (``pending``, i.e. at the node's current
time) before acting, and waits on the request's events (or its deadline) in between, so the
pipeline resumes correctly from any status after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from peerhost.chain import Phase, TransactionReverted
from peerhost.wire.commitments import commitment, new_salt
from peerhost.wire.eip712 import sign_result
from peerhost.wire.envelope import result_hash
from peerhost.worker import logs
from peerhost.worker import state as st
from peerhost.worker.chainops import ChainOps
from peerhost.worker.clock import ChainClock
from peerhost.worker.errors import JobSkipped
from peerhost.worker.execution import JobExecutor
from peerhost.worker.inbox import InboxClient, PostOutcome
from peerhost.worker.job import Job
from peerhost.worker.metrics import Metrics
from peerhost.worker.settings import WorkerSettings
from peerhost.worker.tracker import RequestTracker

_SETTLED = (Phase.FINALIZED, Phase.REFUNDED)
_MAX_WAIT = 2.0  # seconds between phase checks when no event arrives


@dataclass
class Identity:
    """Who this worker is on which chain (the key stays in here, never in logs)."""

    address: str
    private_key: bytes
    chain_id: int
    coordinator: str

    def __repr__(self) -> str:
        return f"Identity({self.address})"


class JobPipeline:
    """Drives jobs through their phases; one instance per node, one task per job."""

    def __init__(
        self,
        *,
        identity: Identity,
        settings: WorkerSettings,
        ops: ChainOps,
        state: st.WorkerState,
        executor: JobExecutor,
        inbox: InboxClient,
        metrics: Metrics,
        clock: ChainClock,
    ) -> None:
        self.me = identity
        self.settings = settings
        self.ops = ops
        self.protocol = ops.protocol
        self.state = state
        self.executor = executor
        self.inbox = inbox
        self.metrics = metrics
        self.clock = clock
        self.slots = asyncio.Semaphore(settings.concurrency)
        self.draining = False
        self.posts: set[asyncio.Task[PostOutcome]] = set()

    async def drive(
        self, job: Job, status: str, tracker: RequestTracker, *, resumed: bool = False
    ) -> None:
        """Takes ``job`` from ``status`` as far as it goes (to DONE when not draining)."""
        started = time.perf_counter()
        if status == st.SEEN:
            status = await self.answer(job, tracker, check_phase=resumed)
        elif status == st.COMMITTING:
            status = await self.recommit(job, tracker)
        if status == st.COMMITTED:
            status = await self.reveal(job, tracker)
        if status == st.REVEALED and not self.draining:
            status = await self.settle(job, tracker)
        if status == st.DONE:
            self.metrics.job_done(time.perf_counter() - started)

    # ---- run and commit -------------------------------------------------------------------

    async def answer(self, job: Job, tracker: RequestTracker, check_phase: bool = False) -> str:
        """Runs a job and commits to its result (a fresh job skips the phase check: the commit
        itself is refused if the phase closed; a resumed one may be long stale)."""
        if tracker.reveal_open or (check_phase and await self._phase(job) is not Phase.COMMIT):
            self.metrics.add("missed")
            return self._finish(job, st.MISSED, "commit phase over before the job was run")
        try:
            async with self.slots:
                self.metrics.in_flight += 1
                try:
                    execution = await self.executor.execute(job)
                finally:
                    self.metrics.in_flight -= 1
        except JobSkipped as exc:
            self.metrics.add("skipped")
            return self._finish(job, st.SKIPPED, exc.reason)
        self.metrics.add("run")
        self.metrics.spent("sandbox", execution.run_seconds)
        self.metrics.spent("fetch", execution.fetch_seconds)
        self.metrics.executed(execution.run_seconds, execution.fuel_used)
        envelope = execution.envelope
        rh = result_hash(envelope)
        salt = new_salt()
        c = commitment(
            self.me.chain_id, self.me.coordinator, job.request_id, self.me.address, rh, salt
        )
        await asyncio.to_thread(
            self.state.save_commitment, st.Commitment(job.request_id, rh, salt, c, envelope)
        )
        logs.event(
            "job_run",
            request_id=job.request_id,
            result_hash=rh,
            fuel=execution.fuel_used,
            run_ms=execution.run_seconds * 1000,
            fetch_ms=execution.fetch_seconds * 1000,
        )
        self._post(job, envelope, rh, execution.log)
        return await self._commit(job, c, tracker)

    async def recommit(self, job: Job, tracker: RequestTracker) -> str:
        """After a restart in COMMITTING: the commit may have landed; if not, send it again."""
        saved = self.state.commitment(job.request_id)
        if saved is None:
            return self._finish(job, st.FAILED, "salt lost")
        onchain = await self.ops.read(
            lambda: self.protocol.get_commitment(job.request_id, self.me.address), "getCommitment"
        )
        if bytes(onchain["commitment"]) == saved.commitment:
            self.state.set_status(job.request_id, st.COMMITTED)
            self.metrics.add("committed")
            return st.COMMITTED
        return await self._commit(job, saved.commitment, tracker)

    async def _commit(self, job: Job, c: bytes, tracker: RequestTracker) -> str:
        started = time.perf_counter()
        try:
            await self.ops.transact(lambda: self.protocol.commit(job.request_id, c), "commit")
        except TransactionReverted as exc:
            if not exc.reason.startswith("AlreadyCommitted"):
                self.metrics.add("missed")
                logs.event("commit_refused", request_id=job.request_id, reason=exc.reason)
                return self._finish(job, st.MISSED, exc.reason)
        self.metrics.commit_ms.append((time.perf_counter() - started) * 1000)
        self.state.set_status(job.request_id, st.COMMITTED)
        self.metrics.add("committed")
        logs.event("committed", request_id=job.request_id, commitment=c)
        return st.COMMITTED

    def _post(self, job: Job, envelope: bytes, rh: bytes, log: str = "") -> None:
        url = self.settings.reply_to or job.reply_url
        if not url:
            return
        signature = sign_result(
            self.me.private_key, self.me.chain_id, self.me.coordinator, job.request_id, rh
        )
        task = asyncio.create_task(self.inbox.post(url, job.request_id, envelope, signature, log))
        self.posts.add(task)
        task.add_done_callback(self._posted)

    def _posted(self, task: asyncio.Task[PostOutcome]) -> None:
        self.posts.discard(task)
        if task.cancelled() or task.exception() is not None:
            return
        outcome = task.result()
        if outcome is PostOutcome.ACCEPTED:
            self.metrics.add("posted")
        elif outcome is PostOutcome.REFUSED:
            self.metrics.add("post_refused")

    # ---- reveal ---------------------------------------------------------------------------

    async def reveal(self, job: Job, tracker: RequestTracker) -> str:
        saved = self.state.commitment(job.request_id)
        if saved is None:
            return self._finish(job, st.FAILED, "salt lost")
        while True:
            # RevealPhaseOpened seen: no need to ask (a revert would tell us otherwise)
            phase = Phase.REVEAL if tracker.reveal_open else await self._phase(job)
            if phase is Phase.REVEAL:
                break
            if phase is not Phase.COMMIT:
                return self._finish(job, st.FAILED, f"reveal phase over ({phase.name})")
            await self._wait(tracker, job.commit_deadline)
        try:
            await self.ops.transact(
                lambda: self.protocol.reveal(job.request_id, saved.result_hash, saved.salt),
                "reveal",
            )
        except TransactionReverted as exc:
            if not exc.reason.startswith("AlreadyRevealed"):
                logs.error("reveal_refused", request_id=job.request_id, reason=exc.reason)
                return self._finish(job, st.FAILED, exc.reason)
        self.state.set_status(job.request_id, st.REVEALED)
        self.metrics.add("revealed")
        logs.event("revealed", request_id=job.request_id, result_hash=saved.result_hash)
        return st.REVEALED

    # ---- settle ---------------------------------------------------------------------------

    async def settle(self, job: Job, tracker: RequestTracker) -> str:
        """Waits for the request to settle; finalizes it when due and nobody else has."""
        tries = 0
        while not self.draining:  # a restart settles what a shutdown left
            phase = await self._phase(job)
            if phase in _SETTLED:
                return self._finish(job, st.DONE, phase.name.lower())
            if phase is Phase.SETTLE and tries < 3:
                tries += 1
                if await self._maybe_finalize(job, tracker):
                    return self._finish(job, st.DONE, "finalized")
                continue
            if phase is Phase.SETTLE and self.clock.until(job.reveal_deadline) < -60:
                return self._finish(job, st.DONE, "left to others to finalize")
            await self._wait(tracker, job.reveal_deadline)
        return st.REVEALED

    async def _maybe_finalize(self, job: Job, tracker: RequestTracker) -> bool:
        """Finalizes unless someone else does first; True when this worker's finalize landed."""
        if tracker.my_index is None:
            c = await self.ops.read(
                lambda: self.protocol.get_commitment(job.request_id, self.me.address),
                "getCommitment",
            )
            tracker.my_index = int(c["index"])
        delay = self.settings.finalize_delay * tracker.my_index
        if delay > 0:
            await tracker.wait(delay)
            if tracker.settled or await self._phase(job) is not Phase.SETTLE:
                return False
        try:
            await self.ops.transact(lambda: self.protocol.finalize(job.request_id), "finalize")
        except TransactionReverted as exc:
            logs.debug("finalize_lost", request_id=job.request_id, reason=exc.reason)
            return False
        self.metrics.add("finalized")
        logs.event("finalized", request_id=job.request_id)
        return True

    # ---- helpers --------------------------------------------------------------------------

    async def _phase(self, job: Job) -> Phase:
        return await self.ops.read(
            lambda: self.protocol.phase(job.request_id, block="pending"), "phase"
        )

    async def _wait(self, tracker: RequestTracker, deadline: int) -> None:
        started = time.perf_counter()
        await tracker.wait(min(_MAX_WAIT, max(0.05, self.clock.until(deadline) + 0.05)))
        self.metrics.spent("waiting", time.perf_counter() - started)

    def _finish(self, job: Job, status: str, detail: str) -> str:
        self.state.set_status(job.request_id, status, detail)
        level = logging.WARNING if status in (st.SKIPPED, st.FAILED) else logging.INFO
        logs.event("job_" + status, level, request_id=job.request_id, detail=detail)
        return status
