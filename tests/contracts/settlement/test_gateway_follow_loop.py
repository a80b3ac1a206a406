"""The batch poster's two loops: posting never waits for a round of following (settled batches,
their openings, the attesters' co-signatures), which on a loaded machine took 3-5 s and held every
ticket that long more before its post. A round of following that does not end (its lock held, as
one waiting on co-signatures and receipts holds it) leaves the tickets posted all the same, and
following resumes once the round ends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.gateway.ticketbook import POSTED

from .test_gateway_reorg import Gateway
from .worker_harness import key_of, wait_for


@pytest.fixture
def gw(ready: Any, v2_config: ChainConfig, tmp_path: Path) -> Iterator[Gateway]:
    running = Gateway(v2_config, key_of(ready.gateway), tmp_path)
    yield running
    running.close()


def test_poster_run__round_of_following_never_ends__tickets_posted_meanwhile(
    ready: Any, gw: Gateway
) -> None:
    kit = ready
    held = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:  # a round of following that lasts until released
        async with gw.poster._following:
            held.set()
            await release.wait()

    holding = gw.start(hold())
    wait_for(held.is_set, 10, "the round of following begun")
    followed = []
    follow = gw.poster.follow

    async def counted() -> None:
        followed.append(time.monotonic())
        await follow()

    gw.poster.follow = counted  # type: ignore[method-assign]
    running = gw.start(gw.poster.run())
    try:
        tickets = kit.tickets(3)
        gw.issue(tickets, kit.project_id)
        wait_for(
            lambda: gw.states(tickets) == [POSTED] * 3,
            30,
            "the tickets posted while a round of following never ended",
        )
        assert followed == [], "a round of following ran while the lock was held"
        gw.loop.call_soon_threadsafe(release.set)
        holding.result(10)
        wait_for(lambda: bool(followed), 10, "following resumed once the round ended")
    finally:
        running.cancel()


def test_poster_run__floor_between_posts__a_silent_attesters_ticket_posted_within_admission_budget(
    ready: Any, gw: Gateway
) -> None:
    """A floor between posts (a chain that mines a block per transaction) that is long beside the
    admission budget: a ticket whose attester stays silent is ready only after the attest grace,
    and waiting out the floor on top of it, the oldest ticket grew past the budget (admission
    refused calls: 503 PosterBehind). The posting loop posts it once ready all the same, within
    the budget (half the orphan grace) of its issue."""
    kit = ready
    gw.poster.interval = 30.0  # the floor: far past the admission budget
    gw.poster.orphan_grace = 24.0  # admission refuses once the oldest ticket is 12 s old
    gw.poster._waiting = lambda rid: True  # type: ignore[method-assign]  # the attester is silent
    running = gw.start(gw.poster.run())
    try:
        time.sleep(1.0)  # the posting loop's first step done: the floor runs
        tickets = kit.tickets(1)
        gw.issue(tickets, kit.project_id)
        issued = time.monotonic()
        wait_for(lambda: gw.states(tickets) == [POSTED], 40, "the silent attester's ticket posted")
        waited = time.monotonic() - issued
        budget = gw.poster.orphan_grace * gw.poster.admission_share
        assert waited < budget, f"posted {waited:.1f} s after issue: calls refused from {budget} s"
    finally:
        running.cancel()
