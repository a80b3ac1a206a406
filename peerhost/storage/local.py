"""The embedded store: a directory of objects keyed by CID, needing no daemon.

Layout under ``root``: ``objects/<2 chars>/<cid>`` holds the content of each
CID, ``tmp/`` holds writes in flight. A write goes to a temporary file, is
fsynced and renamed into place, so a reader never sees a partial object. Every
read is verified against its CID; a corrupt object is deleted and refused.

A store whose directory cannot be used (removed, replaced by a file, unreadable, a full or
failing disk) raises :class:`~peerhost.storage.errors.StoreUnavailable` naming the cause,
never a bare ``OSError``: a worker turns it into a refusal or an abstention, a publisher into
a clear error.

With ``max_bytes`` set the store is a cache: the least recently used objects
are evicted once the total passes the bound (last use is the file's mtime, so
the order survives restarts).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from peerhost.storage.base import ContentSource
from peerhost.storage.cid import CidLike, cid_str
from peerhost.storage.errors import (
    ContentMismatch,
    ContentNotFound,
    ObjectTooLarge,
    StorageError,
    StoreUnavailable,
)
from peerhost.storage.unixfs import compute_cid
from peerhost.storage.verify import verify

log = logging.getLogger("peerhost.storage")

_STALE_TMP_SECONDS = 3600


@dataclass
class PrewarmReport:
    """What :meth:`LocalStore.prewarm` did with each CID."""

    present: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every CID is now in the store."""
        return not self.failed


class LocalStore:
    """A content store in a local directory (the default, and a worker's cache).

    Args:
        root: directory of the store; created if missing.
        max_bytes: bound on the total size of stored objects, evicting the least
            recently used beyond it; ``None`` keeps everything.
    """

    def __init__(self, root: Path | str, max_bytes: int | None = None) -> None:
        if max_bytes is not None and max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.root = Path(root).expanduser()
        self.max_bytes = max_bytes
        self._objects = self.root / "objects"
        self._tmp = self.root / "tmp"
        self._lock = threading.Lock()
        self._index: OrderedDict[str, int] = OrderedDict()  # cid -> size, least recent first
        self._total = 0
        try:
            self._objects.mkdir(parents=True, exist_ok=True)
            self._tmp.mkdir(parents=True, exist_ok=True)
            self._load_index()
        except OSError as exc:
            raise self._unavailable("open", exc) from exc

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r}, max_bytes={self.max_bytes})"

    @property
    def where(self) -> str:
        """How messages name this store."""
        return f"local store {self.root}"

    @property
    def total_bytes(self) -> int:
        """Total size of the objects held."""
        return self._total

    def __len__(self) -> int:
        return len(self._index)

    def put(self, data: bytes) -> str:
        """Store ``data``; return its CID (``compute_cid(data)``).

        Raises:
            ObjectTooLarge: ``data`` alone exceeds ``max_bytes``.
            StoreUnavailable: the store's directory cannot be written.
        """
        cid = compute_cid(data)
        self._write(cid, data)
        return cid

    def put_for(self, cid: CidLike, data: bytes) -> str:
        """Store ``data`` under ``cid`` after verifying it (for content fetched elsewhere).

        Raises:
            ContentMismatch: ``data`` is not the content of ``cid``.
            ObjectTooLarge: ``data`` alone exceeds ``max_bytes``.
            StoreUnavailable: the store's directory cannot be written.
        """
        key = cid_str(cid)
        verify(data, key, f"{self.where} (put_for)")
        self._write(key, data)
        return key

    def get(self, cid: CidLike) -> bytes:
        """Return the verified content of ``cid``.

        Raises:
            ContentNotFound: the store does not hold it.
            ContentMismatch: the object on disk is corrupt (it is deleted).
            StoreUnavailable: the store's directory cannot be read (gone, not a directory,
                unreadable).
        """
        key = cid_str(cid)
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            if not self._objects.is_dir():  # the store itself is gone, not this object
                raise self._unavailable("read", exc) from exc
            raise ContentNotFound(key, self.where) from None
        except OSError as exc:
            raise self._unavailable("read", exc) from exc
        try:
            verify(data, key, self.where)
        except ContentMismatch:
            self.delete(key)
            raise
        self._touch(key, path)
        return data

    def has(self, cid: CidLike) -> bool:
        """Tell whether an object for ``cid`` is on disk (not verified until read)."""
        return self._path(cid_str(cid)).is_file()

    def delete(self, cid: CidLike) -> bool:
        """Remove ``cid``'s object; return whether there was one."""
        key = cid_str(cid)
        with self._lock:
            size = self._index.pop(key, None)
            if size is not None:
                self._total -= size
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def cids(self) -> list[str]:
        """CIDs held, least recently used first."""
        with self._lock:
            return list(self._index)

    def prewarm(self, cids: Iterable[CidLike], source: ContentSource) -> PrewarmReport:
        """Fetch every CID not yet held from ``source`` (a worker does this at start).

        Failures are collected, not raised, so one missing CID does not stop the rest.
        """
        report = PrewarmReport()
        for cid in cids:
            key = cid_str(cid)
            if self.has(key):
                report.present.append(key)
                continue
            try:
                self.put_for(key, source.get(key))
            except StorageError as exc:
                report.failed[key] = str(exc)
                continue
            report.fetched.append(key)
        return report

    def close(self) -> None:
        """Nothing to release (every operation opens and closes its own files)."""

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _path(self, key: str) -> Path:
        return self._objects / key[-3:-1] / key

    def _unavailable(self, action: str, exc: OSError) -> StoreUnavailable:
        cause = exc.strerror or type(exc).__name__
        where = f" ({exc.filename})" if exc.filename else ""
        return StoreUnavailable(
            str(self.root),
            f"cannot {action} the embedded store: {cause}{where}. Check that {self.root} is a "
            "directory this process can read and write, on a disk with space left, then retry.",
        )

    def _write(self, key: str, data: bytes) -> None:
        if self.max_bytes is not None and len(data) > self.max_bytes:
            raise ObjectTooLarge(len(data), self.max_bytes, self.where)
        try:
            self._write_file(key, data)
        except OSError as exc:
            raise self._unavailable("write", exc) from exc

    def _write_file(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.is_file():
            self._touch(key, path)
            return
        path.parent.mkdir(exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix=key[-8:] + ".")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fchmod(tmp.fileno(), 0o644)
                os.fsync(tmp.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        _fsync_dir(path.parent)
        with self._lock:
            if key not in self._index:
                self._total += len(data)
            self._index[key] = len(data)
            self._index.move_to_end(key)
        self._evict(keep=key)

    def _touch(self, key: str, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.utime(path)
        with self._lock:
            if key in self._index:
                self._index.move_to_end(key)

    def _evict(self, keep: str) -> None:
        if self.max_bytes is None:
            return
        victims: list[str] = []
        with self._lock:
            while self._total > self.max_bytes:
                oldest = next(iter(self._index))
                if oldest == keep:
                    break
                self._total -= self._index.pop(oldest)
                victims.append(oldest)
        for key in victims:
            with contextlib.suppress(FileNotFoundError):
                self._path(key).unlink()
        if victims:
            log.debug("evicted %d objects from %s", len(victims), self.where)

    def _load_index(self) -> None:
        found: list[tuple[float, str, int]] = []
        for shard in self._objects.iterdir():
            if not shard.is_dir():
                continue
            for entry in os.scandir(shard):
                if entry.is_file():
                    st = entry.stat()
                    found.append((st.st_mtime, entry.name, st.st_size))
        found.sort()
        for _, key, size in found:
            self._index[key] = size
            self._total += size
        cutoff = time.time() - _STALE_TMP_SECONDS
        for entry in os.scandir(self._tmp):
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
        self._evict(keep="")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
