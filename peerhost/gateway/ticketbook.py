"""The gateway's durable record of the tickets it signed, in one SQLite file.

A ticket is written (with its input) *before* it is pushed to any worker: a gateway that crashes
with tickets in flight finds them on restart and posts them. The sequence number and the running
total are allocated in memory (this process owns the book) and written with the ticket, in the
one transaction that saves it: a seq is never sent twice (``seq`` is the table's key, so a second
ticket with one seq is never saved, and only saved tickets are sent; two sent tickets with one
seq would cost the gateway its bond). A crash between allocating and saving loses nothing that
left the process: the seq and total of a ticket that was never saved were never sent, and the
restarted book continues from the last saved ticket. A ticket's life here: ``issued`` →
``posting`` (in a batch transaction sent but not confirmed; the batch's leaves are kept, so a
restart re-checks the chain instead of posting again) → ``posted`` (with its batch id and leaf
index). A ticket an attester posted as an orphan is ``posted`` in that batch from whatever state
it had (:meth:`TicketBook.mark_placed`); once a ticket has a batch id, nothing sends it back to
``issued`` or ``rejected`` but a reorg that dropped its batch.

The ``issued`` tickets' seqs and issue times are also kept in memory (read from the file when the
book opens, moved with every change of state the book makes), so admission control's
:meth:`TicketBook.backlog` on every call reads no SQL.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peerhost.wire.feed import ticket_from_doc, ticket_to_doc
from peerhost.wire.ticket import Ticket

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets (
    seq          INTEGER PRIMARY KEY,
    request_id   BLOB NOT NULL UNIQUE,
    project_id   BLOB NOT NULL,
    ticket       TEXT NOT NULL,
    signature    BLOB NOT NULL,
    input        BLOB NOT NULL,
    state        TEXT NOT NULL,
    attestations TEXT NOT NULL DEFAULT '[]',
    result_hash  BLOB,
    batch_id     INTEGER,
    leaf_index   INTEGER,
    post_tx      BLOB
);
CREATE INDEX IF NOT EXISTS tickets_state ON tickets(state, project_id);
CREATE TABLE IF NOT EXISTS batches (
    post_tx      BLOB PRIMARY KEY,
    salt         BLOB NOT NULL,
    opening      BLOB NOT NULL,
    batch_id     INTEGER,
    state        TEXT NOT NULL DEFAULT 'sent'
);
CREATE TABLE IF NOT EXISTS cosignatures (
    batch_id     INTEGER NOT NULL,
    worker       TEXT NOT NULL,
    signature    BLOB NOT NULL,
    PRIMARY KEY (batch_id, worker)
);
"""

ISSUED, POSTING, POSTED, REJECTED = "issued", "posting", "posted", "rejected"

#: Tickets' (seq, issuedAt), for the ``issued`` ones kept in memory (a WHERE clause follows).
_ISSUED_AT = "SELECT seq, CAST(json_extract(ticket, '$.issuedAt') AS INTEGER) FROM tickets"

_INSERT = (
    "INSERT INTO tickets(seq, request_id, project_id, ticket, signature, input, state)"
    f" VALUES (?, ?, ?, ?, ?, ?, '{ISSUED}')"
)
#: The book's counters moved past a saved ticket's, never back (another writer of the file may
#: have moved them further): both are decimal text without leading zeros (the running total
#: outgrows SQLite's integers), so the larger is the longer, or the later of two as long.
_COUNTERS = (
    "INSERT INTO meta(key, value) VALUES ('next_seq', ?), ('issued_total', ?)"
    " ON CONFLICT(key) DO UPDATE SET value = CASE WHEN length(excluded.value) > length(value)"
    " OR (length(excluded.value) = length(value) AND excluded.value > value)"
    " THEN excluded.value ELSE value END"
)


@dataclass(frozen=True)
class StoredBatch:
    """A batch this gateway posted: the salt and opening of its attested-results commitment."""

    post_tx: bytes
    salt: bytes
    opening: bytes
    batch_id: int | None
    state: str


@dataclass(frozen=True)
class StoredTicket:
    """A signed ticket and everything the gateway keeps about it."""

    ticket: Ticket
    request_id: bytes
    project_id: bytes
    signature: bytes
    input: bytes
    state: str
    attestations: tuple[tuple[str, str, bytes], ...]  # (worker, result hash hex, signature)
    result_hash: bytes | None
    batch_id: int | None
    leaf_index: int | None
    post_tx: bytes | None


class TicketBook:
    """The SQLite file; safe to use from the event loop thread and worker threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        # the next seq and the running total: allocated here, written with each saved ticket
        self._next_seq = self._meta("next_seq", 0)
        self._total = self._meta("issued_total", 0)
        # the ``issued`` tickets, seq -> issuedAt, and the lowest of those seqs (None: not known)
        self._issued: dict[int, int] = dict(
            self._db.execute(_ISSUED_AT + " WHERE state = ?", (ISSUED,)).fetchall()
        )
        self._oldest: int | None = None

    def _now_issued(self, rows: list[tuple[int, int]]) -> None:
        """``rows`` (seq, issuedAt) are ``issued`` now (under the lock)."""
        for seq, issued_at in rows:
            self._issued[seq] = issued_at
            if self._oldest is not None and seq < self._oldest:
                self._oldest = seq

    def _not_issued(self, seqs: Iterable[int]) -> None:
        """``seqs`` are in no ``issued`` state now (under the lock)."""
        for seq in seqs:
            if self._issued.pop(seq, None) is not None and seq == self._oldest:
                self._oldest = None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _meta(self, key: str, default: int) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else default

    def next_seq(self) -> int:
        """The seq the next ticket gets."""
        with self._lock:
            return self._next_seq

    def issued_total(self) -> int:
        """The running total of the tickets allocated so far."""
        with self._lock:
            return self._total

    def allocate(self, reward: int) -> tuple[int, int]:
        """Reserves the next seq and adds ``reward`` to the running total; returns both (written
        with the ticket by :meth:`save`)."""
        with self._lock:
            seq = self._next_seq
            self._next_seq += 1
            self._total += reward
            return seq, self._total

    def save(
        self,
        ticket: Ticket,
        request_id: bytes,
        project_id: bytes,
        signature: bytes,
        input_: bytes,
    ) -> None:
        """Writes a signed ticket (before it is sent), with the book's seq and running total
        moved past it, in one transaction. Raises sqlite3.IntegrityError when its seq or request
        id is already in the book (then it must not be sent)."""
        doc = json.dumps(ticket_to_doc(ticket))
        db = self._db
        with self._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(_INSERT, (ticket.seq, request_id, project_id, doc, signature, input_))
                # moved past this ticket in SQL: no read of the counters first
                db.execute(_COUNTERS, (str(ticket.seq + 1), str(ticket.issued_total)))
                db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                # another writer of this file took the seq: allocate past what it wrote
                self._next_seq = max(self._next_seq, self._meta("next_seq", 0))
                self._total = max(self._total, self._meta("issued_total", 0))
                raise
            self._next_seq = max(self._next_seq, ticket.seq + 1)
            self._total = max(self._total, ticket.issued_total)
            self._now_issued([(ticket.seq, ticket.issued_at)])

    def record_attestations(
        self, request_id: bytes, attestations: list[tuple[str, bytes, bytes]], result: bytes | None
    ) -> None:
        """Keeps the attestations received (worker, result hash, signature), fastest first."""
        doc = [[w, "0x" + r.hex(), "0x" + s.hex()] for w, r, s in attestations]
        with self._lock:
            self._db.execute(
                "UPDATE tickets SET attestations = ?, result_hash = ? WHERE request_id = ?",
                (json.dumps(doc), result, request_id),
            )

    def mark_posting(self, seqs: list[int], tx_hash: bytes, salt: bytes, opening: bytes) -> None:
        """Before a batch transaction is sent: its tickets and the commitment's opening (a ticket
        an orphan batch carries is left as it is: :meth:`placed_seqs` first)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "UPDATE tickets SET state = ?, post_tx = ? WHERE seq = ? AND batch_id IS NULL",
                [(POSTING, tx_hash, s) for s in seqs],
            )
            self._db.execute(
                "INSERT OR REPLACE INTO batches(post_tx, salt, opening) VALUES (?, ?, ?)",
                (tx_hash, salt, opening),
            )
            self._db.execute("COMMIT")
            self._not_issued(seqs)  # posting, or in a batch already

    def placed_seqs(self, seqs: list[int]) -> set[int]:
        """Those of ``seqs`` already in a batch (an attester's orphan batch, say)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq FROM tickets WHERE batch_id IS NOT NULL AND seq IN"
                f" ({','.join('?' * len(seqs))})",
                seqs,
            ).fetchall()
        return {int(row[0]) for row in rows}

    def reject(self, seqs: list[int]) -> None:
        """Tickets whose post was refused for good (a ticket placed in a batch stays posted)."""
        with self._lock:
            self._db.executemany(
                "UPDATE tickets SET state = ? WHERE seq = ? AND batch_id IS NULL",
                [(REJECTED, s) for s in seqs],
            )
            self._not_issued(seqs)  # rejected, or in a batch already

    def mark_placed(self, placed: dict[int, tuple[int, int]]) -> dict[bytes, int]:
        """Tickets of this gateway that another poster carried (seq -> (batch id, leaf index):
        an attester's orphan batch) are ``posted`` there, whatever their state. Returns, per
        project, the rewards of those that were not posted before (``issued`` or ``posting``:
        in flight against the reserve until now)."""
        drawn: dict[bytes, int] = {}
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            for seq, (batch_id, index) in placed.items():
                row = self._db.execute(
                    "SELECT project_id, ticket, state FROM tickets WHERE seq = ?"
                    " AND batch_id IS NULL",
                    (seq,),
                ).fetchone()
                if row is None:
                    continue
                if row[2] in (ISSUED, POSTING):
                    key = bytes(row[0])
                    drawn[key] = drawn.get(key, 0) + int(json.loads(row[1])["reward"])
                self._db.execute(
                    "UPDATE tickets SET state = ?, batch_id = ?, leaf_index = ? WHERE seq = ?",
                    (POSTED, batch_id, index, seq),
                )
            self._db.execute("COMMIT")
            self._not_issued(placed)
        return drawn

    def batch_posted(self, tx_hash: bytes, batch_id: int) -> None:
        """The post ``tx_hash`` mined as batch ``batch_id``. A post just mined has no co-signature
        yet: any kept under its id were another post's (one a reorg dropped), and go."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM cosignatures WHERE batch_id = ?", (batch_id,))
            self._db.execute(
                "UPDATE batches SET batch_id = ?, state = 'posted' WHERE post_tx = ?",
                (batch_id, tx_hash),
            )
            self._db.execute("COMMIT")

    def holders(self, batch_id: int, other_than: bytes) -> list[bytes]:
        """The posts other than ``other_than`` the book has under ``batch_id`` (a batch id is one
        post's on-chain: those rows are stale, a reorg moved or dropped their posts)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT post_tx FROM batches WHERE batch_id = ? AND post_tx != ?",
                (batch_id, other_than),
            ).fetchall()
        return [bytes(row[0]) for row in rows]

    def batch_done(self, batch_id: int, state: str) -> None:
        with self._lock:
            self._db.execute("UPDATE batches SET state = ? WHERE batch_id = ?", (state, batch_id))

    def post_done(self, post_tx: bytes, state: str) -> None:
        """The batch of post ``post_tx`` followed to its end (``settled``, ``expired``)."""
        with self._lock:
            self._db.execute("UPDATE batches SET state = ? WHERE post_tx = ?", (state, post_tx))

    def batches(self, state: str) -> list[StoredBatch]:
        with self._lock:
            rows = self._db.execute(
                "SELECT post_tx, salt, opening, batch_id, state FROM batches WHERE state = ?",
                (state,),
            ).fetchall()
        return [StoredBatch(bytes(a), bytes(b), bytes(c), d, str(e)) for a, b, c, d, e in rows]

    def batch(self, batch_id: int, post_tx: bytes | None = None) -> StoredBatch | None:
        """The batch ``batch_id`` (that of post ``post_tx`` when given: a stale row may hold the
        same id until the poster reads its post again)."""
        query = "SELECT post_tx, salt, opening, batch_id, state FROM batches WHERE batch_id = ?"
        args: tuple[Any, ...] = (batch_id,)
        if post_tx is not None:
            query += " AND post_tx = ?"
            args += (post_tx,)
        with self._lock:
            row = self._db.execute(query, args).fetchone()
        return (
            StoredBatch(bytes(row[0]), bytes(row[1]), bytes(row[2]), row[3], str(row[4]))
            if row
            else None
        )

    def add_cosignature(self, batch_id: int, worker: str, signature: bytes) -> None:
        """Keeps ``worker``'s (checked) co-signature of batch ``batch_id``."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO cosignatures(batch_id, worker, signature) VALUES (?, ?, ?)",
                (batch_id, worker.lower(), signature),
            )

    def cosignatures(self, batch_id: int) -> dict[str, bytes]:
        """The co-signatures of batch ``batch_id``, by lower-case worker address."""
        with self._lock:
            rows = self._db.execute(
                "SELECT worker, signature FROM cosignatures WHERE batch_id = ?", (batch_id,)
            ).fetchall()
        return {str(w): bytes(sig) for w, sig in rows}

    def mark_posted(self, seqs: list[int], batch_id: int) -> None:
        with self._lock:
            self._db.executemany(
                "UPDATE tickets SET state = ?, batch_id = ?, leaf_index = ? WHERE seq = ?",
                [(POSTED, batch_id, i, s) for i, s in enumerate(seqs)],
            )
            self._not_issued(seqs)

    def unpost(self, seqs: list[int]) -> None:
        """A batch transaction that never made it: the tickets go back to ``issued`` (those another
        poster carried meanwhile stay ``posted`` in its batch)."""
        with self._lock:
            self._db.executemany(
                "UPDATE tickets SET state = ?, post_tx = NULL WHERE seq = ? AND batch_id IS NULL",
                [(ISSUED, s) for s in seqs],
            )
            if seqs:  # those put back (not those in a batch): with their issue times
                self._now_issued(
                    self._db.execute(
                        _ISSUED_AT + f" WHERE state = ? AND seq IN ({','.join('?' * len(seqs))})",
                        (ISSUED, *seqs),
                    ).fetchall()
                )

    def drop_batch(self, post_tx: bytes) -> dict[bytes, int]:
        """A posted batch a reorg dropped for good: its tickets go back to ``issued``. The batch
        id it had is forgotten, with the co-signatures kept for it unless another post holds that
        id now (they are that post's: the next post may get the same id, and must not find this
        batch's opening or co-signatures). Returns, per project, the
        rewards of the tickets that went back (in flight against its reserve again)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            rows = self._db.execute(
                "SELECT project_id, ticket FROM tickets WHERE post_tx = ? AND state = ?",
                (post_tx, POSTED),
            ).fetchall()
            issued = self._db.execute(_ISSUED_AT + " WHERE post_tx = ?", (post_tx,)).fetchall()
            self._db.execute(
                "UPDATE tickets SET state = ?, post_tx = NULL, batch_id = NULL, leaf_index = NULL"
                " WHERE post_tx = ?",
                (ISSUED, post_tx),
            )
            old = self._db.execute(
                "SELECT batch_id FROM batches WHERE post_tx = ?", (post_tx,)
            ).fetchone()
            if old is not None and old[0] is not None:
                self._forget_cosignatures(old[0], post_tx)
            self._db.execute(
                "UPDATE batches SET state = 'dropped', batch_id = NULL WHERE post_tx = ?",
                (post_tx,),
            )
            self._db.execute("COMMIT")
            self._now_issued(issued)
        returned: dict[bytes, int] = {}
        for project_id, doc in rows:
            key = bytes(project_id)
            returned[key] = returned.get(key, 0) + int(json.loads(doc)["reward"])
        return returned

    def rebatch(self, post_tx: bytes, batch_id: int) -> None:
        """A posted batch a reorg moved: mined again, it got ``batch_id``. Co-signatures kept for
        either id are dropped (they name the batch id; the attesters are asked again), the old
        id's only if no other post holds it now."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            old = self._db.execute(
                "SELECT batch_id FROM batches WHERE post_tx = ?", (post_tx,)
            ).fetchone()
            self._db.execute("DELETE FROM cosignatures WHERE batch_id = ?", (batch_id,))
            if old is not None and old[0] is not None:
                self._forget_cosignatures(old[0], post_tx)
            self._db.execute(  # a new batch: followed from the start, even if the old one ended
                "UPDATE batches SET batch_id = ?, state = 'posted' WHERE post_tx = ?",
                (batch_id, post_tx),
            )
            self._db.execute(
                "UPDATE tickets SET batch_id = ? WHERE post_tx = ?", (batch_id, post_tx)
            )
            self._db.execute("COMMIT")

    def _forget_cosignatures(self, batch_id: int, post_tx: bytes) -> None:
        """Drops the co-signatures kept for ``batch_id``, which the post ``post_tx`` no longer
        has, unless another post holds that id now (a reorg gave it to the gateway's next post
        before the poster read this one again: they are that post's). Under the lock."""
        if not self._db.execute(
            "SELECT 1 FROM batches WHERE batch_id = ? AND post_tx != ?", (batch_id, post_tx)
        ).fetchone():
            self._db.execute("DELETE FROM cosignatures WHERE batch_id = ?", (batch_id,))

    def _rows(self, where: str, args: tuple[Any, ...]) -> list[StoredTicket]:
        with self._lock:
            rows = self._db.execute(
                "SELECT ticket, request_id, project_id, signature, input, state, attestations,"
                f" result_hash, batch_id, leaf_index, post_tx FROM tickets WHERE {where}"
                " ORDER BY seq",
                args,
            ).fetchall()
        return [_stored(row) for row in rows]

    def get(self, request_id: bytes) -> StoredTicket | None:
        rows = self._rows("request_id = ?", (request_id,))
        return rows[0] if rows else None

    def in_state(self, state: str) -> list[StoredTicket]:
        return self._rows("state = ?", (state,))

    def in_batch(self, batch_id: int) -> list[StoredTicket]:
        return self._rows("batch_id = ?", (batch_id,))

    def unposted_rewards(self) -> dict[bytes, int]:
        """Per project, the rewards of tickets not yet posted (in flight against its reserve)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT project_id, ticket FROM tickets WHERE state IN (?, ?)", (ISSUED, POSTING)
            ).fetchall()
        out: dict[bytes, int] = {}
        for project_id, doc in rows:
            out[bytes(project_id)] = out.get(bytes(project_id), 0) + int(json.loads(doc)["reward"])
        return out

    def backlog(self) -> tuple[int, int | None]:
        """How many tickets are ``issued`` (not yet in a post) and the issue time of the oldest
        (the lowest seq: seqs are allocated in issue order), as of the book's last change (kept
        in memory: the module docstring)."""
        with self._lock:
            oldest = self._oldest_issued()
            return len(self._issued), None if oldest is None else oldest[1]

    def oldest_issued(self) -> tuple[int, tuple[int, int] | None]:
        """How many tickets are ``issued``, and the oldest one's seq and issue time (None: none
        is), read together."""
        with self._lock:
            return len(self._issued), self._oldest_issued()

    def _oldest_issued(self) -> tuple[int, int] | None:
        if not self._issued:
            return None
        if self._oldest is None:
            self._oldest = min(self._issued)
        return self._oldest, self._issued[self._oldest]

    def __iter__(self) -> Iterator[StoredTicket]:
        return iter(self._rows("1 = 1", ()))


def _stored(row: tuple[Any, ...]) -> StoredTicket:
    ticket_doc, request_id, project_id, signature, input_, state, atts, result, batch, leaf, tx = (
        row
    )
    return StoredTicket(
        ticket=ticket_from_doc(json.loads(ticket_doc)),
        request_id=bytes(request_id),
        project_id=bytes(project_id),
        signature=bytes(signature),
        input=bytes(input_),
        state=str(state),
        attestations=tuple((str(w), str(r), bytes.fromhex(s[2:])) for w, r, s in json.loads(atts)),
        result_hash=bytes(result) if result is not None else None,
        batch_id=batch,
        leaf_index=leaf,
        post_tx=bytes(tx) if tx is not None else None,
    )
