"""Feeds the chain's logs to the gateway: finalizations to waiters, changes to the caches.

One :class:`~peerhost.chain.logs.LogFollower` (WebSocket subscription, backfill, reconnect)
follows the three contracts from the block the gateway started at. Only the events below are
decoded; the rest (commits, reveals, rewards) are skipped by topic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from hexbytes import HexBytes

from peerhost.chain.logs import LogFollower
from peerhost.gateway.chainview import GatewayProtocol
from peerhost.gateway.functions import FunctionCache
from peerhost.gateway.payment import PaymentPolicy
from peerhost.gateway.waiters import Waiters
from peerhost.gateway.workers import ActiveWorkers

log = logging.getLogger(__name__)

_REGISTRY = ("FunctionPublished", "ActiveVersionChanged", "FunctionDisabledSet")
_WORKERS = (
    "WorkerRegistered",
    "StakeAdded",
    "UnbondingRequested",
    "StakeWithdrawn",
    "StakeSlashed",
)
_PROJECTS = (
    "ProjectFunded",
    "ProjectPriceSet",
    "ProjectBalanceWithdrawn",
    "GatewayAuthorizationSet",
)
_REQUESTS = ("RequestFinalized", "RequestRefunded")


class EventRouter:
    """Dispatches one raw log to whoever cares about it."""

    def __init__(
        self,
        protocol: GatewayProtocol,
        waiters: Waiters,
        functions: FunctionCache,
        workers: ActiveWorkers,
        payment: PaymentPolicy,
        observed: Callable[[bytes, bytes], None],
        gateway: str,
    ) -> None:
        self.protocol = protocol
        self.waiters = waiters
        self.functions = functions
        self.workers = workers
        self.payment = payment
        self.observed = observed
        self.gateway = gateway.lower()
        self._topics: dict[bytes, str] = {}
        for codec, names in (
            (protocol.registry, _REGISTRY),
            (protocol.workers, _WORKERS),
            (protocol.coordinator, _PROJECTS + _REQUESTS + ("ExecutionRequested",)),
        ):
            for name in names:
                self._topics[codec.event_topic(name)] = name
        self.handled = 0

    def handle(self, entry: dict[str, Any]) -> None:
        topics = entry.get("topics") or []
        if not topics:
            return
        name = self._topics.get(bytes(HexBytes(topics[0])))
        if name is None:
            return
        self.handled += 1
        if name == "ExecutionRequested":
            # topics: requestId, functionId, requester; the job itself is not needed here.
            requester = "0x" + bytes(HexBytes(topics[3]))[-20:].hex()
            if requester == self.gateway:
                self.observed(bytes(HexBytes(entry["transactionHash"])), bytes(HexBytes(topics[1])))
            return
        decoded = self.protocol.decode_log(entry)
        if decoded is None:
            return
        _, args = decoded
        if name in _REGISTRY:
            self.functions.invalidate(bytes(args["functionId"]))
        elif name in _WORKERS:
            self.workers.invalidate(str(args["worker"]))
        elif name in _PROJECTS:
            self.payment.invalidate(bytes(args["projectId"]))
        elif name == "RequestFinalized":
            waiter = self.waiters.get(bytes(args["requestId"]))
            if waiter is not None:
                waiter.finalize(bytes(args["resultHash"]), str(args["fastest"]))
        elif name == "RequestRefunded":
            waiter = self.waiters.get(bytes(args["requestId"]))
            if waiter is not None:
                waiter.refunded()


async def follow(follower: LogFollower, router: EventRouter) -> None:
    """Runs until cancelled; the follower reconnects by itself when the node goes away."""
    while True:
        try:
            async for entry in follower.stream():
                try:
                    router.handle(entry)
                except Exception:
                    log.exception("could not handle log %s", entry.get("transactionHash"))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("log follower stopped; restarting")
            await asyncio.sleep(1.0)
