"""The schedule book: a due time is claimed once, across a restart too; runs left open by a
stopped gateway read as interrupted; registering a project replaces its set."""

from __future__ import annotations

from pathlib import Path

from peerhost.gateway.schedulebook import INTERRUPTED, ScheduleBook

WALLET = "0x" + "AB" * 20
FID = b"\x07" * 32


def test_claim__same_due_time_twice_and_after_reopen__claimed_once(tmp_path: Path) -> None:
    path = tmp_path / "schedules.sqlite3"
    book = ScheduleBook(path)
    assert book.claim(FID, 100, WALLET, "p", "tick", 1.0)
    assert not book.claim(FID, 100, WALLET, "p", "tick", 2.0)
    book.close()
    reopened = ScheduleBook(path)
    assert not reopened.claim(FID, 100, WALLET, "p", "tick", 3.0)
    assert reopened.claim(FID, 102, WALLET, "p", "tick", 3.0)
    assert reopened.last_due(FID) == 102
    reopened.close()


def test_reopen__runs_left_open__read_as_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "schedules.sqlite3"
    book = ScheduleBook(path)
    book.claim(FID, 100, WALLET, "p", "tick", 1.0)
    book.issued(FID, 100, b"\x01" * 32)
    book.claim(FID, 102, WALLET, "p", "tick", 1.0)
    book.finished(FID, 102, 200, "ok")
    book.close()
    runs = {r.due: r for r in ScheduleBook(path).runs(WALLET, "p", "tick")}
    assert runs[100].outcome == INTERRUPTED and runs[100].request_id == "0x" + "01" * 32
    assert runs[102].outcome == "ok" and runs[102].status == 200


def test_register__new_set__replaces_the_old_and_keeps_since(tmp_path: Path) -> None:
    book = ScheduleBook(tmp_path / "s.sqlite3")
    book.register(WALLET, "p", ["a", "b"], 10)
    book.register(WALLET, "p", ["b", "c"], 20)
    assert [(s.function, s.since) for s in book.scheduled(WALLET, "p")] == [("b", 10), ("c", 20)]
    book.register(WALLET, "p", [], 30)
    assert book.scheduled() == []
    book.close()


def test_release__unsigned_claim__claimable_again_but_an_issued_one_is_kept(tmp_path: Path) -> None:
    book = ScheduleBook(tmp_path / "s.sqlite3")
    book.claim(FID, 100, WALLET, "p", "tick", 1.0)
    book.release(FID, 100)  # no ticket was signed: a later beat may try again
    assert book.last_due(FID) is None
    assert book.claim(FID, 100, WALLET, "p", "tick", 2.0)
    book.issued(FID, 100, b"\x01" * 32)
    book.release(FID, 100)  # signed: never given back
    assert not book.claim(FID, 100, WALLET, "p", "tick", 3.0)
    book.close()
