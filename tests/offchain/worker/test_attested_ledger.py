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
