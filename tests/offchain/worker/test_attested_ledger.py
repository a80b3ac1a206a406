"""The attested ledger: replays refused, and the rewards in flight that bound a project's tickets."""

from __future__ import annotations

from pathlib import Path

from peerhost.wire.ticket import Ticket
from peerhost.worker.attested import AttestedLedger

GATEWAY = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
PROJECT, OTHER = b"\x01" * 32, b"\x02" * 32


def ticket(seq: int, reward: int = 1000) -> Ticket:
    return Ticket(GATEWAY, seq, b"\x03" * 32, 1, b"\x04" * 32, reward, 10, 20, 0)


def test_ledger__tickets_taken__in_flight_sums_per_project_until_posted_or_declined(
    tmp_path: Path,
) -> None:
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite3"))
    assert ledger.claim(ticket(1), b"r1", PROJECT, b"s")
    assert ledger.claim(ticket(2, 500), b"r2", PROJECT, b"s")
    assert ledger.claim(ticket(3), b"r3", OTHER, b"s")
    assert not ledger.claim(ticket(1), b"r1", PROJECT, b"s")  # a replay adds nothing
    assert ledger.unposted_rewards(PROJECT, GATEWAY.lower()) == 1500
    ledger.attest(ticket(1), b"\x05" * 32, b"a")
    ledger.mark_posted(GATEWAY, 1, 7)
    ledger.decline(ticket(2, 500))
    assert ledger.unposted_rewards(PROJECT, GATEWAY) == 0
    assert ledger.unposted_rewards(OTHER, GATEWAY) == 1000
    ledger.mark_posted(GATEWAY, 1, 7)  # twice: counted once
    assert ledger.unposted_rewards(OTHER, GATEWAY) == 1000


def test_ledger__reopened__attested_rewards_and_results_survive(tmp_path: Path) -> None:
    path = str(tmp_path / "attested.sqlite3")
    ledger = AttestedLedger(path)
    ledger.claim(ticket(1), b"r1", PROJECT, b"s")
    ledger.attest(ticket(1), b"\x05" * 32, b"a")
    ledger.claim(ticket(2), b"r2", PROJECT, b"s")
    ledger.close()
    reopened = AttestedLedger(path)
    assert reopened.unposted_rewards(PROJECT, GATEWAY) == 1000  # the attested one: still owed
    assert reopened.result_of(GATEWAY, 1) == b"\x05" * 32
    assert reopened.result_of(GATEWAY, 2) is None


def test_ledger__reopened_after_claim_never_attested__reward_released_and_replay_refused(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "attested.sqlite3")
    ledger = AttestedLedger(path)
    ledger.claim(ticket(1, 700), b"r1", PROJECT, b"s")  # killed before attesting it
    assert ledger.unposted_rewards(PROJECT, GATEWAY) == 700
    ledger.close()
    reopened = AttestedLedger(path)
    assert reopened.released == 1
    assert reopened.unposted_rewards(PROJECT, GATEWAY) == 0  # no longer shrinks the reserve
    assert not reopened.claim(ticket(1, 700), b"r1", PROJECT, b"s")  # still refused as a replay
    assert reopened.unposted() == []
    reopened.close()


def test_ledger__rows_kept_in_memory__read_as_the_file_holds_them(tmp_path: Path) -> None:
    path = str(tmp_path / "attested.sqlite3")
    ledger = AttestedLedger(path)
    for seq in (1, 2, 3, 4):
        ledger.claim(ticket(seq), bytes([seq]) * 32, PROJECT, b"s")
    ledger.attest(ticket(1), b"\x05" * 32, b"a1")
    ledger.attest(ticket(2), b"\x06" * 32, b"a2")
    ledger.mark_posted(GATEWAY, 2, 7)
    ledger.decline(ticket(3))
    ledger.mark_posted(GATEWAY, 9, 7)  # never taken: nothing kept, nothing written
    ledger.attest(ticket(9), b"\x05" * 32, b"a")
    kept = {seq: ledger.get(GATEWAY, seq) for seq in (1, 2, 3, 4, 9)}
    results = {seq: ledger.result_of(GATEWAY.lower(), seq) for seq in (1, 2, 3, 4, 9)}
    ledger.close()
    reopened = AttestedLedger(path)  # nothing kept: every row read from the file
    # (a claim never attested is released at the start: declined in the file)
    on_file = {seq: reopened.get(GATEWAY, seq) for seq in (1, 2, 3, 4, 9)}
    assert on_file[4] is not None and on_file[4].state == "declined"
    assert kept[4] is not None and kept[4].state == "claimed"
    assert {k: v for k, v in kept.items() if k != 4} == {k: v for k, v in on_file.items() if k != 4}
    assert [(r.state, r.batch_id) for r in (kept[1], kept[2], kept[3]) if r] == [
        ("attested", None),
        ("posted", 7),
        ("declined", None),
    ]
    assert kept[9] is None
    assert results == {seq: reopened.result_of(GATEWAY, seq) for seq in (1, 2, 3, 4, 9)}
    assert results[1] == b"\x05" * 32 and results[3] is None
    reopened.close()
