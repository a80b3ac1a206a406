"""Gateway discovery: which announced gateways a worker opens feeds to, and when it drops them.

The registry here is an in-memory stand-in for the GatewayRegistry reads the module makes; the
end-to-end test (tests/e2e/tickets/test_tickets_discovery.py) runs it against the real chain.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from peerhost.worker.discovery import GatewayDiscovery
from peerhost.worker.feed import FeedClient

MIN_BOND = 10
GOOD = "0x" + "aa" * 20
OTHER = "0x" + "bb" * 20


class Registry:
    """Announcements and bonds, read the way :class:`SettlementView` reads them (no reorgs here:
    tests/contracts/settlement/test_discovery_reorg.py reorganizes a real chain)."""

    def __init__(self) -> None:
        self.announcements: list[tuple[int, str, str]] = []  # (block, gateway, url)
        self.bond_events: list[tuple[int, str]] = []  # (block, gateway): GatewayBonded and kin
        self.bonds: dict[str, int] = {}
        self.head = 0
        self.reads = 0  # chain reads made (heads, hashes, logs, endpoints, bonds)

    def announce(self, gateway: str, url: str, bond: int = MIN_BOND) -> None:
        self.head += 1
        self.announcements.append((self.head, gateway, url))
        self.set_bond(gateway, bond, block=self.head)

    def set_bond(self, gateway: str, bond: int, block: int | None = None) -> None:
        if block is None:
            self.head += 1
        if self.bonds.get(gateway) != bond:
            self.bond_events.append((block or self.head, gateway))
        self.bonds[gateway] = bond

    def mine(self) -> None:
        """A block that names no gateway."""
        self.head += 1

    async def head_link(self) -> tuple[int, str, str, int]:
        self.reads += 1
        return self.head, f"0x{self.head:064x}", f"0x{self.head - 1:064x}", 0

    async def block_hash(self, number: int) -> str | None:
        self.reads += 1
        return f"0x{number:064x}" if number <= self.head else None

    async def events(
        self,
        contract: str,
        names: tuple[str, ...],
        *,
        first: int = 0,
        last: int = 0,
        block_hash: str = "",
    ) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        assert contract == "gateways" and "GatewayEndpoint" in names and "BondWithdrawn" in names
        self.reads += 1
        if block_hash:
            first = last = int(block_hash, 16)
        out: list[tuple[int, str, dict[str, Any], dict[str, Any]]] = [
            (block, "GatewayEndpoint", {}, {"gateway": g, "url": u})
            for block, g, u in self.announcements
            if first <= block <= last
        ]
        out += [
            (block, "GatewayBonded", {}, {"gateway": g})
            for block, g in self.bond_events
            if first <= block <= last
        ]
        return [(name, raw, args) for _, name, raw, args in sorted(out, key=lambda e: e[0])]

    async def endpoint_of(self, gateway: str, block: int) -> str:
        self.reads += 1
        urls = [u for b, g, u in self.announcements if g == gateway and b <= block]
        return urls[-1] if urls else ""

    async def params(self) -> dict[str, Any]:
        return {"minGatewayBond": MIN_BOND}

    async def bond_of_at(self, gateway: str, block: int) -> int:
        self.reads += 1
        return self.bonds.get(gateway, 0)


async def _noop(*_: Any) -> Any:
    raise AssertionError("no offer expected")


def discovery(registry: Registry, configured: list[FeedClient] | None = None) -> GatewayDiscovery:
    def open_feed(url: str, gateway: str) -> FeedClient:
        return FeedClient(url, "0x" + "cc" * 20, b"\x01" * 32, _noop, expect_gateway=gateway)

    return GatewayDiscovery(registry, open_feed, configured or [], interval=0.1)  # type: ignore[arg-type]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_poll__bonded_gateway_announced__opens_its_feed() -> None:
    registry = Registry()
    registry.announce(GOOD, "http://127.0.0.1:1/")

    async def main() -> dict[str, str]:
        d = discovery(registry)
        await d.poll()
        urls = {g: f.url for g, f in d.feeds.items()}
        await d.stop()
        return urls

    assert run(main()) == {GOOD: "ws://127.0.0.1:1/_feed"}


def test_poll__no_new_block__reads_the_head_once_and_nothing_else() -> None:
    registry = Registry()
    registry.announce(GOOD, "http://127.0.0.1:1/")
    registry.announce(OTHER, "http://127.0.0.1:2/")

    async def main() -> list[int]:
        d = discovery(registry)
        reads = []
        for _ in range(3):
            before = registry.reads
            await d.poll()
            reads.append(registry.reads - before)
        registry.announce(OTHER, "http://127.0.0.1:3/")  # a new block: read again
        before = registry.reads
        await d.poll()
        reads.append(registry.reads - before)
        assert d.feeds[OTHER].url == "ws://127.0.0.1:3/_feed"
        registry.mine()  # a block that names no gateway: its events, no URL or bond
        before = registry.reads
        await d.poll()
        reads.append(registry.reads - before)
        await d.stop()
        return reads

    first, idle, idle_again, new_block, quiet_block = run(main())
    assert idle == idle_again == 1  # the head, seen unchanged
    # the head, logs, the settled block's hash after them, each gateway's URL and bond; after a
    # new block the head and that block's events by its hash (its parent was the last read), then
    # each gateway's URL and bond, as an event named one (before: 4 + 2 * 2)
    assert first == 3 + 2 * 2 and new_block == 2 + 2 * 2
    assert quiet_block == 2  # (before: 4 + 2 * 2, every block)


def test_poll__unbonded_or_bad_url__skipped_with_reason(caplog: pytest.LogCaptureFixture) -> None:
    registry = Registry()
    registry.announce(GOOD, "http://127.0.0.1:1", bond=MIN_BOND - 1)
    registry.announce(OTHER, "ftp://127.0.0.1:1")

    async def main() -> list[str]:
        d = discovery(registry)
        with caplog.at_level(logging.WARNING):
            await d.poll()
            await d.poll()  # a reason is logged once, not every poll
        opened = list(d.feeds)
        await d.stop()
        return opened

    assert run(main()) == []
    skipped = [r for r in caplog.records if r.getMessage() == "gateway_skipped"]
    reasons = sorted(r.fields["reason"] for r in skipped)  # type: ignore[attr-defined]
    assert len(reasons) == 2
    assert "below the minimum" in reasons[1] and "scheme" in reasons[0]


def test_poll__bond_gone_or_url_withdrawn__closes_the_feed() -> None:
    registry = Registry()
    registry.announce(GOOD, "http://127.0.0.1:1")
    registry.announce(OTHER, "http://127.0.0.1:2")

    async def main() -> list[list[str]]:
        d = discovery(registry)
        await d.poll()
        seen = [sorted(d.feeds)]
        registry.set_bond(GOOD, 0)  # bond withdrawn
        registry.announce(OTHER, "")  # URL withdrawn
        await d.poll()
        seen.append(sorted(d.feeds))
        await d.stop()
        return seen

    assert run(main()) == [[GOOD, OTHER], []]


def test_poll__url_changed__feed_replaced() -> None:
    registry = Registry()
    registry.announce(GOOD, "http://127.0.0.1:1")

    async def main() -> str:
        d = discovery(registry)
        await d.poll()
        registry.announce(GOOD, "http://127.0.0.1:3")
        await d.poll()
        url = d.feeds[GOOD].url
        await d.stop()
        return url

    assert run(main()) == "ws://127.0.0.1:3/_feed"


def test_poll__gateway_already_configured__no_second_feed() -> None:
    registry = Registry()
    registry.announce(GOOD, "http://127.0.0.1:1")
    configured = FeedClient("http://127.0.0.1:1", "0x" + "cc" * 20, b"\x01" * 32, _noop)

    async def main() -> list[str]:
        d = discovery(registry, [configured])
        await d.poll()
        opened = list(d.feeds)
        await d.stop()
        return opened

    assert run(main()) == []
