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
