"""The ticket book: a seq and running total allocated in memory, written with the saved ticket."""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from eth_utils import keccak

from peerhost.gateway.ticketbook import ISSUED, TicketBook
from peerhost.wire.ticket import Ticket

GATEWAY = "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"  # checksummed, as the book reads it back
REWARD = 10**15


def _ticket(seq: int, total: int) -> Ticket:
    return Ticket(
        GATEWAY, seq, keccak(b"f"), 1, keccak(bytes([seq])), REWARD, 10, 700, 0, issued_total=total
    )


def _issue(book: TicketBook) -> Ticket:
    """What the desk does before sending: allocate, sign (here: not), save."""
    seq, total = book.allocate(REWARD)
    ticket = _ticket(seq, total)
    book.save(ticket, keccak(b"rid%d" % seq), b"\x01" * 32, b"sig", b"input %d" % seq)
    return ticket


def test_save__book_reopened__ticket_and_counters_kept(tmp_path: Path) -> None:
    """A gateway killed right after a ticket was saved (and so possibly sent) restarts with it."""
    book = TicketBook(tmp_path / "tickets.sqlite3")
    first, second = _issue(book), _issue(book)
    # no close: the process dies with the connection open
    again = TicketBook(tmp_path / "tickets.sqlite3")
    kept = again.get(keccak(b"rid%d" % second.seq))
    assert kept is not None and kept.ticket == second and kept.state == ISSUED
    assert kept.input == b"input 1"
    assert [t.ticket.seq for t in again.in_state(ISSUED)] == [first.seq, second.seq]
    assert again.allocate(REWARD) == (2, 3 * REWARD)


def test_allocate__crash_before_save__seq_reused_by_the_restarted_book(tmp_path: Path) -> None:
    """A seq allocated and never saved was never sent: the restarted book may sign it anew."""
    book = TicketBook(tmp_path / "tickets.sqlite3")
    _issue(book)
    assert book.allocate(REWARD) == (1, 2 * REWARD)  # signed, then the process died: not saved
    again = TicketBook(tmp_path / "tickets.sqlite3")
    assert again.next_seq() == 1
    assert again.allocate(REWARD) == (1, 2 * REWARD)


def test_save__saved_out_of_order__counters_move_past_the_highest(tmp_path: Path) -> None:
    book = TicketBook(tmp_path / "tickets.sqlite3")
    low, high = book.allocate(REWARD), book.allocate(REWARD)
    book.save(_ticket(*high), b"\x02" * 32, b"\x01" * 32, b"sig", b"in")
    book.save(_ticket(*low), b"\x01" * 32, b"\x01" * 32, b"sig", b"in")
    again = TicketBook(tmp_path / "tickets.sqlite3")
    assert (again.next_seq(), again.issued_total()) == (2, 2 * REWARD)


def test_save__seq_already_in_the_book__refused_and_allocation_moves_past(tmp_path: Path) -> None:
    """Two writers of one file (a misconfiguration) never both save a seq: the second save raises
    (so its ticket is never sent) and the next allocation skips what the other wrote."""
    path = tmp_path / "tickets.sqlite3"
    mine, theirs = TicketBook(path), TicketBook(path)
    taken = _issue(theirs)
    seq, total = mine.allocate(REWARD)
    assert seq == taken.seq
    with pytest.raises(sqlite3.IntegrityError):
        mine.save(
            replace(_ticket(seq, total), input_hash=b"\x07" * 32),
            b"\x09" * 32,
            b"\x01" * 32,
            b"sig",
            b"other input",
        )
    assert mine.allocate(REWARD)[0] == taken.seq + 1
    stored = mine.get(keccak(b"rid%d" % taken.seq))
    assert stored is not None and stored.input == b"input 0"


def test_open__counters_kept_in_meta_by_an_older_book__allocation_starts_past_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tickets.sqlite3"
    book = TicketBook(path)
    _issue(book)
    with sqlite3.connect(path) as db:  # what the older format wrote at each allocation
        db.executemany(
            "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
            [("next_seq", "5"), ("issued_total", str(9 * REWARD))],
        )
    assert TicketBook(path).allocate(REWARD) == (5, 10 * REWARD)


def test_save__out_of_order_past_a_digit__counters_compared_as_numbers(tmp_path: Path) -> None:
    """The counters are decimal text: "9" must not win over "12" (saved last to first, every seq
    and total crossing from one digit count to the next)."""
    book = TicketBook(tmp_path / "tickets.sqlite3")
    allocated = [book.allocate(REWARD) for _ in range(12)]
    for seq, total in reversed(allocated):
        book.save(_ticket(seq, total), keccak(b"rid%d" % seq), b"\x01" * 32, b"sig", b"in")
    again = TicketBook(tmp_path / "tickets.sqlite3")
    assert (again.next_seq(), again.issued_total()) == (12, 12 * REWARD)


def test_save__refused__allocation_moves_past_everything_the_other_writer_saved(
    tmp_path: Path,
) -> None:
    """A refused save reads the counters the other writer left, not only the seq it hit."""
    path = tmp_path / "tickets.sqlite3"
    mine, theirs = TicketBook(path), TicketBook(path)
    _issue(theirs), _issue(theirs)
    seq, total = mine.allocate(REWARD)
    with pytest.raises(sqlite3.IntegrityError):
        mine.save(_ticket(seq, total), b"\x09" * 32, b"\x01" * 32, b"sig", b"other input")
    assert mine.allocate(REWARD) == (2, 3 * REWARD)


def _backlog_in_the_file(path: Path) -> tuple[int, int | None]:
    """What admission control read from the file at every call before the book kept it."""
    with sqlite3.connect(path) as db:
        count, oldest = db.execute(
            "SELECT COUNT(*), MIN(seq) FROM tickets WHERE state = ?", (ISSUED,)
        ).fetchone()
        if oldest is None:
            return 0, None
        (doc,) = db.execute("SELECT ticket FROM tickets WHERE seq = ?", (oldest,)).fetchone()
    return int(count), int(json.loads(doc)["issuedAt"])


def _issue_at(book: TicketBook, issued_at: int) -> Ticket:
    seq, total = book.allocate(REWARD)
    ticket = replace(_ticket(seq, total), issued_at=issued_at)
    book.save(ticket, keccak(b"rid%d" % seq), b"\x01" * 32, b"sig", b"input %d" % seq)
    return ticket


def test_backlog__each_change_of_state__the_files_count_and_oldest(tmp_path: Path) -> None:
    """The backlog kept in memory follows every way a ticket leaves or re-enters ``issued``: the
    oldest posted moves it to the next, a failed post or a dropped batch brings it back."""
    path = tmp_path / "tickets.sqlite3"
    book = TicketBook(path)
    assert book.backlog() == (0, None)
    for i in range(6):
        _issue_at(book, 1000 + i)
    assert book.backlog() == _backlog_in_the_file(path) == (6, 1000)
    book.mark_posting([0, 1], b"\x0a" * 32, b"salt", b"opening")
    assert book.backlog() == _backlog_in_the_file(path) == (4, 1002)
    book.unpost([0, 1])  # the post never made it
    assert book.backlog() == _backlog_in_the_file(path) == (6, 1000)
    book.mark_posting([0, 1, 2], b"\x0b" * 32, b"salt", b"opening")
    book.mark_posted([0, 1, 2], 7)
    assert book.backlog() == _backlog_in_the_file(path) == (3, 1003)
    book.unpost([0, 1, 2])  # posted in batch 7 by now: not sent back
    assert book.backlog() == _backlog_in_the_file(path) == (3, 1003)
    book.mark_placed({3: (8, 0)})  # an attester's orphan batch carried seq 3
    book.reject([4])
    assert book.backlog() == _backlog_in_the_file(path) == (1, 1005)
    book.drop_batch(b"\x0b" * 32)  # a reorg dropped batch 7 for good
    assert book.backlog() == _backlog_in_the_file(path) == (4, 1000)
    again = TicketBook(path)  # restarted: read from the file
    assert again.backlog() == book.backlog()


def test_backlog__random_walk_of_posts_and_reopens__always_the_files(tmp_path: Path) -> None:
    path = tmp_path / "tickets.sqlite3"
    book, rng = TicketBook(path), random.Random(20261130)
    for step in range(400):
        seqs = rng.sample(range(book.next_seq()), min(book.next_seq(), rng.randint(1, 4)))
        action = rng.randrange(8)
        if action <= 2 or not seqs:
            _issue_at(book, rng.randint(1, 10**6))
        elif action == 3:
            book.mark_posting(seqs, step.to_bytes(32, "big"), b"salt", b"opening")
        elif action == 4:
            book.unpost(seqs)
        elif action == 5:
            book.mark_posted(seqs, step)
        elif action == 6:
            book.reject(seqs) if rng.random() < 0.5 else book.mark_placed({seqs[0]: (step, 0)})
        elif rng.random() < 0.5:
            book.drop_batch(rng.randrange(step).to_bytes(32, "big"))
        else:
            book = TicketBook(path)
        assert book.backlog() == _backlog_in_the_file(path), step


def test_drop_or_rebatch__batch_id_another_post_holds_now__its_cosignatures_kept(
    tmp_path: Path,
) -> None:
    """A post a reorg dropped (or moved) after the gateway's next post got its batch id: reading
    it again forgets the co-signatures of the id it had only if no other post holds that id now
    (they are the next post's, asked for once its batch settled)."""
    book = TicketBook(tmp_path / "tickets.sqlite3")
    for _ in range(6):
        _issue(book)
    stale, taker, dropped = b"\x0a" * 32, b"\x0b" * 32, b"\x0c" * 32
    for seqs, tx in (([0, 1], stale), ([2, 3], taker), ([4, 5], dropped)):
        book.mark_posting(seqs, tx, b"salt", b"opening")
        book.mark_posted(seqs, 7)  # each seen mined as batch 7, the last on the new branch
        book.batch_posted(tx, 7)
    book.add_cosignature(7, GATEWAY, b"taker's")
    book.rebatch(stale, 8)  # mined again as batch 8: 7 is another post's
    assert book.cosignatures(7) == {GATEWAY.lower(): b"taker's"}
    book.drop_batch(dropped)  # gone for good: 7 is still another post's
    assert book.cosignatures(7) == {GATEWAY.lower(): b"taker's"}
    assert [t.ticket.seq for t in book.in_state(ISSUED)] == [4, 5]
    assert book.holders(7, taker) == [] and book.holders(8, taker) == [stale]
    book.add_cosignature(8, GATEWAY, b"stale's")
    book.drop_batch(stale)  # then dropped for good: no post holds 8, its co-signatures go
    assert book.cosignatures(8) == {}
    assert book.batch(7) is not None and book.batch(7).post_tx == taker


def test_batch_posted__cosignatures_kept_under_its_id__another_posts_and_gone(
    tmp_path: Path,
) -> None:
    """A post just mined has no co-signature yet: those the book kept under its batch id were
    checked against another post's batch (one a reorg dropped), and would pass for this one's."""
    book = TicketBook(tmp_path / "tickets.sqlite3")
    for _ in range(2):
        _issue(book)
    book.mark_posting([0], b"\x0a" * 32, b"salt", b"opening")
    book.mark_posted([0], 7)
    book.batch_posted(b"\x0a" * 32, 7)
    book.add_cosignature(7, GATEWAY, b"the dropped post's")
    book.mark_posting([1], b"\x0b" * 32, b"salt", b"opening")
    book.mark_posted([1], 7)  # the next post took batch 7 on the new branch
    book.batch_posted(b"\x0b" * 32, 7)
    assert book.cosignatures(7) == {}
    assert book.holders(7, b"\x0b" * 32) == [b"\x0a" * 32]
