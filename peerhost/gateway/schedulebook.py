"""The gateway's durable record of scheduled functions and their runs, in one SQLite file.

``scheduled``: the functions whose owner asked this gateway to run their schedule (``PUT
/_projects/<wallet>/<project>/schedules``), each with the time it was asked (no run is due
before it). ``runs``: one row per (function id, due time), **claimed before its ticket is
signed**: the primary key makes a due time run at most once, across restarts too. A row's life:
claimed → issued (with the ticket's request id) → finished (the answer's HTTP status and a short
outcome), or ``interrupted`` (the gateway stopped first: found so at the next start; the ticket,
when one was signed, still settles). A claim whose ticket could not be signed (no attesters
linked, the reserve short) is released, so a later beat tries the due time again.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scheduled (
    wallet    TEXT NOT NULL,
    project   TEXT NOT NULL,
    function  TEXT NOT NULL,
    since     INTEGER NOT NULL,
    PRIMARY KEY (wallet, project, function)
);
CREATE TABLE IF NOT EXISTS runs (
    function_id  BLOB NOT NULL,
    due          INTEGER NOT NULL,
    wallet       TEXT NOT NULL,
    project      TEXT NOT NULL,
    function     TEXT NOT NULL,
    claimed_at   REAL NOT NULL,
    request_id   TEXT,
    status       INTEGER,
    outcome      TEXT,
    PRIMARY KEY (function_id, due)
);
CREATE INDEX IF NOT EXISTS runs_project ON runs(wallet, project, function, due);
"""

NOT_ISSUED = "not issued"
INTERRUPTED = "interrupted"
#: The outcome of a due time that passed while this gateway was away (a stand-in's, if any).
STANDIN = "due while this gateway was away: a stand-in's run, if one issued it"


@dataclass(frozen=True)
class Scheduled:
    """A function this gateway runs on its schedule."""

    wallet: str
    project: str
    function: str
    since: int


@dataclass(frozen=True)
class Run:
    """One due time of a schedule and what became of it."""

    function: str
    due: int
    request_id: str | None
    status: int | None
    outcome: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "due": self.due,
            "request_id": self.request_id,
            "status": self.status,
            "outcome": self.outcome or ("running" if self.request_id else "claimed"),
            # this gateway signed the due time's ticket (stand-ins leave it alone)
            "issued": self.request_id is not None and self.outcome != STANDIN,
        }


class ScheduleBook:
    """The SQLite file (see the module docstring); safe to call from the event loop's thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        with self._lock:  # runs a previous process left open stopped with it
            self._db.execute("UPDATE runs SET outcome = ? WHERE outcome IS NULL", (INTERRUPTED,))

    def close(self) -> None:
        self._db.close()

    def register(self, wallet: str, project: str, functions: list[str], now: int) -> None:
        """Makes ``functions`` the project's scheduled set (kept ones keep their ``since``)."""
        wallet = wallet.lower()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                marks = ",".join("?" * len(functions)) or "''"
                self._db.execute(
                    f"DELETE FROM scheduled WHERE wallet = ? AND project = ? "  # noqa: S608
                    f"AND function NOT IN ({marks})",
                    (wallet, project, *functions),
                )
                self._db.executemany(
                    "INSERT OR IGNORE INTO scheduled (wallet, project, function, since) "
                    "VALUES (?, ?, ?, ?)",
                    [(wallet, project, name, now) for name in functions],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def scheduled(self, wallet: str | None = None, project: str | None = None) -> list[Scheduled]:
        query = "SELECT wallet, project, function, since FROM scheduled"
        args: tuple[str | None, ...] = ()
        if wallet is not None:
            query += " WHERE wallet = ? AND project = ?"
            args = (wallet.lower(), project)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY wallet, project, function", args)
            return [Scheduled(*row) for row in rows.fetchall()]

    def last_due(self, function_id: bytes) -> int | None:
        with self._lock:
            row = self._db.execute(
                "SELECT MAX(due) FROM runs WHERE function_id = ?", (function_id,)
            ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def claim(
        self, function_id: bytes, due: int, wallet: str, project: str, function: str, now: float
    ) -> bool:
        """Claims one due time; False when it was claimed before (it never runs twice)."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO runs (function_id, due, wallet, project, function, "
                "claimed_at) VALUES (?, ?, ?, ?, ?, ?)",
                (function_id, due, wallet.lower(), project, function, now),
            )
            return cursor.rowcount == 1

    def release(self, function_id: bytes, due: int) -> None:
        """Gives a claimed due time back (no ticket was signed for it): a later beat may claim it."""
        with self._lock:
            self._db.execute(
                "DELETE FROM runs WHERE function_id = ? AND due = ? AND request_id IS NULL",
                (function_id, due),
            )

    def issued(self, function_id: bytes, due: int, request_id: bytes) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE runs SET request_id = ? WHERE function_id = ? AND due = ?",
                ("0x" + request_id.hex(), function_id, due),
            )

    def finished(self, function_id: bytes, due: int, status: int | None, outcome: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE runs SET status = ?, outcome = ? WHERE function_id = ? AND due = ?",
                (status, outcome[:300], function_id, due),
            )

    def runs(self, wallet: str, project: str, function: str, limit: int = 20) -> list[Run]:
        """The function's latest runs, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT function, due, request_id, status, outcome FROM runs "
                "WHERE wallet = ? AND project = ? AND function = ? ORDER BY due DESC LIMIT ?",
                (wallet.lower(), project, function, limit),
            ).fetchall()
        return [Run(*row) for row in rows]
