"""The duty log: what a worker committed to survives a restart, so it can still reveal."""

from __future__ import annotations

from pathlib import Path

from peerhost.worker.duties import DutyLog, challenge_key, seat_key, vote_key


def test_duty_log__reopened_after_a_restart__returns_the_saved_vector_and_salt(
    tmp_path: Path,
) -> None:
    path = tmp_path / "duties.sqlite3"
    log = DutyLog(path)
    log.save(seat_key(7), b"\x01" * 64, b"\x02" * 32)
    log.close()
    reopened = DutyLog(path)
    assert reopened.get(seat_key(7)) == (b"\x01" * 64, b"\x02" * 32)
    assert not reopened.done(seat_key(7))
    assert reopened.get(seat_key(8)) is None


def test_duty_log__marked__done_and_the_opening_kept(tmp_path: Path) -> None:
    log = DutyLog(tmp_path / "duties.sqlite3")
    log.save(vote_key(3, 1, 2), b"\x05" * 32, b"\x06" * 32)
    log.mark(vote_key(3, 1, 2))
    assert log.done(vote_key(3, 1, 2))
    assert log.get(vote_key(3, 1, 2)) == (b"\x05" * 32, b"\x06" * 32)


def test_duty_log__marked_without_a_record__done_with_an_empty_opening() -> None:
    log = DutyLog(":memory:")
    assert not log.done(challenge_key(1, 0, 3))
    log.mark(challenge_key(1, 0, 3))
    assert log.done(challenge_key(1, 0, 3))
    assert log.get(challenge_key(1, 0, 3)) == (b"", b"")


def test_duty_keys__differ_by_batch_leaf_and_tier() -> None:
    keys = {seat_key(1), vote_key(1, 0, 2), vote_key(1, 0, 3), vote_key(1, 1, 2)}
    keys |= {challenge_key(1, 0, 3)}
    assert len(keys) == 5


def test_duty_log__undone__the_prefixed_keys_not_marked_in_order(tmp_path: Path) -> None:
    log = DutyLog(tmp_path / "duties.sqlite3")
    log.save(seat_key(9), b"\x01" * 32, b"\x02" * 32)
    log.save(vote_key(9, 0, 2), b"\x03" * 32, b"\x04" * 32)
    log.save(seat_key(4), b"\x05" * 32, b"\x06" * 32)
    log.save(seat_key(11), b"\x07" * 32, b"\x08" * 32)
    log.mark(seat_key(11))
    assert log.undone("seat:") == [seat_key(9), seat_key(4)]
    assert log.undone("vote:") == [vote_key(9, 0, 2)]
    assert log.undone("challenge:") == []
