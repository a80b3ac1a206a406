"""The worker's side: the environment of one run, from the registry's pointer to opened values.

::

    secrets = SecretsResolver(
        pointer=protocol.secrets_bundle, function_info=protocol.get_function, store=store,
        worker_address=me, private_key=load_or_create_worker_key(data_dir / KEY_FILE_NAME),
        chain_id=config.chain_id, registry=config.registry, redactor=redactor)
    env = await secrets.env_for_function(job.function_id, now=job.requested_at,
                                         block=job.block_number)    # {} when no secrets

Opened bundles are cached by CID (content-addressed, so a CID always means the
same bytes); the expiry is still judged on every call. Any
:class:`~peerhost.secrets.errors.SecretsError` means this worker must not run
(nor commit to) the request.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from nacl.public import PrivateKey

from peerhost.secrets.bundle import open_bundle
from peerhost.secrets.errors import BundleExpired
from peerhost.secrets.redact import Redactor
from peerhost.storage import ContentSource, cid_from_bytes
from peerhost.wire.secrets import Bundle

Pointer = Callable[..., Awaitable[bytes]]
"""``(owner, project[, block=hex]) -> binary CID`` (e.g. :meth:`peerhost.chain.Protocol.secrets_bundle`).

Called with ``block=`` (a 0x-hex block number) only when the caller gives a block."""

FunctionInfo = Callable[[bytes], Awaitable[Mapping[str, Any]]]
"""``function_id -> {"owner": ..., "project": ...}`` (e.g. :meth:`peerhost.chain.Protocol.get_function`)."""


class SecretsResolver:
    """Resolves (owner, project) to the environment values this worker may pass to a function.

    Args:
        pointer: Reads the registry's bundle CID for (owner, project).
        function_info: Reads a function's owner and project (for :meth:`env_for_function`).
        store: Where bundles are fetched from (verified against the CID).
        worker_address: This worker's address.
        private_key: This worker's X25519 private key.
        chain_id: The chain's id.
        registry: The FunctionRegistry address.
        redactor: If given, every opened value is added to it.
        cache_size: How many opened bundles to keep.
    """

    def __init__(
        self,
        *,
        pointer: Pointer,
        function_info: FunctionInfo | None = None,
        store: ContentSource,
        worker_address: str,
        private_key: PrivateKey,
        chain_id: int,
        registry: str,
        redactor: Redactor | None = None,
        cache_size: int = 128,
    ) -> None:
        self._pointer = pointer
        self._function_info = function_info
        self._functions: dict[bytes, tuple[str, str]] = {}
        self._store = store
        self._worker = worker_address
        self._key = private_key
        self._chain_id = chain_id
        self._registry = registry
        self._redactor = redactor
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[bytes, str, str], tuple[int, dict[str, str]]] = OrderedDict()
        self._pinned: OrderedDict[tuple[str, str, int], bytes] = OrderedDict()
        self._reading: dict[tuple[str, str, int], asyncio.Future[bytes]] = {}

    async def env_for_function(
        self, function_id: bytes, *, now: int, block: int | None = None
    ) -> dict[str, str]:
        """:meth:`env_for` the project of ``function_id`` (its owner and project are cached:
        a function id is derived from them, so they never change).

        Raises:
            RuntimeError: no ``function_info`` was given.
            SecretsError, StorageError: as for :meth:`env_for`.
        """
        if function_id not in self._functions:
            if self._function_info is None:
                raise RuntimeError("SecretsResolver needs function_info for env_for_function")
            info = await self._function_info(function_id)
            self._functions[function_id] = (str(info["owner"]), str(info["project"]))
        owner, project = self._functions[function_id]
        return await self.env_for(owner, project, now=now, block=block)

    async def env_for(
        self, owner: str, project: str, *, now: int, block: int | None = None
    ) -> dict[str, str]:
        """The values for a run of one of (owner, project)'s functions; ``{}`` when it has none.

        Args:
            owner: The project's owner (from the registry).
            project: The project name.
            now: The request's block timestamp (every worker judges expiry alike).
            block: The request's block number: the pointer is read as of that block, so
                every worker uses the same bundle even while the owner rotates (0 or None:
                the latest block).

        Raises:
            SecretsError: any leaf (expired, re-seal needed, tampered, re-targeted);
                the worker must not commit.
            StorageError: the bundle cannot be fetched.
        """
        if block:
            # the pointer as of a past block never changes: read it once
            at = (owner.lower(), project, block)
            cid = self._pinned.get(at)
            if cid is None:
                cid = await self._pinned_pointer(owner, project, block, at)
        else:
            cid = await self._pointer(owner, project)
        if not cid:
            return {}
        key = (bytes(cid), owner.lower(), project)
        cached = self._cache.get(key)
        if cached is None:
            data = await asyncio.to_thread(self._store.get, cid_from_bytes(cid))
            values = open_bundle(
                data,
                worker_address=self._worker,
                worker_private_key=self._key,
                expected_owner=owner,
                project=project,
                chain_id=self._chain_id,
                registry=self._registry,
                now=now,
            )
            cached = (Bundle.from_bytes(data).expires_at, values)
            self._cache[key] = cached
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            if self._redactor is not None:
                self._redactor.add(values.values())
        else:
            self._cache.move_to_end(key)
        expires_at, values = cached
        if now >= expires_at:
            raise BundleExpired(project, expires_at, now)
        return dict(values)

    async def _pinned_pointer(
        self, owner: str, project: str, block: int, at: tuple[str, str, int]
    ) -> bytes:
        """The pointer as of ``block``, read once: every run that asks while the read is out
        waits for that read (the gateway moves its tickets' block every few seconds, and each
        ticket of a busy worker found the new block unread and sent a read of its own). A read
        that fails fails its waiters and is not kept; a waiter cancelled does not cancel it."""
        reading = self._reading.get(at)
        if reading is None:
            reading = asyncio.ensure_future(self._read_pinned(owner, project, block, at))
            reading.add_done_callback(_retrieved)
            self._reading[at] = reading
        return await asyncio.shield(reading)

    async def _read_pinned(
        self, owner: str, project: str, block: int, at: tuple[str, str, int]
    ) -> bytes:
        try:
            cid = await self._pointer(owner, project, block=hex(block))
            self._pinned[at] = cid
            while len(self._pinned) > self._cache_size:
                self._pinned.popitem(last=False)
            return cid
        finally:
            self._reading.pop(at, None)


def _retrieved(read: asyncio.Future[bytes]) -> None:
    """Marks a shared read's failure as seen (its waiters, if any, got it already)."""
    if not read.cancelled():
        read.exception()
