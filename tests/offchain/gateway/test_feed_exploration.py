"""Attester choice under stale estimates: a worker with a bad old latency is probed again, a
genuinely slow one stays rare, a ticket never gets more seats than asked."""

from __future__ import annotations

import time
from typing import Any, cast

import pytest

from peerhost.gateway.feed import EXPLORE_SHARE, STALE_AFTER, FeedHub, WorkerLink

A, B, C, D = (f"0x{n * 40}" for n in "abcd")


def hub_with(latencies: dict[str, float], seed: int = 1, **kwargs: Any) -> FeedHub:
    hub = FeedHub("0xgateway", 31337, seed=seed, **kwargs)
    for worker, latency in latencies.items():
        hub.links[worker] = WorkerLink(worker, cast(Any, None), latency=latency)
    return hub


def answer(link: WorkerLink, took: float) -> None:
    """``link`` answers a ticket sent ``took`` seconds ago (what the feed does on an Answer)."""
    rid = link.jobs.to_bytes(32, "big")
    link.jobs += 1
    link.sent_at[rid] = time.monotonic() - took
    link.answered(rid)


def offered(hub: FeedHub, count: int = 2, exclude: set[str] | None = None) -> list[str]:
    return [link.worker for link in hub.offer(lambda _: True, count, exclude or set())]


def first_offer_to(hub: FeedHub, worker: str, limit: int) -> int | None:
    """The number of the first of ``limit`` offers that includes ``worker`` (None: none did)."""
    for n in range(1, limit + 1):
        if worker in offered(hub):
            return n
    return None


@pytest.mark.parametrize("seed", range(8))
def test_offer__worker_with_a_bad_old_estimate__offered_again_and_estimate_replaced(
    seed: int,
) -> None:
    # the campaign's figures: 1.64 s stored from a slow start, 0.2 and 0.4 s for the others
    hub = hub_with({A: 0.2, B: 0.4, C: 1.64}, seed)
    assert hub.pick(lambda _: True, 2, set()) == [hub.links[A], hub.links[B]]

    n = first_offer_to(hub, C, 100)

    assert n is not None and STALE_AFTER <= n <= 100
    answer(hub.links[C], 0.3)  # its probe answers as fast as the others now
    assert hub.links[C].latency == pytest.approx(0.3, abs=0.05)  # replaced, not 0.8 x 1.64 + …
    assert offered(hub) == [A, C]  # and it is picked on latency again


def test_offer__genuinely_slow_worker__offered_rarely_and_never_an_extra_seat() -> None:
    hub = hub_with({A: 0.2, B: 0.4, C: 2.0})
    runs = 1000
    seats = [offered(hub) for _ in range(runs)]
    for picked in seats:
        if C in picked:
            answer(hub.links[C], 2.0)  # still slow when probed

    to_c = sum(C in picked for picked in seats)
    assert all(len(picked) == 2 and picked[0] == A for picked in seats)
    assert 1 <= to_c == hub.probes <= runs * EXPLORE_SHARE
    assert hub.links[C].latency == pytest.approx(2.0, abs=0.05)


def test_offer__worker_caught_wrong__never_probed() -> None:
    hub = hub_with({A: 0.2, B: 0.4, C: 0.5})
    hub.credit(C, good=False)  # score 1/6: its cost (3 s) is the highest, and it is not explored
    assert not any(C in offered(hub) for _ in range(500))
    assert hub.probes == 0


def test_offer__inactive_or_already_tried_workers__never_probed() -> None:
    hub = hub_with({A: 0.2, B: 0.4, C: 1.0, D: 1.5})
    picks = [
        [link.worker for link in hub.offer(lambda worker: worker != D, 2, {C})] for _ in range(500)
    ]
    assert all(picked == [A, B] for picked in picks)


def test_offer__probed_worker_refuses__latency_kept_and_not_probed_again_until_stale() -> None:
    hub = hub_with({A: 0.2, B: 0.4, C: 1.64})
    first = first_offer_to(hub, C, 100)
    assert first is not None
    link = hub.links[C]
    link.sent_at.clear()  # it refused: no answer, nothing measured
    assert link.latency == 1.64 and link.stale

    again = first_offer_to(hub, C, 200)

    assert again is not None and again >= STALE_AFTER  # offers counted from its refused probe


def test_offer__same_seed__same_choices() -> None:
    def run(seed: int) -> list[list[str]]:
        hub = hub_with({A: 0.2, B: 0.4, C: 1.64, D: 2.0}, seed)
        return [offered(hub) for _ in range(200)]

    assert run(3) == run(3)
    assert any(C in picked for picked in run(3)) and any(D in picked for picked in run(3))


def test_offer__no_exploration__cheapest_first_only() -> None:
    hub = hub_with({A: 0.2, B: 0.4, C: 1.64}, explore_share=0.0)
    assert all(offered(hub) == [A, B] for _ in range(300))


@pytest.mark.parametrize(("share", "stale_after"), [(0.6, 10), (-0.1, 10), (0.1, 0)])
def test_hub__exploration_out_of_bounds__refused_with_the_bounds(
    share: float, stale_after: int
) -> None:
    with pytest.raises(ValueError, match=r"explore_share must be in \[0, 0.5\]"):
        FeedHub("0xgateway", 31337, explore_share=share, stale_after=stale_after)
