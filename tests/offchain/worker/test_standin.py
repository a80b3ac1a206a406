"""The stand-in's hand-over: what the primary gateway's schedule book says it issued (as its
status page lists it) decides whether a stand-in issues a due time, not whether the gateway
answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from peerhost.gateway.schedulebook import NOT_ISSUED, STANDIN, ScheduleBook
from peerhost.wire.schedule_ticket import standin_may_issue
from peerhost.worker.standin import issued_by_primary

WALLET = "0x" + "AB" * 20
FID = b"\x07" * 32
TAKEOVER = 10.0
CATCH_UP = 29.0


def _status(book: ScheduleBook, *functions: str) -> dict[str, object]:
    """The primary's ``/_status/schedules`` answer, as its route builds it from the book."""
    return {
        "functions": [
            {"function": name, "runs": [r.to_json() for r in book.runs(WALLET, "p", name)]}
            for name in functions
        ]
    }


def _decide(book: ScheduleBook, due: int, now: float, heard_at: float) -> bool:
    issued = issued_by_primary(_status(book, "tick")).get("tick")
    return standin_may_issue(
        due, now, heard_at=heard_at, issued=issued, takeover=TAKEOVER, catch_up=CATCH_UP
    )


@pytest.fixture
def book(tmp_path: Path) -> Iterator[ScheduleBook]:
    book = ScheduleBook(tmp_path / "schedules.sqlite3")
    yield book
    book.close()


def test_handover__gateway_answers_but_never_issued_the_due_time__standin_issues(
    book: ScheduleBook,
) -> None:
    book.claim(FID, 100, WALLET, "p", "tick", 100.0)  # claimed, never signed (a slow restart)
    book.claim(FID, 102, WALLET, "p", "tick", 130.0)
    book.finished(FID, 102, None, f"{NOT_ISSUED}: more than 25 s late")
    assert _decide(book, 100, now=111.0, heard_at=111.0)
    assert _decide(book, 102, now=113.0, heard_at=113.0)
    assert _decide(book, 104, now=115.0, heard_at=115.0)  # not even claimed


def test_handover__gateway_issued_the_due_time__standin_does_not(book: ScheduleBook) -> None:
    book.claim(FID, 100, WALLET, "p", "tick", 100.0)
    book.issued(FID, 100, b"\x01" * 32)
    book.claim(FID, 102, WALLET, "p", "tick", 102.0)
    book.issued(FID, 102, b"\x02" * 32)
    book.finished(FID, 102, 200, "ok")
    assert not _decide(book, 100, now=115.0, heard_at=115.0)  # running
    assert not _decide(book, 102, now=115.0, heard_at=115.0)  # answered
    assert not _decide(book, 102, now=130.0, heard_at=110.0)  # issued, then the gateway went away


def test_handover__due_time_passed_while_the_gateway_was_away__standin_issues(
    book: ScheduleBook,
) -> None:
    book.claim(FID, 100, WALLET, "p", "tick", 126.0)  # the restarted gateway's record only
    book.issued(FID, 100, b"\x03" * 32)
    book.finished(FID, 100, None, STANDIN)
    assert _decide(book, 100, now=126.0, heard_at=126.0)


def test_handover__gateway_silent_less_than_the_takeover__standin_waits(
    book: ScheduleBook,
) -> None:
    # its last answer (before the due time's takeover) did not have it yet: a heartbeat that
    # times out is no proof the gateway issued nothing
    assert not _decide(book, 100, now=115.0, heard_at=108.0)
    assert _decide(book, 100, now=118.0, heard_at=108.0)  # silent a whole takeover


def test_handover__gateway_answers_without_the_function__standin_leaves_it(
    book: ScheduleBook,
) -> None:
    issued = issued_by_primary(_status(book, "other")).get("tick")  # the owner stopped "tick"
    assert issued is None
    kwargs = {"takeover": TAKEOVER, "catch_up": CATCH_UP}
    assert not standin_may_issue(100, 115.0, heard_at=115.0, issued=issued, **kwargs)
    assert standin_may_issue(100, 125.0, heard_at=115.0, issued=issued, **kwargs)


def test_issued_by_primary__not_a_schedule_status__raises_value_error() -> None:
    with pytest.raises(ValueError, match="not a schedule status"):
        issued_by_primary({"detail": "not found"})
