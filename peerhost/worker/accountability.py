"""A seat's duties once its batch finalized: punish the seats that contradicted a final leaf.

Tier-1 seats that revealed a value other than a leaf's final one are slashed only by the
DisputeCourt, after the leaf's challenge window (so a captured committee cannot slash an honest
minority before it can challenge). For each Final leaf of a batch this worker sat on:

- **Punish.** When some seat revealed another (non-abstaining) value and this worker agreed with
  the final one, it waits for the window to pass and calls ``punish`` (anyone may; the agreeing
  seats are paid from the slash, so the first agreeing seat that gets there does it, and the
  others see the case closed and stop).

A leaf that is not Final (disputed, refunded, unaudited) is left to the courts' other paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from peerhost.chain.courts import CASE_NONE, CourtsView
from peerhost.chain.errors import TransactionReverted
from peerhost.chain.settlement import SettlementView
from peerhost.wire.batch import ABSTAIN

log = logging.getLogger(__name__)

# ISettlementCoordinator.BatchState
_FINALIZED, _CLOSED = 3, 4


class Accountability:
    """Punishes the seats that contradicted the final leaves of this worker's batches.

    Args:
        view: Settlement contracts, with this worker's sender.
        address: This worker.
        poll: Seconds between checks while waiting on the chain.
    """

    def __init__(self, view: SettlementView, address: str, *, poll: float = 0.25) -> None:
        self.view = view
        self.address = address
        self.poll = poll
        self._courts: CourtsView | None = None
        self.punished = 0

    async def courts(self) -> CourtsView:
        if self._courts is None:
            self._courts = await CourtsView.load(self.view)
        return self._courts

    async def after_finalized(
        self, batch_id: int, own_vector: list[bytes], vectors: dict[bytes, list[bytes]]
    ) -> None:
        """This worker's duties on a finalized batch it sat on (module docstring).

        Args:
            batch_id: The batch.
            own_vector: The vector this worker revealed.
            vectors: Every distinct vector revealed, by vector hash.
        """
        batch = await self.view.get_batch(batch_id)
        if int(batch["state"]) not in (_FINALIZED, _CLOSED):
            return
        final = await self.final_values(batch_id, vectors)
        to_punish = []
        for index, value in final.items():
            contradicted = {v[index] for v in vectors.values()} - {ABSTAIN, value}
            if contradicted and own_vector[index] == value:
                to_punish.append(index)
        if not to_punish:
            return
        courts = await self.courts()
        window = int((await courts.params())["challengeWindow"])
        ends = int(batch["finalizedAt"]) + window
        await asyncio.sleep(max(0.0, ends - time.time() + 1.0))
        for index in to_punish:
            await self.punish(batch_id, index, list(vectors.values()), ends)

    async def final_values(
        self, batch_id: int, vectors: dict[bytes, list[bytes]]
    ) -> dict[int, bytes]:
        """Leaf index -> final value, for every Final leaf of ``batch_id`` (Q agreeing seats)."""
        batch = await self.view.get_batch(batch_id)
        quorum = int((await self.view.params())["quorum"])
        holders, seats = await self.view.holders_of(batch_id)
        weight: dict[bytes, int] = {}
        for holder, count in zip(holders, seats, strict=True):
            vote = bytes(await self.view.vote_of(batch_id, holder))
            weight[vote] = weight.get(vote, 0) + count
        out: dict[int, bytes] = {}
        final_mask = int(batch["finalMask"])
        for index in range(int(batch["leafCount"])):
            if not final_mask >> index & 1:
                continue
            tally: dict[bytes, int] = {}
            for vhash, vector in vectors.items():
                if vector[index] != ABSTAIN:
                    tally[vector[index]] = tally.get(vector[index], 0) + weight.get(vhash, 0)
            agreed = [v for v, w in tally.items() if w >= quorum]
            if agreed:
                out[index] = agreed[0]
        return out

    async def punish(
        self, batch_id: int, index: int, vectors: list[list[bytes]], window_ends: int
    ) -> None:
        """Closes an unchallenged Final leaf as a tier-1 case once its window passed."""
        courts = await self.courts()
        while True:
            if await courts.case_phase(batch_id, index) != CASE_NONE:
                return  # punished by another seat, or challenged
            try:
                await courts.send("dispute", "punish", batch_id, index, vectors)
            except TransactionReverted as exc:
                if "ChallengeWindowOpen" in exc.reason and time.time() < window_ends + 30:
                    await asyncio.sleep(self.poll)
                    continue
                log.info("accountability: punish %d/%d: %s", batch_id, index, exc.reason)
                return
            self.punished += 1
            log.info(
                "accountability: batch %d leaf %d: contradicting seats punished", batch_id, index
            )
            return

    async def withdraw(self) -> None:
        """Pulls this worker's credits in the courts (winners' shares, bonds back, bounties)."""
        try:
            courts = await self.courts()
        except ValueError:
            return  # a deployment without the accountability courts
        dispute, evidence = await courts.pending_withdrawal(self.address)
        for contract, amount in (("dispute", dispute), ("evidence", evidence)):
            if amount > 0:
                with contextlib.suppress(TransactionReverted):
                    await courts.send(contract, "withdraw")
