"""The gateway's recent log entries, per project.

One :class:`LogEntry` per answered (or failed) call or scheduled run: when, which function, the
HTTP status and latency, the request id and the function's log lines. Each project keeps its last
``per_project`` entries; at most ``projects`` projects are kept (the least recently written goes
first). Readers can wait for entries newer than a sequence number (``--follow``).

Given a ``path`` (the gateway's ``<data_dir>/logs.sqlite3``), every entry is also written to a
SQLite file, kept to the same bounds, and read back when the store opens: a restarted gateway
still shows the runs and calls before the restart, and sequence numbers keep growing across
restarts (a follower's cursor stays valid). Without a path nothing is written to disk.

Readers see an entry the moment it is added (in memory, before the gateway's answer leaves); the
file gets it in a group commit :data:`FLUSH_DELAY` later, one transaction for every entry added
meanwhile (off the answer's path: a call no longer waits for a SQLite commit, and a busy gateway
commits a few times a second instead of once per call). A killed gateway loses at most the
entries of that last fraction of a second from the file (never from its callers' answers or the
ticket book); :meth:`close` and :meth:`flush` write what is pending.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections import OrderedDict, deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq         INTEGER PRIMARY KEY,
    wallet      TEXT NOT NULL,
    project     TEXT NOT NULL,
    at          REAL NOT NULL,
    function    TEXT NOT NULL,
    status      INTEGER NOT NULL,
    latency_ms  REAL NOT NULL,
    request_id  TEXT NOT NULL,
    mode        TEXT NOT NULL,
    worker      TEXT,
    lines       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_project ON entries(wallet, project, seq);
"""


@dataclass(frozen=True)
class LogEntry:
    """One call's log, as the owner reads it."""

    seq: int
    at: float  # unix seconds when the gateway answered
    function: str
    status: int
    latency_ms: float
    request_id: str  # "0x…" or "-" when no request was submitted
    mode: str
    worker: str | None
    lines: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["lines"] = list(self.lines)
        return doc


ProjectKey = tuple[str, str]  # (wallet lowercase, project)

#: Seconds from an entry's add to the group commit that writes it (and those added meanwhile).
FLUSH_DELAY = 0.1


class LogStore:
    """Recent entries of each project (see the module docstring)."""

    def __init__(
        self, per_project: int = 200, projects: int = 1000, path: Path | None = None
    ) -> None:
        self.per_project = per_project
        self.projects = projects
        self._entries: OrderedDict[ProjectKey, deque[LogEntry]] = OrderedDict()
        self._seq = 0
        self._changed = asyncio.Event()
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._pending: list[tuple[ProjectKey, LogEntry, list[ProjectKey], int | None]] = []
        self._flush_at: asyncio.TimerHandle | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # written on the gateway's event loop for every call: no fsync per entry (WAL keeps
            # the file consistent; a power cut may lose the newest entries, never corrupt it)
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._load()

    def _load(self) -> None:
        """Reads the newest entries of the newest projects back (oldest first)."""
        assert self._db is not None
        (last,) = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM entries").fetchone()
        self._seq = int(last)
        projects = self._db.execute(
            "SELECT wallet, project, MAX(seq) AS newest FROM entries GROUP BY wallet, project "
            "ORDER BY newest DESC LIMIT ?",
            (self.projects,),
        ).fetchall()
        for wallet, project, _ in reversed(projects):
            rows = self._db.execute(
                "SELECT seq, at, function, status, latency_ms, request_id, mode, worker, lines "
                "FROM entries WHERE wallet = ? AND project = ? ORDER BY seq DESC LIMIT ?",
                (wallet, project, self.per_project),
            ).fetchall()
            entries = self._entries[(wallet, project)] = deque(maxlen=self.per_project)
            for seq, at, function, status, latency, rid, mode, worker, lines in reversed(rows):
                entries.append(
                    LogEntry(
                        seq,
                        at,
                        function,
                        status,
                        latency,
                        rid,
                        mode,
                        worker,
                        tuple(json.loads(lines)),
                    )
                )
        # what no longer fits (older entries, projects beyond the bound) is dropped on disk too
        self._db.execute(
            "DELETE FROM entries WHERE (wallet, project) NOT IN "
            "(SELECT wallet, project FROM entries GROUP BY wallet, project "
            " ORDER BY MAX(seq) DESC LIMIT ?)",
            (self.projects,),
        )
        for wallet, project in self._entries:
            self._trim(wallet, project)

    def _trim(self, wallet: str, project: str) -> None:
        assert self._db is not None
        self._db.execute(
            "DELETE FROM entries WHERE wallet = ? AND project = ? AND seq NOT IN "
            "(SELECT seq FROM entries WHERE wallet = ? AND project = ? ORDER BY seq DESC LIMIT ?)",
            (wallet, project, wallet, project, self.per_project),
        )

    def close(self) -> None:
        """Writes the pending entries and closes the file (entries added later stay in memory
        only)."""
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None

    def flush(self) -> None:
        """Writes the entries added since the last group commit, in one transaction."""
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        pending, self._pending = self._pending, []
        if self._db is None or not pending:
            return
        with self._lock:
            self._db.execute("BEGIN")
            try:
                for key, entry, dropped, oldest in pending:
                    self._write(key, entry, dropped, oldest)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @property
    def last(self) -> int:
        """The newest sequence number handed out (0 before the first entry)."""
        return self._seq

    @staticmethod
    def key(wallet: str, project: str) -> ProjectKey:
        return (wallet.lower(), project)

    def add(self, wallet: str, project: str, **fields: Any) -> LogEntry:
        """Appends an entry (``seq`` is assigned here) and wakes waiting readers."""
        self._seq += 1
        entry = LogEntry(seq=self._seq, **fields)
        key = self.key(wallet, project)
        entries = self._entries.get(key)
        if entries is None:
            entries = self._entries[key] = deque(maxlen=self.per_project)
        self._entries.move_to_end(key)
        entries.append(entry)
        dropped = []
        while len(self._entries) > self.projects:
            dropped.append(self._entries.popitem(last=False)[0])
        if self._db is not None:
            # once the project holds ``per_project`` entries, the oldest kept one bounds the file
            oldest = entries[0].seq if len(entries) == self.per_project else None
            self._pending.append((key, entry, dropped, oldest))
            self._schedule_flush()
        self._changed.set()
        self._changed = asyncio.Event()
        return entry

    def _schedule_flush(self) -> None:
        """The group commit :data:`FLUSH_DELAY` from now (at once without an event loop)."""
        if self._flush_at is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._flush_at = loop.call_later(FLUSH_DELAY, self.flush)

    def _write(
        self, key: ProjectKey, entry: LogEntry, dropped: list[ProjectKey], oldest: int | None
    ) -> None:
        """One entry's statements, inside the caller's transaction."""
        assert self._db is not None
        self._db.execute(
            "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.seq,
                *key,
                entry.at,
                entry.function,
                entry.status,
                entry.latency_ms,
                entry.request_id,
                entry.mode,
                entry.worker,
                json.dumps(list(entry.lines)),
            ),
        )
        if oldest is not None:  # by the index: not a scan of the project's entries per call
            self._db.execute(
                "DELETE FROM entries WHERE wallet = ? AND project = ? AND seq < ?", (*key, oldest)
            )
        for wallet, project in dropped:
            self._db.execute(
                "DELETE FROM entries WHERE wallet = ? AND project = ?", (wallet, project)
            )

    def query(
        self,
        wallet: str,
        project: str,
        function: str | None = None,
        request_id: str | None = None,
        after: int = 0,
    ) -> list[LogEntry]:
        """Entries of the project newer than ``after``, oldest first, optionally filtered."""
        found = []
        for entry in self._entries.get(self.key(wallet, project), ()):
            if entry.seq <= after:
                continue
            if function is not None and entry.function != function:
                continue
            if request_id is not None and entry.request_id != request_id.lower():
                continue
            found.append(entry)
        return found

    async def wait(
        self,
        wallet: str,
        project: str,
        function: str | None,
        request_id: str | None,
        after: int,
        timeout: float,
    ) -> list[LogEntry]:
        """Like :meth:`query`, but waits up to ``timeout`` seconds for a first match."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self.query(wallet, project, function, request_id, after)
            remaining = deadline - loop.time()
            if found or remaining <= 0:
                return found
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return self.query(wallet, project, function, request_id, after)
