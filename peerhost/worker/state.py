"""The node's durable state in one SQLite file: jobs, commitments with their salts, the log cursor
and lifetime counters.

A commitment's salt and result hash are written and fsynced *before* the commit transaction is
sent, so a worker killed (or a machine that lost power) between commit and reveal can still
reveal after a restart. Everything else is written in WAL mode with ``synchronous=NORMAL``: it
survives a killed process, and after a power loss at worst a few log positions are read again
(jobs are recorded idempotently).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from peerhost.chain.logs import Position
from peerhost.worker.job import Job

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    request_id   BLOB PRIMARY KEY,
    job          TEXT NOT NULL,
    status       TEXT NOT NULL,
    seen_at      REAL NOT NULL,
    updated_at   REAL NOT NULL,
    detail       TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS commitments (
    request_id   BLOB PRIMARY KEY,
    result_hash  BLOB NOT NULL,
    salt         BLOB NOT NULL,
    commitment   BLOB NOT NULL,
    envelope     BLOB NOT NULL,
    created_at   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS cursor (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    block        INTEGER NOT NULL,
    log_index    INTEGER NOT NULL,
    block_hash   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name         TEXT PRIMARY KEY,
    value        INTEGER NOT NULL
);
"""

#: Job statuses, in pipeline order. Terminal ones never change again.
SEEN = "seen"
COMMITTING = "committing"  # salt persisted; the commit may or may not have been sent
COMMITTED = "committed"
REVEALED = "revealed"
DONE = "done"  # settled (finalized or refunded)
SKIPPED = "skipped"  # could not be answered honestly: never committed
MISSED = "missed"  # the commit phase closed before our commit landed
FAILED = "failed"  # committed but could not reveal in time
TERMINAL = frozenset({DONE, SKIPPED, MISSED, FAILED})
OPEN = (SEEN, COMMITTING, COMMITTED, REVEALED)


@dataclass(frozen=True)
class Commitment:
    """What the worker committed to a request, kept until it revealed."""

    request_id: bytes
    result_hash: bytes
    salt: bytes
    commitment: bytes
    envelope: bytes


class WorkerState:
    """The SQLite file under the worker's data dir.

    Used from the event-loop thread, except :meth:`save_commitment`, which fsyncs and so may be
    called from a worker thread (``asyncio.to_thread``); a lock serialises access.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def _execute(self, sql: str, params: tuple[object, ...] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, params)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ---- jobs -----------------------------------------------------------------------------

    def add_job(self, job: Job) -> bool:
        """Records a new job; False when it was already known (a re-delivered log)."""
        now = time.time()
        cur = self._execute(
            "INSERT OR IGNORE INTO jobs (request_id, job, status, seen_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (job.request_id, job.to_json(), SEEN, now, now),
        )
        return cur.rowcount == 1

    def set_status(self, request_id: bytes, status: str, detail: str = "") -> None:
        self._execute(
            "UPDATE jobs SET status = ?, detail = ?, updated_at = ? WHERE request_id = ?",
            (status, detail, time.time(), request_id),
        )

    def status(self, request_id: bytes) -> str | None:
        row = self._execute(
            "SELECT status FROM jobs WHERE request_id = ?", (request_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def open_jobs(self) -> Iterator[tuple[Job, str]]:
        """Jobs not yet in a terminal status, oldest first (what a restart resumes)."""
        marks = ",".join("?" * len(OPEN))
        rows = self._execute(
            f"SELECT job, status FROM jobs WHERE status IN ({marks}) ORDER BY seen_at", OPEN
        ).fetchall()
        for text, status in rows:
            yield Job.from_json(text), str(status)

    def count_by_status(self) -> dict[str, int]:
        rows = self._execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        return {str(s): int(n) for s, n in rows}

    # ---- commitments ----------------------------------------------------------------------

    def save_commitment(self, c: Commitment) -> None:
        """Persists the salt and result hash, fsynced, and marks the job COMMITTING, atomically."""
        now = time.time()
        with self._lock:
            self._db.execute("PRAGMA synchronous=FULL")  # this commit syncs the WAL to disk
            try:
                with self._db:
                    self._db.execute("BEGIN IMMEDIATE")
                    self._db.execute(
                        "INSERT OR REPLACE INTO commitments "
                        "(request_id, result_hash, salt, commitment, envelope, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (c.request_id, c.result_hash, c.salt, c.commitment, c.envelope, now),
                    )
                    self._db.execute(
                        "UPDATE jobs SET status = ?, updated_at = ? WHERE request_id = ?",
                        (COMMITTING, now, c.request_id),
                    )
            finally:
                self._db.execute("PRAGMA synchronous=NORMAL")

    def commitment(self, request_id: bytes) -> Commitment | None:
        row = self._execute(
            "SELECT request_id, result_hash, salt, commitment, envelope FROM commitments "
            "WHERE request_id = ?",
            (request_id,),
        ).fetchone()
        if row is None:
            return None
        return Commitment(*(bytes(v) for v in row))

    # ---- cursor ---------------------------------------------------------------------------

    def load_cursor(self) -> Position | None:
        row = self._execute("SELECT block, log_index, block_hash FROM cursor").fetchone()
        return None if row is None else Position(int(row[0]), int(row[1]), str(row[2]))

    def save_cursor(self, position: Position) -> None:
        self._execute(
            "INSERT INTO cursor (id, block, log_index, block_hash) VALUES (1, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET block = excluded.block, "
            "log_index = excluded.log_index, block_hash = excluded.block_hash",
            (position.block, position.index, position.block_hash),
        )

    # ---- counters -------------------------------------------------------------------------

    def add(self, name: str, amount: int = 1) -> None:
        self._execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
            (name, amount),
        )

    def counters(self) -> dict[str, int]:
        rows = self._execute("SELECT name, value FROM counters").fetchall()
        return {str(k): int(v) for k, v in rows}


class SqliteCursor:
    """The :class:`~peerhost.chain.logs.Cursor` of a :class:`WorkerState`."""

    def __init__(self, state: WorkerState) -> None:
        self.state = state

    def load(self) -> Position | None:
        return self.state.load_cursor()

    def save(self, position: Position) -> None:
        self.state.save_cursor(position)
