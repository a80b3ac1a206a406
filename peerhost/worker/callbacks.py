"""Relaying contracts' results: a worker that ran a consumer contract's single request as a
committee seat delivers the settled envelope to the consumer through its router.

Each seat remembers the envelope it committed for a single request (none when it abstained).
Every tick, for each remembered request still ``Pending`` on its router: once the router would
accept ``fulfill(requestId, envelope, holders)`` — the leaf is Final with a quorum for this envelope and its
challenge window passed, or a court case closed on it — the worker sends it; when the leaf was
refunded (expired, every seat abstained) it sends ``reportNoResult``. Both are estimated first, so a
seat whose envelope lost, or a request another seat already delivered, costs nothing; the first
relayer wins and the others see the request is no longer pending. Settlement never waits for this.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from peerhost.chain.consumers import PENDING, RouterView, SingleRequest
from peerhost.chain.errors import ChainUnavailable, RpcError, TransactionReverted
from peerhost.chain.settlement import SettlementView
from peerhost.worker.duties import chain_clock

log = logging.getLogger(__name__)

#: ISettlementCoordinator.LeafState.Refunded
_REFUNDED = 4


@dataclass
class _Relay:
    single: SingleRequest
    envelope: bytes | None
    since: float


class CallbackRelay:
    """Delivers the results of single requests this worker served (module docstring).

    Args:
        view: Settlement contracts, with this worker's sender.
        give_up: Seconds after which a request nobody could deliver is forgotten.
        mine_blocks: Mine a block when the chain's clock lags (devnets that mine on transactions:
            a challenge window ends only in a block).
    """

    def __init__(
        self, view: SettlementView, *, give_up: float = 3600.0, mine_blocks: bool = False
    ) -> None:
        self.view = view
        self.give_up = give_up
        self.mine_blocks = mine_blocks
        self._pending: dict[int, _Relay] = {}
        self.delivered = 0
        self.reported = 0

    def remember(self, single: SingleRequest, envelope: bytes | None) -> None:
        """Records what this seat committed for ``single`` (None: it abstained)."""
        current = self._pending.get(single.batch_id)
        if current is None or current.envelope is None:
            self._pending[single.batch_id] = _Relay(single, envelope, time.monotonic())

    @property
    def waiting(self) -> int:
        return len(self._pending)

    async def tick(self) -> None:
        """Tries every remembered request once."""
        if self._pending and self.mine_blocks:  # the chain's clock ran past its head's
            head, now = await chain_clock(self.view)
            if head < now - 1:
                await self.view.rpc.call("anvil_mine", ["0x1"])
        for batch_id, relay in list(self._pending.items()):
            try:
                done = await self._try(relay)
            except (ChainUnavailable, RpcError, TransactionReverted) as exc:
                log.info("callbacks: batch %d: %s", batch_id, exc)
                done = False
            if done or time.monotonic() - relay.since > self.give_up:
                self._pending.pop(batch_id, None)

    async def _try(self, relay: _Relay) -> bool:
        single = relay.single
        router = RouterView(self.view, single.router)
        if await router.status(single.request_id) != PENDING:
            return True  # delivered or reported by someone else
        if await self.view.leaf_state(single.batch_id, 0) == _REFUNDED:
            if await router.try_send("reportNoResult", single.request_id) is not None:
                self.reported += 1
                log.info("callbacks: reported no result for batch %d", single.batch_id)
            return False  # next tick sees the status (or retries)
        if relay.envelope is None:
            return False
        listed = await self.view.holder_list(single.batch_id)
        if await router.try_send("fulfill", single.request_id, relay.envelope, listed) is not None:
            self.delivered += 1
            log.info(
                "callbacks: delivered batch %d to %s via %s",
                single.batch_id,
                single.consumer,
                single.router,
            )
        return False
