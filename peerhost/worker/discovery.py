"""Gateways found on-chain: follow ``GatewayEndpoint`` announcements, serve the bonded ones.

Every ``interval`` seconds: read the GatewayRegistry's events that change what a worker serves
(``GatewayEndpoint`` and the bond's: :data:`_WATCHED`) up to the *settled head* (the head less
``confirmations`` blocks; in ranges of at most ``_LOG_RANGE`` blocks, or by the block's hash when
it is the one block after the last read): the announcements name the gateways that ever announced.
Then, when an event named one of them (or after a reorg, or ``_RESTATE`` seconds after the last
time), as of the settled head, read each one's URL (``endpointOf``) and bond, and serve those
whose URL is not empty, is a usable endpoint (:func:`peerhost.wire.endpoint.endpoint_problem`) and
whose bond is at least the minimum gateway bond. A feed is opened to each new one (its challenge
must name the announcing gateway), closed when a gateway drops out or replaced when its URL
changes. Gateways this worker is configured to serve are left to their configured feeds. A block
that names no gateway costs two calls: the head (with its parent's hash) and its events; one when
the process's head watcher holds the head (pushed by the node), and the blocks of a range need no
header read when the watcher saw them all pushed, linked by their parent hashes.

Reorgs: the URL served is always the registry's state at the settled head, never a remembered
event, so a reorg that removes or changes an announcement is followed at the next poll. Each poll
also remembers the hash of the block it read up to; when that block's hash changes (or the block
is gone), the worker walks back through the hashes it remembers to the newest block still on the
chain and reads the events again from there, so an announcement that exists only on the new
branch, below blocks already read, is found too. A read that straddles a reorg (the settled
block's hash differs before and after the ``eth_getLogs``) is dropped and done again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable

from peerhost.chain.errors import ChainUnavailable, RpcError, TransactionReverted
from peerhost.chain.heads import HeadWatcher
from peerhost.chain.settlement import SettlementView
from peerhost.wire.endpoint import endpoint_problem
from peerhost.worker import logs
from peerhost.worker.feed import FeedClient, feed_url

#: Blocks per ``eth_getLogs`` call.
_LOG_RANGE = 10_000
#: Block hashes remembered to find where a reorg forked (a deeper one: read again from the start).
_CHECKPOINTS = 64
#: The registry's events that change a gateway's URL or bond (``Drawn``: when it takes from it).
_WATCHED = (
    "GatewayEndpoint",
    "GatewayBonded",
    "BondWithdrawalRequested",
    "BondWithdrawn",
    "BondCharged",
    "Drawn",
)
#: Seconds after which the gateways' URLs and bonds are read again though no event named them.
_RESTATE = 60.0

FeedFactory = Callable[[str, str], FeedClient]


class GatewayDiscovery:
    """Keeps one feed open per bonded gateway announced on-chain.

    Args:
        view: Reads the GatewayRegistry.
        open_feed: Builds the feed to ``(url, gateway address)``.
        configured: The feeds of the configured gateways (not duplicated).
        interval: Seconds between checks.
        start_block: First block whose announcements count.
        confirmations: Blocks an announcement must be buried under before it counts.
        heads: The process's head watcher: the head of each poll is the one it holds (no call
            while the node pushes heads; None: read with one call per poll).
    """

    def __init__(
        self,
        view: SettlementView,
        open_feed: FeedFactory,
        configured: list[FeedClient],
        interval: float = 5.0,
        start_block: int = 0,
        confirmations: int = 0,
        heads: HeadWatcher | None = None,
    ) -> None:
        self.view = view
        self.heads = heads
        self.open_feed = open_feed
        self.configured = configured
        self.interval = interval
        self.confirmations = confirmations
        self._start_block = start_block
        self._next_block = start_block
        self._checkpoints: deque[tuple[int, str]] = deque(maxlen=_CHECKPOINTS)
        self.candidates: set[str] = set()  # gateways (lower case) that announced at some point
        self.announced: dict[str, str] = {}  # gateway -> its URL as of the settled head
        self.feeds: dict[str, FeedClient] = {}  # gateway (lower case) -> its feed
        self.reorgs = 0
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._skipped: dict[str, str] = {}  # gateway -> the reason last logged
        self._stopping = False
        self._polled: tuple[int, str] | None = None  # the head of the last complete poll
        self._dirty = True  # an event (or a reorg) may have changed a gateway's URL or bond
        self._stated_at = float("-inf")  # monotonic time the URLs and bonds were last read

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
        """Follows a reorg, reads new announcements, then opens and closes feeds to match.

        One read of the head per poll: when it is the head the last complete poll saw (same
        number and hash: nothing mined, no reorg), the registry's state at the settled head is
        what that poll read, and nothing else is read; when no event of the new blocks named a
        gateway, nor is the state ``_RESTATE`` seconds old, only the events are read."""
        if self.heads is not None:
            block = await self.heads.latest()
            number, block_hash, parent = block.number, block.hash, block.parent
        else:
            number, block_hash, parent, _ = await self.view.head_link()
        head = (number, block_hash)
        if head == self._polled:
            return
        await self._follow_reorg(head, parent)
        settled = head[0] - self.confirmations
        if settled < self._start_block:
            return
        if settled >= self._next_block and not await self._scan(settled, head, parent):
            return  # the chain reorganized under the read: the next poll reads again
        if self._dirty or time.monotonic() - self._stated_at > _RESTATE:
            at = self._next_block - 1
            self.announced = {
                g: await self.view.endpoint_of(g, at) for g in sorted(self.candidates)
            }
            await self._reconcile(await self._wanted(at))
            self._dirty, self._stated_at = False, time.monotonic()
        self._polled = head

    async def _scan(self, settled: int, head: tuple[int, str], parent: str) -> bool:
        """Reads the watched events up to ``settled``; False when its hash changed meanwhile.
        The one block after the last read (its parent) is read by its hash: exactly its events,
        no check after."""
        found: set[str] = set()
        if (
            settled == head[0] == self._next_block
            and self._checkpoints
            and self._checkpoints[-1] == (settled - 1, parent)
        ):
            events = await self.view.events("gateways", _WATCHED, block_hash=head[1])
            after: str | None = head[1]
        else:
            chain = self._linked(self._next_block, head)
            if settled == head[0]:
                before: str | None = head[1]
            elif chain is not None:
                before = chain[settled]
            else:
                before = await self.view.block_hash(settled)
            events = []
            first = self._next_block
            while first <= settled:
                to = min(settled, first + _LOG_RANGE - 1)
                events += await self.view.events("gateways", _WATCHED, first=first, last=to)
                first = to + 1
            # the events are of the blocks the head watcher saw linked (a reorg during the read
            # that left none of them changed nothing watched here; the next poll follows it)
            if chain is not None and all(
                chain.get(int(str(raw["blockNumber"]), 16)) == raw.get("blockHash")
                for _, raw, _ in events
            ):
                after = before
            else:
                after = await self.view.block_hash(settled)
            if before is None or before != after:
                return False
        assert after is not None
        for name, _, args in events:
            gateway = str(args["gateway"]).lower()
            if name == "GatewayEndpoint":
                found.add(gateway)
                self._dirty = True
            elif gateway in self.candidates and (name != "Drawn" or int(args["fromBond"]) > 0):
                self._dirty = True  # a served gateway's bond changed
        self.candidates |= found
        self._next_block = settled + 1
        self._checkpoints.append((settled, after))
        return True

    def _linked(self, first: int, head: tuple[int, str]) -> dict[int, str] | None:
        """The hashes of blocks ``first`` to the head (number -> hash) when the process's head
        watcher saw them pushed, each the parent of the next: one chain, known without a call
        (:meth:`peerhost.chain.heads.HeadWatcher.linked`); None otherwise."""
        if self.heads is None or first > head[0]:
            return None
        block = self.heads.recent.get(head[0])
        if block is None or block.hash != head[1]:
            return None
        return self.heads.linked(first, block)

    async def _follow_reorg(self, head: tuple[int, str], parent: str) -> None:
        """Rewinds the read position to the newest remembered block still on the chain."""
        if not self._checkpoints:
            return
        number, known = self._checkpoints[-1]
        if number == head[0]:
            still = head[1] == known
        elif number == head[0] - 1:
            still = parent == known
        else:
            chain = self._linked(number, head)
            still = (chain is not None and chain[number] == known) or (
                await self.view.block_hash(number) == known
            )
        if still:
            return
        self._checkpoints.pop()
        while self._checkpoints:
            number, known = self._checkpoints[-1]
            if await self.view.block_hash(number) == known:
                break
            self._checkpoints.pop()
        was = self._next_block
        self._next_block = self._checkpoints[-1][0] + 1 if self._checkpoints else self._start_block
        self._dirty = True  # what the lost blocks held may be gone: read the state again
        self.reorgs += 1
        logs.event(
            "discovery_reorg",
            logging.WARNING,
            read_up_to=was - 1,
            reading_again_from=self._next_block,
        )

    async def _wanted(self, at: int) -> dict[str, str]:
        minimum = int((await self.view.params())["minGatewayBond"])
        configured_urls = {f.url for f in self.configured}
        configured_gateways = {f.gateway.lower() for f in self.configured if f.gateway}
        wanted: dict[str, str] = {}
        for gateway, url in self.announced.items():
            if not url:
                self._skip(
                    gateway,
                    url,
                    "no URL announced (withdrawn, or its announcement was reorged away)",
                )
                continue
            problem = endpoint_problem(url)
            if problem is not None:
                self._skip(gateway, url, f"bad URL: {problem}")
                continue
            bond = await self.view.bond_of_at(gateway, at)
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
