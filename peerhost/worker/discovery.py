"""Gateways found on-chain: follow ``GatewayEndpoint`` announcements, serve the bonded ones.

Every ``interval`` seconds: read the new ``GatewayEndpoint`` events of the GatewayRegistry (in
ranges of at most ``_LOG_RANGE`` blocks), then work out the gateways to serve: those whose latest
URL is not empty, is a usable endpoint (:func:`peerhost.wire.endpoint.endpoint_problem`) and whose
bond is at least the minimum gateway bond. A feed is opened to each new one (its challenge must
name the announcing gateway), closed when a gateway drops out or replaced when its URL changes.
Gateways this worker is configured to serve are left to their configured feeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from peerhost.chain.errors import ChainUnavailable, RpcError, TransactionReverted
from peerhost.chain.settlement import SettlementView
from peerhost.wire.endpoint import endpoint_problem
from peerhost.worker import logs
from peerhost.worker.feed import FeedClient, feed_url

#: Blocks per ``eth_getLogs`` call.
_LOG_RANGE = 10_000

FeedFactory = Callable[[str, str], FeedClient]


class GatewayDiscovery:
    """Keeps one feed open per bonded gateway announced on-chain.

    Args:
        view: Reads the GatewayRegistry.
        open_feed: Builds the feed to ``(url, gateway address)``.
        configured: The feeds of the configured gateways (not duplicated).
        interval: Seconds between checks.
        start_block: First block whose announcements count.
    """

    def __init__(
        self,
        view: SettlementView,
        open_feed: FeedFactory,
        configured: list[FeedClient],
        interval: float = 5.0,
        start_block: int = 0,
    ) -> None:
        self.view = view
        self.open_feed = open_feed
        self.configured = configured
        self.interval = interval
        self._next_block = start_block
        self.announced: dict[str, str] = {}  # gateway (lower case) -> latest URL
        self.feeds: dict[str, FeedClient] = {}  # gateway (lower case) -> its feed
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._skipped: dict[str, str] = {}  # gateway -> the reason last logged
        self._stopping = False

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self.poll()
            except (ChainUnavailable, RpcError, TransactionReverted, OSError) as exc:
                logs.event("discovery_failed", logging.WARNING, error=str(exc))
            except Exception as exc:  # a bug here must not stop the configured feeds
                logs.event("discovery_failed", logging.ERROR, error=repr(exc))
            await asyncio.sleep(self.interval)

    async def poll(self) -> None:
        """Reads new announcements and bonds, then opens and closes feeds to match."""
        head = await self.view.block_number()
        while self._next_block <= head:
            to = min(head, self._next_block + _LOG_RANGE - 1)
            for _, args in await self.view.logs(
                "GatewayEndpoint", self._next_block, to, contract="gateways"
            ):
                self.announced[str(args["gateway"]).lower()] = str(args["url"])
            self._next_block = to + 1
        await self._reconcile(await self._wanted())

    async def _wanted(self) -> dict[str, str]:
        minimum = int((await self.view.params())["minGatewayBond"])
        configured_urls = {f.url for f in self.configured}
        configured_gateways = {f.gateway.lower() for f in self.configured if f.gateway}
        wanted: dict[str, str] = {}
        for gateway, url in self.announced.items():
            if not url:
                self._skip(gateway, url, "the gateway withdrew its URL")
                continue
            problem = endpoint_problem(url)
            if problem is not None:
                self._skip(gateway, url, f"bad URL: {problem}")
                continue
            bond = await self.view.bond_of(gateway)
            if bond == 0 or bond < minimum:
                self._skip(gateway, url, f"bond {bond} wei is below the minimum {minimum} wei")
                continue
            if feed_url(url) in configured_urls or gateway in configured_gateways:
                continue  # served by a configured feed
            self._skipped.pop(gateway, None)
            wanted[gateway] = url.rstrip("/")
        return wanted

    def _skip(self, gateway: str, url: str, reason: str) -> None:
        if self._skipped.get(gateway) != reason:
            self._skipped[gateway] = reason
            logs.event("gateway_skipped", logging.WARNING, gateway=gateway, url=url, reason=reason)

    async def _reconcile(self, wanted: dict[str, str]) -> None:
        for gateway, feed in list(self.feeds.items()):
            if wanted.get(gateway) != feed.base_url:
                why = (
                    self._skipped.get(gateway, "dropped")
                    if gateway not in wanted
                    else "URL changed"
                )
                await self._close(gateway, why)
        for gateway, url in wanted.items():
            if gateway not in self.feeds and not self._stopping:
                feed = self.open_feed(url, gateway)
                self.feeds[gateway] = feed
                self._tasks[gateway] = asyncio.create_task(feed.run(), name=f"feed {feed.url}")
                logs.event("gateway_discovered", gateway=gateway, url=url)

    async def _close(self, gateway: str, why: str) -> None:
        feed = self.feeds.pop(gateway)
        task = self._tasks.pop(gateway)
        await feed.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        logs.event("gateway_feed_closed", gateway=gateway, url=feed.base_url, reason=why)

    async def stop(self) -> None:
        self._stopping = True
        for gateway in list(self.feeds):
            await self._close(gateway, "worker stopping")
