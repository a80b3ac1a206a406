"""Shared reads: one read per key and ``ttl``, concurrent misses sharing it, stale keys dropped."""

from __future__ import annotations

import asyncio

from peerhost.chain.reads import SharedReads


def test_get__concurrent_misses__one_read_shared() -> None:
    reads = SharedReads(60.0)
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.01)
        return 7

    async def main() -> list[int]:
        return list(await asyncio.gather(*(reads.get("k", load) for _ in range(5))))

    assert asyncio.run(main()) == [7] * 5
    assert loads == reads.reads == 1


def test_drop_stale__values_older_than_ttl__dropped_fresh_kept() -> None:
    reads = SharedReads(60.0)

    async def main() -> None:
        await reads.get("old", _value)
        await asyncio.sleep(1.0)
        await reads.get("new", _value)
        assert reads.kept == 2
        reads.ttl = 0.5  # "old" is a second old, "new" fresh (unless this stalled half a second)
        reads.drop_stale()
        assert reads.kept == 1
        await reads.get("new", _value)  # still kept: not read again
        assert reads.reads == 2

    asyncio.run(main())


async def _value() -> str:
    return "v"
