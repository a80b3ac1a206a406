"""The gateway's record of its workers, kept across restarts: reputation and answer latency.

One SQLite file beside the ticket book (``workers.sqlite3`` in the data directory), one row per
worker address (lower case): good and bad answers as :class:`peerhost.gateway.feed.FeedHub`
counts them, the feeds it dropped with tickets pending, and the answer latency its last link had.
A restarted gateway picks attesters as it did before it stopped: a worker caught wrong stays
behind honest ones, a slow one behind fast ones.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS workers (
    worker   TEXT PRIMARY KEY,
    good     INTEGER NOT NULL DEFAULT 0,
    bad      INTEGER NOT NULL DEFAULT 0,
    latency  REAL NOT NULL DEFAULT 0,
    dropped  INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class WorkerRecord:
    """What a gateway remembers of one worker."""

    good: int
    bad: int
    latency: float
    dropped: int = 0


class WorkerRecords:
    """The SQLite file; safe to use from the event loop thread and worker threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(workers)")}
        if "dropped" not in columns:  # a file written before drops were counted apart
            self._db.execute("ALTER TABLE workers ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0")
        self._lock = threading.Lock()
        self._closed = False

    def load(self) -> dict[str, WorkerRecord]:
        """Every worker recorded, by lower-case address."""
        with self._lock:
            rows = self._db.execute(
                "SELECT worker, good, bad, latency, dropped FROM workers"
            ).fetchall()
        return {
            str(w): WorkerRecord(int(g), int(b), float(lat), int(d)) for w, g, b, lat, d in rows
        }

    def credit(self, worker: str, good: int, bad: int, dropped: int = 0) -> None:
        """Stores ``worker``'s counts of good and bad answers and of feeds it dropped with
        tickets pending (nothing once closed)."""
        with self._lock:
            if self._closed:
                return
            self._db.execute(
                "INSERT INTO workers(worker, good, bad, dropped) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(worker) DO UPDATE SET good = excluded.good, bad = excluded.bad,"
                " dropped = excluded.dropped",
                (worker.lower(), good, bad, dropped),
            )

    def latencies(self, values: dict[str, float]) -> None:
        """Stores the answer latency (seconds) of each worker in ``values`` (nothing once closed:
        links that end after the gateway's shutdown were remembered by it)."""
        with self._lock:
            if self._closed:
                return
            self._db.executemany(
                "INSERT INTO workers(worker, latency) VALUES (?, ?) ON CONFLICT(worker)"
                " DO UPDATE SET latency = excluded.latency",
                [(w.lower(), lat) for w, lat in values.items()],
            )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._db.close()
