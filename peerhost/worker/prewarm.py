"""Prewarm on publish: a new version's code is fetched and compiled before its first call.

The node follows the FunctionRegistry's ``FunctionPublished`` events beside the coordinator's and
offers each new version here. One task works through a bounded queue, one version at a time:
fetch the code by CID (verified by the store, kept in the executor's memory for the first job),
then have the sandbox runner compile it on disk and load it into every sandbox process
(:meth:`~peerhost.worker.execution.SandboxRunner.prewarm`). The first call then neither fetches
nor compiles.

Publishing is open to anyone, so prewarming is bounded like the sandbox itself: code above the
sandbox's code cap is not fetched into the compiler, a module that is not wasm, fails or times
out compiling is refused once and remembered (the sandbox refuses it the same way at run time),
the queue holds at most ``queue`` versions (offers beyond it are dropped and logged; the call
then compiles as before), and the same code is prewarmed once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from peerhost.sandbox import Limits
from peerhost.sandbox.errors import SandboxError
from peerhost.storage.cid import cid_from_bytes
from peerhost.storage.errors import StorageError
from peerhost.worker import logs

#: Runtimes whose versions are worth prewarming (``wasi``: the module itself; ``python``: the
#: runtime, loaded in every sandbox process). ``js`` and ``clf`` only prefetch their source.
_RUNTIMES = ("wasi", "python", "js", "clf")
#: Code ids remembered as already prewarmed (or refused).
_REMEMBERED = 4096

Fetch = Callable[[bytes], Awaitable[bytes]]
Warm = Callable[[str, bytes], Awaitable[bool]]


@dataclass(frozen=True)
class Prewarmed:
    """What one prewarm did (also logged as ``prewarmed``)."""

    runtime: str
    code_cid: bytes
    code_bytes: int
    compiled: bool
    fetch_seconds: float
    compile_seconds: float


class Prewarmer:
    """Fetches and compiles newly published code ahead of its first call (module docstring).

    Args:
        fetch: the code for a CID (the executor's verified, caching fetch).
        warm: compiles and loads code for a runtime; True if it compiled now.
        max_code_bytes: code larger than this is not compiled (the sandbox refuses it too).
        queue: versions waiting at most; later offers are dropped while it is full.
    """

    def __init__(
        self,
        fetch: Fetch,
        warm: Warm,
        *,
        max_code_bytes: int = Limits().max_code_bytes,
        queue: int = 32,
    ) -> None:
        self._fetch = fetch
        self._warm = warm
        self.max_code_bytes = max_code_bytes
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(maxsize=queue)
        self._seen: OrderedDict[tuple[str, bytes], None] = OrderedDict()
        self.prewarmed = 0
        self.refused = 0
        self.dropped = 0

    def offer(self, runtime: str, code_cid: bytes) -> bool:
        """Queues a published version's code; False if it is not queued (unknown runtime, seen
        already, or the queue is full)."""
        key = (runtime, bytes(code_cid))
        if runtime not in _RUNTIMES or key in self._seen:
            return False
        try:
            self._queue.put_nowait(key)
        except asyncio.QueueFull:
            self.dropped += 1  # backfilling many publishes at start, say: those calls compile
            logs.event("prewarm_dropped", logging.DEBUG, code_cid=key[1], runtime=runtime)
            return False
        self._remember(key)
        return True

    async def run(self) -> None:
        """Works through the queue until cancelled."""
        while True:
            runtime, code_cid = await self._queue.get()
            try:
                await self.prewarm(runtime, code_cid)
            except Exception as exc:  # one version's trouble must not stop prewarming the next
                logs.error("prewarm_failed", code_cid=code_cid, runtime=runtime, error=repr(exc))

    async def prewarm(self, runtime: str, code_cid: bytes) -> Prewarmed | None:
        """Fetches and compiles one version's code; None if it was refused (logged)."""
        self._remember((runtime, bytes(code_cid)))
        started = time.perf_counter()
        cid = "0x" + bytes(code_cid).hex()  # what a CID that does not parse is logged as
        try:
            cid = cid_from_bytes(code_cid)
            code = await self._fetch(code_cid)
            fetched = time.perf_counter()
            if len(code) > self.max_code_bytes:
                self._refuse(cid, runtime, f"code of {len(code)} bytes is above the cap")
                return None
            compiled = await self._warm(runtime, code)
        except (SandboxError, StorageError) as exc:  # not wasm, compile failed/timed out, no code
            self._refuse(cid, runtime, str(exc))
            return None
        done = Prewarmed(
            runtime, bytes(code_cid), len(code), compiled, fetched - started,
            time.perf_counter() - fetched,
        )  # fmt: skip
        self.prewarmed += 1
        logs.event(
            "prewarmed",
            code_cid=cid,
            runtime=runtime,
            code_bytes=done.code_bytes,
            compiled=compiled,
            fetch_ms=round(done.fetch_seconds * 1000, 2),
            compile_ms=round(done.compile_seconds * 1000, 2),
        )
        return done

    def _refuse(self, cid: str, runtime: str, reason: str) -> None:
        self.refused += 1
        logs.warning("prewarm_refused", code_cid=cid, runtime=runtime, reason=reason)

    def _remember(self, key: tuple[str, bytes]) -> None:
        self._seen[key] = None
        self._seen.move_to_end(key)
        while len(self._seen) > _REMEMBERED:
            self._seen.popitem(last=False)
