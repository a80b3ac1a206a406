"""The ticket book: a seq and running total allocated in memory, written with the saved ticket."""

from __future__ import annotations

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
