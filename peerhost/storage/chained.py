"""Several sources tried in order (cache, daemon, gateway); the first verified answer wins."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from peerhost.storage.base import ContentSource, ContentStore
from peerhost.storage.cid import CidLike, cid_str
from peerhost.storage.errors import (
    ContentMismatch,
    ContentNotFound,
    StorageError,
    StoreReadOnly,
    StoreUnavailable,
)
from peerhost.storage.local import LocalStore, PrewarmReport
from peerhost.storage.verify import verify

log = logging.getLogger("peerhost.storage")


def _where(source: object) -> str:
    return str(getattr(source, "where", repr(source)))


class ChainedStore:
    """Read from the first source that has the content; write to every writable one.

    ``get`` asks each source in order. A source that is down, lacks the content
    or returns wrong bytes is skipped (wrong bytes are logged and refused).
    Content found further down the chain is copied into the earlier
    :class:`LocalStore` sources that missed it, so a worker's cache fills
    itself. ``put`` writes to every source that accepts writes, so publishing
    through ``[cache, daemon]`` stores and pins in both, and fails loudly if one
    of them cannot take it.

    Args:
        sources: the sources, in the order to try them.
        fill: copy content found later into earlier local stores.
    """

    verifies_reads = True

    def __init__(self, sources: Sequence[ContentSource], *, fill: bool = True) -> None:
        if not sources:
            raise ValueError("ChainedStore needs at least one source")
        self.sources = list(sources)
        self.fill = fill

    def __repr__(self) -> str:
        return f"ChainedStore({self.sources!r})"

    @property
    def where(self) -> str:
        """How messages name this chain."""
        return " -> ".join(_where(source) for source in self.sources)

    def put(self, data: bytes) -> str:
        """Store ``data`` in every writable source; return its CID.

        Raises:
            StoreReadOnly: no source accepts writes (e.g. gateways only).
            StoreUnavailable: a writable source cannot be reached.
        """
        writable = [source for source in self.sources if isinstance(source, ContentStore)]
        if not writable:
            raise StoreReadOnly(self.where)
        cids = [store.put(data) for store in writable]
        return cids[0]

    def get(self, cid: CidLike) -> bytes:
        """Return verified content from the first source that has it.

        Raises:
            ContentMismatch: no source had it and at least one sent wrong bytes.
            ContentNotFound: no source had it (the others were down).
            StoreUnavailable: every source was down.
        """
        key = cid_str(cid)
        failures: list[tuple[ContentSource, StorageError]] = []
        for source in self.sources:
            try:
                data = source.get(key)
                if not getattr(source, "verifies_reads", False):
                    data = verify(data, key, _where(source))
            except (ContentNotFound, ContentMismatch, StoreUnavailable) as exc:
                log.info("%s: %s", _where(source), exc)
                failures.append((source, exc))
                continue
            if self.fill:
                self._fill(key, data, [source for source, _ in failures])
            return data
        raise self._combine(key, failures)

    def has(self, cid: CidLike) -> bool:
        """Tell whether any reachable source holds ``cid``."""
        key = cid_str(cid)
        for source in self.sources:
            try:
                if source.has(key):
                    return True
            except StoreUnavailable as exc:
                log.info("%s: %s", _where(source), exc)
        return False

    def prewarm(self, cids: Iterable[CidLike]) -> PrewarmReport:
        """Make sure the first local store holds every CID (a worker does this at start).

        Each CID missing there is fetched through the chain (and so cached).
        Failures are collected, not raised.

        Raises:
            StoreReadOnly: the chain has no local store to warm.
        """
        cache = next((s for s in self.sources if isinstance(s, LocalStore)), None)
        if cache is None:
            raise StoreReadOnly(f"{self.where} (no local store to prewarm)")
        return cache.prewarm(cids, self)

    def close(self) -> None:
        """Close every source that holds connections."""
        for source in self.sources:
            close = getattr(source, "close", None)
            if callable(close):
                close()

    def __enter__(self) -> ChainedStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _fill(self, key: str, data: bytes, missed: list[ContentSource]) -> None:
        for source in missed:
            if not isinstance(source, LocalStore):
                continue
            try:
                source.put_for(key, data)
            except (StorageError, OSError) as exc:
                log.warning("could not cache %s in %s: %s", key, source.where, exc)

    def _combine(self, key: str, failures: list[tuple[ContentSource, StorageError]]) -> Exception:
        errors = [exc for _, exc in failures]
        for exc in errors:
            if isinstance(exc, ContentMismatch):
                return exc
        unavailable = [exc for exc in errors if isinstance(exc, StoreUnavailable)]
        if any(isinstance(exc, ContentNotFound) for exc in errors):
            # the content may be in a source that was down: say which, and why
            down = "".join(f"; {exc.url} is unavailable: {exc.hint}" for exc in unavailable)
            return ContentNotFound(key, f"any of [{self.where}]{down}")
        return StoreUnavailable(
            ", ".join(exc.url for exc in unavailable),
            "no source could be reached. " + " | ".join(exc.hint for exc in unavailable),
        )
