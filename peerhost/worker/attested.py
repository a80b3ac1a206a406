"""What the worker accepted and attested over the job feed, in its own SQLite file.

A ticket is claimed (by gateway and seq) *before* it runs, so the same ticket pushed twice is
refused as a replay; the attestation is written before the answer is sent. The gateway's signed
ticket is kept with it: the worker can post an unposted ticket itself (as a cheque) before its
deadline if the gateway withholds it.

The rewards of tickets taken and not yet posted count against the reserve a worker accepts
against; a ticket claimed and never attested when the worker stopped is released at the next
start (marked declined; its seq stays refused as a replay).

The rows this ledger wrote since it was opened (the last :data:`_KEPT`) are also kept in memory,
each changed with its row: the cosigner reads every leaf of a batch it co-signs and the committee
every leaf of a batch it is seated on, and reading a row back from the file (a query, the ticket's
JSON parsed, its gateway checksummed) cost more than the write did. The file stays the record: a
row not kept is read from it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace

from peerhost.wire.feed import ticket_from_doc, ticket_to_doc
from peerhost.wire.ticket import SINGLE_SEQ, Ticket

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attested (
    gateway      TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    request_id   BLOB NOT NULL,
    project_id   BLOB NOT NULL,
    ticket       TEXT NOT NULL,
    signature    BLOB NOT NULL,
    result_hash  BLOB,
    attestation  BLOB,
    state        TEXT NOT NULL,
    created_at   REAL NOT NULL,
    batch_id     INTEGER,
    PRIMARY KEY (gateway, seq)
);
"""

CLAIMED, ATTESTED, DECLINED, POSTED = "claimed", "attested", "declined", "posted"

#: Rows kept in memory (the most recently written; :meth:`AttestedLedger.get` reads the rest).
_KEPT = 8192


@dataclass(frozen=True)
class AttestedTicket:
    ticket: Ticket
    request_id: bytes
    project_id: bytes
    signature: bytes
    result_hash: bytes | None
    attestation: bytes | None
    state: str
    batch_id: int | None


class AttestedLedger:
    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        # rewards of the tickets taken and not yet posted, by (project, gateway): checked for
        # every ticket, so kept in memory (read once from the file, then kept up to date)
        self._flight: dict[tuple[str, int], tuple[bytes, int]] = {}
        self._sums: dict[tuple[bytes, str], int] = {}
        # (gateway lowercase, seq) -> the row as written, for the rows written since opening
        self._kept: OrderedDict[tuple[str, int], AttestedTicket] = OrderedDict()
        # a ticket claimed and never attested before this start was abandoned (the process
        # stopped while running it; its answer never went out): it is no longer in flight
        self.released = self._db.execute(
            "UPDATE attested SET state = ? WHERE state = ?", (DECLINED, CLAIMED)
        ).rowcount
        for t in self._select("state = ?", (ATTESTED,)):
            self._take(t.ticket.gateway, t.ticket.seq, t.project_id, t.ticket.reward)

    def _take(self, gateway: str, seq: int, project_id: bytes, reward: int) -> None:
        key = (gateway.lower(), seq)
        if key not in self._flight:
            self._flight[key] = (project_id, reward)
            sums = (project_id, key[0])
            self._sums[sums] = self._sums.get(sums, 0) + reward

    def _land(self, gateway: str, seq: int) -> None:
        key = (gateway.lower(), seq)
        entry = self._flight.pop(key, None)
        if entry is not None:
            self._sums[(entry[0], key[0])] -= entry[1]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def claim(self, ticket: Ticket, request_id: bytes, project_id: bytes, signature: bytes) -> bool:
        """Records the ticket as taken; False when this (gateway, seq) was seen before."""
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO attested(gateway, seq, request_id, project_id, ticket, signature,"
                    " state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        ticket.gateway.lower(),
                        ticket.seq,
                        request_id,
                        project_id,
                        json.dumps(ticket_to_doc(ticket)),
                        signature,
                        CLAIMED,
                        time.time(),
                    ),
                )
            except sqlite3.IntegrityError:
                return False
            self._take(ticket.gateway, ticket.seq, project_id, ticket.reward)
            key = (ticket.gateway.lower(), ticket.seq)
            self._kept[key] = AttestedTicket(
                ticket, request_id, project_id, signature, None, None, CLAIMED, None
            )
            if len(self._kept) > _KEPT:
                self._kept.popitem(last=False)
        return True

    def _kept_row(self, key: tuple[str, int], **changes: object) -> None:
        """The kept copy of ``key``'s row changed as its row was (nothing when not kept)."""
        row = self._kept.get(key)
        if row is not None:
            self._kept[key] = replace(row, **changes)  # type: ignore[arg-type]

    def attest(self, ticket: Ticket, result_hash: bytes, attestation: bytes) -> None:
        key = (ticket.gateway.lower(), ticket.seq)
        with self._lock:
            changed = self._db.execute(
                "UPDATE attested SET state = ?, result_hash = ?, attestation = ?"
                " WHERE gateway = ? AND seq = ?",
                (ATTESTED, result_hash, attestation, *key),
            ).rowcount
            row = self._kept.get(key) if changed else None
            if row is not None:  # the kept copy changed as its row was (built, not replace()d)
                self._kept[key] = AttestedTicket(
                    row.ticket,
                    row.request_id,
                    row.project_id,
                    row.signature,
                    result_hash,
                    attestation,
                    ATTESTED,
                    row.batch_id,
                )

    def decline(self, ticket: Ticket) -> None:
        key = (ticket.gateway.lower(), ticket.seq)
        with self._lock:
            if self._db.execute(
                "UPDATE attested SET state = ? WHERE gateway = ? AND seq = ?", (DECLINED, *key)
            ).rowcount:
                self._kept_row(key, state=DECLINED)
            self._land(ticket.gateway, ticket.seq)

    def mark_posted(self, gateway: str, seq: int, batch_id: int) -> None:
        key = (gateway.lower(), seq)
        with self._lock:
            if self._db.execute(
                "UPDATE attested SET state = ?, batch_id = ? WHERE gateway = ? AND seq = ?",
                (POSTED, batch_id, *key),
            ).rowcount:
                self._kept_row(key, state=POSTED, batch_id=batch_id)
            self._land(gateway, seq)

    def unmark(self, gateway: str, seq: int, batch_id: int) -> bool:
        """A ticket marked posted by batch ``batch_id`` attested again (a reorg dropped that
        post): unposted, its reward in flight again. False when it is not so marked."""
        key = (gateway.lower(), seq)
        with self._lock:
            changed = self._db.execute(
                "UPDATE attested SET state = ?, batch_id = NULL"
                " WHERE gateway = ? AND seq = ? AND state = ? AND batch_id = ?",
                (ATTESTED, *key, POSTED, batch_id),
            ).rowcount
            if not changed:
                return False
            self._kept_row(key, state=ATTESTED, batch_id=None)
            row = self._db.execute(
                "SELECT project_id, ticket FROM attested WHERE gateway = ? AND seq = ?", key
            ).fetchone()
            reward = ticket_from_doc(json.loads(row[1])).reward
            self._take(gateway, seq, bytes(row[0]), reward)
        return True

    def unposted(self, gateway: str | None = None) -> list[AttestedTicket]:
        """Attested tickets no batch has carried yet (oldest first)."""
        where, args = "state = ?", [ATTESTED]
        if gateway is not None:
            where += " AND gateway = ?"
            args.append(gateway.lower())
        return self._select(where, tuple(args))

    def get(self, gateway: str, seq: int) -> AttestedTicket | None:
        """What this worker took for (gateway, seq), attested or not."""
        if seq >= SINGLE_SEQ:
            return None  # a contract's single request: never a ticket (and beyond SQLite's int)
        kept = self._kept.get((gateway.lower(), seq))
        if kept is not None:
            return kept
        rows = self._select("gateway = ? AND seq = ?", (gateway.lower(), seq))
        return rows[0] if rows else None

    def result_of(self, gateway: str, seq: int) -> bytes | None:
        """The result hash this worker attested for (gateway, seq), if it attested one."""
        if seq >= SINGLE_SEQ:
            return None
        kept = self._kept.get((gateway.lower(), seq))
        if kept is not None:
            return kept.result_hash
        with self._lock:
            row = self._db.execute(
                "SELECT result_hash FROM attested WHERE gateway = ? AND seq = ?"
                " AND result_hash IS NOT NULL",
                (gateway.lower(), seq),
            ).fetchone()
        return bytes(row[0]) if row is not None else None

    def unposted_rewards(self, project_id: bytes, gateway: str) -> int:
        """Wei of the tickets of (project, gateway) taken and not yet posted."""
        with self._lock:
            return self._sums.get((project_id, gateway.lower()), 0)

    def _select(self, where: str, args: tuple[object, ...]) -> list[AttestedTicket]:
        with self._lock:
            rows = self._db.execute(
                "SELECT ticket, request_id, project_id, signature, result_hash, attestation,"
                f" state, batch_id FROM attested WHERE {where} ORDER BY created_at",
                args,
            ).fetchall()
        return [
            AttestedTicket(
                ticket=ticket_from_doc(json.loads(row[0])),
                request_id=bytes(row[1]),
                project_id=bytes(row[2]),
                signature=bytes(row[3]),
                result_hash=bytes(row[4]) if row[4] is not None else None,
                attestation=bytes(row[5]) if row[5] is not None else None,
                state=str(row[6]),
                batch_id=row[7],
            )
            for row in rows
        ]
