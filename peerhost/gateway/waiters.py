"""Requests in flight on this replica, each waiting for its answer.

A :class:`Waiter` collects every distinct signed output posted for its request (by result hash)
and resolves:

- fast: with the first valid output;
- verified: once the request is finalized on-chain, with a received output whose keccak equals
  the finalized hash (outputs that arrive after the finalization are matched too).

A refund (no quorum) or a failed transaction resolves it with an error.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from peerhost.gateway.errors import DuplicateResult, RequestRefunded


@dataclass(frozen=True)
class Output:
    """One worker's signed output."""

    body: bytes
    result_hash: bytes
    worker: str
    received_at: float = field(default_factory=time.monotonic)
    log: str = ""  # the function's log as the worker sent it (redacted, capped; not hashed)


class Waiter:
    """One in-flight request; see the module docstring for when it resolves."""

    def __init__(self, request_id: bytes, mode: str) -> None:
        self.request_id = request_id
        self.mode = mode
        self.outputs: dict[bytes, Output] = {}
        self.workers: set[str] = set()
        self.finalized: bytes | None = None
        self.fastest: str | None = None
        self.tx_hash: bytes | None = None
        self.confirmed = False
        self._done: asyncio.Future[Output] = asyncio.get_running_loop().create_future()

    @property
    def done(self) -> bool:
        return self._done.done()

    @property
    def answered(self) -> bool:
        """Resolved with an output (not failed, not cancelled)."""
        return self._done.done() and not self._done.cancelled() and self._done.exception() is None

    def offer(self, output: Output) -> None:
        """Adds a verified output; raises DuplicateResult if this worker already posted one."""
        worker = output.worker.lower()
        if worker in self.workers:
            raise DuplicateResult("0x" + self.request_id.hex(), output.worker)
        self.workers.add(worker)
        self.outputs.setdefault(output.result_hash, output)
        if self.mode == "fast" or output.result_hash == self.finalized:
            self._resolve(self.outputs[output.result_hash])

    def finalize(self, result_hash: bytes, fastest: str | None = None) -> None:
        """The request finalized on-chain with ``result_hash``."""
        self.finalized = result_hash
        self.fastest = fastest
        if self.mode == "verified" and result_hash in self.outputs:
            self._resolve(self.outputs[result_hash])

    def refunded(self) -> None:
        """The request was refunded on-chain (no quorum): no answer will come."""
        self.fail(RequestRefunded("0x" + self.request_id.hex(), status_url=""))

    def fail(self, exc: BaseException) -> None:
        if not self._done.done():
            self._done.set_exception(exc)

    def _resolve(self, output: Output) -> None:
        if not self._done.done():
            self._done.set_result(output)

    async def wait(self, timeout: float) -> Output:
        """The answer; raises TimeoutError after ``timeout`` seconds or the error it failed with."""
        return await asyncio.wait_for(asyncio.shield(self._done), timeout)

    def cancel(self) -> None:
        if not self._done.done():
            self._done.cancel()


class Waiters:
    """The waiters of this replica by request id, plus how many submissions await a receipt.

    A worker can post an output before this replica has matched the request's receipt (and, in
    rare cases, under an id other than the predicted one); :meth:`settled` lets the inbox wait
    for pending confirmations before it calls an id unknown.
    """

    #: Seconds an answered request is remembered, so late outputs get "already answered".
    ANSWERED_TTL = 60.0
    ANSWERED_MAX = 10_000

    def __init__(self) -> None:
        self._answered: OrderedDict[bytes, float] = OrderedDict()
        self._by_id: dict[bytes, Waiter] = {}
        self._unconfirmed = 0
        self._changed = asyncio.Condition()

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, request_id: bytes) -> Waiter | None:
        return self._by_id.get(request_id)

    def add(self, waiter: Waiter) -> None:
        self._by_id[waiter.request_id] = waiter
        self._unconfirmed += 1

    async def confirmed(self, waiter: Waiter, actual_id: bytes | None) -> None:
        """The receipt is in: ``actual_id`` is the on-chain id (None: the transaction failed)."""
        if not waiter.confirmed:
            waiter.confirmed = True
            self._unconfirmed -= 1
        if actual_id is not None and actual_id != waiter.request_id:
            registered = self._by_id.get(waiter.request_id) is waiter
            if registered:
                del self._by_id[waiter.request_id]
            waiter.request_id = actual_id
            if registered:
                self._by_id[actual_id] = waiter
        async with self._changed:
            self._changed.notify_all()

    def remove(self, waiter: Waiter) -> None:
        if self._by_id.get(waiter.request_id) is waiter:
            del self._by_id[waiter.request_id]
        if waiter.answered:
            self._answered[waiter.request_id] = time.monotonic()
            while len(self._answered) > self.ANSWERED_MAX:
                self._answered.popitem(last=False)
        if not waiter.confirmed:
            waiter.confirmed = True
            self._unconfirmed -= 1

    def recently_answered(self, request_id: bytes) -> bool:
        """Whether this replica answered ``request_id`` within ANSWERED_TTL seconds."""
        at = self._answered.get(request_id)
        return at is not None and time.monotonic() - at < self.ANSWERED_TTL

    def fail_all(self, exc: BaseException) -> None:
        """Fails every waiter (the replica is shutting down)."""
        for waiter in list(self._by_id.values()):
            waiter.fail(exc)

    @property
    def unconfirmed(self) -> int:
        return self._unconfirmed

    async def settled(self, request_id: bytes, timeout: float) -> Waiter | None:
        """The waiter of ``request_id``, waiting up to ``timeout`` while receipts are pending."""
        deadline = time.monotonic() + timeout
        while True:
            waiter = self._by_id.get(request_id)
            remaining = deadline - time.monotonic()
            if waiter is not None or self._unconfirmed == 0 or remaining <= 0:
                return waiter
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    return self._by_id.get(request_id)
