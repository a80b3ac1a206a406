"""The gateway's cached chain reads on the ticket path: a burst of calls that finds a project's
reserve stale sends one read, not one per call; a fresh read (a ticket the cached reserve does
not cover) reads again; tickets drawn on-chain make the next call read."""

from __future__ import annotations

import asyncio

from peerhost.gateway.tickets import Reserves

PROJECT = b"\x07" * 32


class ReserveView:
    """The one read ``Reserves`` makes: slow and counted."""

    def __init__(self) -> None:
        self.reads = 0

    async def reserve_of(self, project_id: bytes) -> int:
        self.reads += 1
        await asyncio.sleep(0.05)  # other calls arrive while the read is out
        return 10**18


def test_reserve__burst_of_calls_while_stale__one_chain_read() -> None:
    view = ReserveView()
    reserves = Reserves(view, {})  # type: ignore[arg-type]

    async def main() -> list[int]:
        return await asyncio.gather(*(reserves.reserve(PROJECT) for _ in range(16)))

    assert asyncio.run(main()) == [10**18] * 16
    assert view.reads == 1


def test_reserve__fresh_or_posted__read_again() -> None:
    view = ReserveView()
    reserves = Reserves(view, {})  # type: ignore[arg-type]

    async def main() -> None:
        await reserves.reserve(PROJECT)
        await reserves.reserve(PROJECT)  # cached
        await reserves.reserve(PROJECT, fresh=True)
        reserves.posted(PROJECT, 1)
        await reserves.reserve(PROJECT)

    asyncio.run(main())
    assert view.reads == 3
