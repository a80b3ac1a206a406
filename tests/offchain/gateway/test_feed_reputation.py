"""Attester choice: cheapest first, where cost is answer latency over reputation."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from peerhost.gateway.feed import FeedHub, WorkerLink
from peerhost.gateway.reputation import WorkerRecords

A, B, C = (f"0x{n * 40}" for n in "abc")


def hub_with(latencies: dict[str, float]) -> FeedHub:
    hub = FeedHub("0xgateway", 31337)
    for worker, latency in latencies.items():
        hub.links[worker] = WorkerLink(worker, cast(Any, None), latency=latency)
    return hub


def picked(hub: FeedHub, count: int = 3) -> list[str]:
    return [link.worker for link in hub.pick(lambda _: True, count, set())]


def test_pick__no_history__fastest_first_and_untried_links_tried() -> None:
    hub = hub_with({A: 0.030, B: 0.010, C: 0.0})
    assert picked(hub) == [C, B, A]


def test_pick__a_fast_worker_contradicted_by_the_chain__ranks_behind_a_slower_honest_one() -> None:
    hub = hub_with({A: 0.010, B: 0.020})
    hub.credit(A, good=False)
    hub.credit(B, good=True)
    assert picked(hub, 1) == [B]
    assert hub.reputation(A).score < hub.reputation(B).score == 1.0


def test_pick__one_fault_among_many_good_answers__latency_decides_again() -> None:
    hub = hub_with({A: 0.010, B: 0.020})
    for _ in range(20):
        hub.credit(A, good=True)
    hub.credit(A, good=False)
    assert hub.reputation(A).score > 0.75
    assert picked(hub, 1) == [A]


def test_reputation__kept_by_address__survives_a_reconnect_and_case() -> None:
    hub = hub_with({A: 0.010})
    hub.credit(A.upper().replace("0X", "0x"), good=False)
    hub.links[A] = WorkerLink(A, cast(Any, None), latency=0.010)  # a new connection
    assert hub.reputation(A).bad == 1


def test_pick__inactive_and_excluded_workers__never_picked() -> None:
    hub = hub_with({A: 0.010, B: 0.020, C: 0.030})
    links = hub.pick(lambda worker: worker != A, 3, {B})
    assert [link.worker for link in links] == [C]


def test_any_linked__only_inactive_workers_linked__false_as_pick_finds_none() -> None:
    hub = hub_with({A: 0.010, B: 0.020})
    assert not hub.any_linked(lambda worker: worker == C)
    assert not hub.pick(lambda worker: worker == C, 1, set())
    assert hub.any_linked(lambda worker: worker == B)
    assert not FeedHub("0xgateway", 31337).any_linked(lambda _: True)


def test_records__gateway_restarted__reputation_and_latency_kept_and_same_pick(
    tmp_path: Path,
) -> None:
    path = tmp_path / "workers.sqlite3"
    records = WorkerRecords(path)
    hub = FeedHub("0xgateway", 31337, records)
    for worker, latency in {A: 0.010, B: 0.020, C: 0.030}.items():
        hub.links[worker] = WorkerLink(worker, cast(Any, None), latency=latency)
    hub.credit(A, good=False)
    hub.credit(B, good=True)
    hub.credit(B, good=True)
    before = picked(hub)
    hub._remember(list(hub.links.values()))  # as when the links end at shutdown
    records.close()

    again = FeedHub("0xgateway", 31337, WorkerRecords(path))
    for worker in (A, B, C):  # the workers link again: each starts from its recorded latency
        again.links[worker] = WorkerLink(worker, cast(Any, None), again.latencies[worker])

    assert before == [B, C, A]
    assert picked(again) == before
    assert (again.reputation(A).bad, again.reputation(B).good) == (1, 2)
    assert again.latencies == {A: 0.010, B: 0.020, C: 0.030}


def test_records__closed__later_writes_ignored_not_raised(tmp_path: Path) -> None:
    records = WorkerRecords(tmp_path / "workers.sqlite3")
    hub = FeedHub("0xgateway", 31337, records)
    records.close()
    hub.credit(A, good=True)  # a link ending after shutdown
    assert hub.reputation(A).good == 1
    assert WorkerRecords(tmp_path / "workers.sqlite3").load() == {}
