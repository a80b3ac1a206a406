"""The registry cache: (wallet, project, function) → what the gateway needs to submit a request.

Entries (found or not found) are keyed by function id, which the gateway computes locally, so
the registry events FunctionPublished, ActiveVersionChanged and FunctionDisabledSet (delivered
by the log follower) drop exactly the entry they concern. ``ttl`` bounds staleness should the
follower fall behind. Concurrent misses for one function share a single ``resolve`` call.

With a content store, resolving also reads the request headers the active version's code
declares (:mod:`peerhost.wire.declarations`); code that cannot be read declares nothing (fail closed:
only the allow-list reaches the function), and the entry is retried after ``ttl``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from peerhost.chain.errors import TransactionReverted
from peerhost.gateway.chainview import GatewayProtocol
from peerhost.gateway.errors import FunctionNotFound
from peerhost.gateway.routing import Target
from peerhost.wire import declarations
from peerhost.wire.ids import function_id_of, project_id_of

MODES = ("fast", "verified")  # IFunctionRegistry.ResponseMode order
log = logging.getLogger(__name__)

#: Reads code by CID (bytes of the CID); raises on any failure.
CodeReader = Callable[[bytes], bytes]


@dataclass(frozen=True)
class ResolvedFunction:
    """A published function as the gateway submits it."""

    function_id: bytes
    project_id: bytes
    wallet: str
    project: str
    name: str
    version: int
    runtime: str
    mode: str  # the registry's default response mode
    disabled: bool
    headers: tuple[str, ...] = ()  # extra request headers the code declares
    schedule: str | None = None  # the cron expression the code declares (peerhost.wire.schedule)


class FunctionCache:
    """Resolves functions through the registry, caching answers until an event or ``ttl``.

    Args:
        protocol: Chain access.
        ttl: Seconds an entry lives without an invalidating event.
        clock: Monotonic seconds (injectable for tests).
        code: Reads a version's code by CID (for its declared headers); None: declare nothing.
    """

    def __init__(
        self,
        protocol: GatewayProtocol,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        code: CodeReader | None = None,
    ) -> None:
        self.protocol = protocol
        self._code = code
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[bytes, tuple[float, ResolvedFunction | None]] = {}
        self._inflight: dict[bytes, asyncio.Future[ResolvedFunction | None]] = {}
        self._generation: dict[bytes, int] = {}
        self.hits = 0
        self.misses = 0

    async def resolve(self, target: Target) -> ResolvedFunction:
        """The function ``target`` names; raises FunctionNotFound (disabled ones are returned)."""
        fid = function_id_of(target.wallet, target.project, target.function)
        entry = self._entries.get(fid)
        if entry is not None and self._clock() - entry[0] < self.ttl:
            self.hits += 1
            found = entry[1]
        else:
            self.misses += 1
            found = await self._load(fid, target)
        if found is None:
            raise FunctionNotFound(target.wallet, target.project, target.function)
        return found

    async def _load(self, fid: bytes, target: Target) -> ResolvedFunction | None:
        pending = self._inflight.get(fid)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[ResolvedFunction | None] = asyncio.get_running_loop().create_future()
        self._inflight[fid] = future
        generation = self._generation.get(fid, 0)
        try:
            found = await self._fetch(target)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it themselves
            raise
        finally:
            self._inflight.pop(fid, None)
        # An event that arrived during the fetch may have made the answer stale: do not keep it.
        if self._generation.get(fid, 0) == generation:
            self._entries[fid] = (self._clock(), found)
        future.set_result(found)
        return found

    async def _fetch(self, target: Target) -> ResolvedFunction | None:
        try:
            fid, info, version = await self.protocol.resolve(
                target.wallet, target.project, target.function
            )
        except TransactionReverted as exc:
            if exc.reason.startswith("UnknownFunction"):
                return None
            raise
        mode = int(version["mode"])
        declared = await self._declarations(bytes(version["codeCid"]))
        return ResolvedFunction(
            function_id=bytes(fid),
            project_id=project_id_of(target.wallet, target.project),
            wallet=target.wallet,
            project=target.project,
            name=target.function,
            version=int(info["activeVersion"]),
            runtime=str(version["runtime"]),
            mode=MODES[mode] if mode < len(MODES) else "verified",
            disabled=bool(info["disabled"]),
            headers=declared.headers,
            schedule=declared.schedule,
        )

    async def _declarations(self, code_cid: bytes) -> declarations.Declarations:
        if self._code is None:
            return declarations.Declarations()
        try:
            code = await asyncio.to_thread(self._code, code_cid)
        except Exception as exc:  # the store's failure must not fail the call: declare nothing
            log.warning("code %s unreadable, no declared headers: %s", code_cid.hex()[:16], exc)
            return declarations.Declarations()
        return declarations.read(code)

    def invalidate(self, function_id: bytes) -> None:
        """Drops one function's entry (a registry event concerned it)."""
        self._entries.pop(function_id, None)
        self._generation[function_id] = self._generation.get(function_id, 0) + 1

    def clear(self) -> None:
        self._entries.clear()
