"""A worker's accountability duties on the ticket path (DisputeCourt and EvidenceCourt).

**Per batch** this worker sat on or attested a ticket of, once the batch finalized:

- *Escalate.* A Disputed leaf (no value had Q seats) is taken to tier 2 by its seats.
- *Challenge.* A Final leaf whose value contradicts this worker's own (what it revealed as a seat,
  else what it attested) is challenged within the challenge window, bonding ``challengeBond``.
- *Punish.* After the window, a Final leaf some seat contradicted is closed by a seat that agreed
  (``punish``): the contradicting seats are slashed; the agreeing ones are paid nothing from it (a
  duty that costs this worker its gas: it keeps lying minorities costly).
- *Claim.* After the window, a seat claims its committee pay of the batch (``claimSeatPay``,
  sent with the claim; the pay is deferred past the window and pulled by each holder).
- *Present.* Once a leaf's result is settled, a seat presents every attestation of its ticket (as
  the gateway's status shows them) that contradicts the result (``slashAttestation``; the
  presenter's share of the slash is its bounty, the project gets the ticket's reward back).

**Per case** (every worker follows ``Escalated``): the tier-2 panel is drawn once its seed block
exists (``seatPanel``, with the block's header as proof); a panel seat (tier 2) or an active worker
(tier 3) re-executes the leaf, commits a salted vote and reveals it; anyone decides; a worker whose
result lost a tier-2 decision challenges it to tier 3 (twice the bond); anyone closes.

**Data availability**: a seat (or panel seat) that cannot get an input from the gateway, asked a
few times with backoff (:func:`fetch_input`), opens a data-availability challenge (``dataBond``) and waits: the gateway publishes the input (the seat
re-executes it) or, after ``dataWindow``, anyone voids the ticket (the seat abstains on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from peerhost.chain.courts import (
    CASE_NONE,
    CLOSABLE,
    CLOSED,
    COMMIT,
    DATA_NONE,
    DATA_OPEN,
    DATA_PUBLISHED,
    DATA_VOIDED,
    DECIDE,
    DECIDED,
    REVEAL,
    SEEDING,
    CourtsView,
    case_phase_at,
)
from peerhost.chain.errors import ChainUnavailable, RpcError, TransactionReverted
from peerhost.chain.headers import encode_header
from peerhost.chain.heads import HeadWatcher
from peerhost.chain.settlement import Reveals, SettlementView
from peerhost.errors import PeerHostError
from peerhost.wire.batch import ABSTAIN, Leaf, merkle_proof
from peerhost.wire.disputes import TIER_ALL, TIER_PANEL, vote_commitment
from peerhost.wire.feed import ticket_from_doc
from peerhost.wire.ticket import input_hash_of, request_id
from peerhost.worker.duties import (
    DutyLog,
    chain_clock,
    chain_lead,
    challenge_key,
    commit_margin,
    quiet_spell,
    vote_key,
)

PHASE_FINALIZED = 5  # ISettlementCoordinator.Phase

log = logging.getLogger(__name__)

#: Batches one ``claimSeatPay`` pays at most, and its gas limit: a base and a share per batch.
_CLAIM_MAX = 20
#: How many of the newest batches a worker checks for seat pay it is owed when it starts.
_SWEEP_BATCHES = 2_000
_CLAIM_GAS, _CLAIM_GAS_EACH = 80_000, 60_000  # a late holder of 16 reads 16 cold words (~45 k)

# ISettlementCoordinator.Phase / LeafState
_AWAITING, _COMMIT, _REVEAL, _SETTLE, _FINALIZED, _CLOSED, _EXPIRED = 1, 2, 3, 4, 5, 6, 7
#: Seconds between phase reads of a batch whose settlement log has not been seen.
_SETTLE_RECHECK = 5.0
#: seconds a case's record is trusted while the committee's log loop feeds its events (a missed
#: log costs at most this much delay)
_CASE_RECHECK = 10.0
#: The longest wait before a case's duty, stopped by a chain it could not reach (or any other
#: error), starts again (the waits double from ``poll``): well inside a tier's commit and reveal
#: windows.
_CASE_RETRY_MAX = 5.0
#: Stops of a case's duty in a row after which it ends once the case is closed (it starts again
#: meanwhile, as before).
_CASE_FAILURES = 20
#: A run of a case's duty this long before it stopped counts its stop as the first of a new
#: outage (the waits start again from ``poll``).
_CASE_RAN = 10.0
#: A tier's vote commitment refused this many times while this worker has not committed is given
#: up (a persistent refusal would otherwise send a reverted transaction at every block of the
#: commit window).
_COMMIT_TRIES = 3
#: The member index a tier-2 vote is committed with: the court reads it only for a tier-3 vote,
#: where no member has it. A panel vote mined after a challenge opened tier 3 is refused then;
#: with 0 it was taken as the tier-3 vote of the active set's first member (that worker: a
#: commitment its saved tier-2 vote cannot open, a no-show slashed 5 % of its stake).
PANEL_SEAT = 2**256 - 1


class _StaleRead(PeerHostError, RuntimeError):
    """A read of the panel that disagrees with the case's record read before it: the node
    answered from the state before the block that record came from (anvil can, for a moment
    after it mines a block)."""

    def __init__(self, read: int, recorded: int) -> None:
        super().__init__(
            f"the panel read holds {read} seat holder(s), the case's record {recorded}: a read "
            "of an older state; both read again"
        )


#: Asks for a ticket's input once (None: refused or unreachable).
InputFetch = Callable[[], Awaitable[bytes | None]]


async def fetch_input(
    fetch: InputFetch, input_hash: bytes, *, retries: int, backoff: float
) -> bytes | None:
    """Asks again for an input a gateway refused, before the seat challenges its availability.

    Up to ``retries`` more asks, ``backoff``, ``2 * backoff``, ... seconds apart, until the
    gateway answers with the bytes the leaf commits to: an honest gateway may refuse a seat for a
    moment (the seats read the batch on-chain, maybe before the gateway read its post's
    receipt), and a challenge costs the seat a bond and the gateway the gas of publishing. None
    when every ask was refused or answered with other bytes: the seat then challenges (a gateway
    that withholds is challenged all the same, ``retries`` asks later)."""
    for attempt in range(retries):
        await asyncio.sleep(backoff * 2**attempt)
        data = await fetch()
        if data is not None and input_hash_of(data) == input_hash:
            return data
    return None


#: (batch id) -> (gateway, leaves)
LeavesOf = Callable[[int], Awaitable[tuple[str, list[Leaf]]]]
#: (batch id, index) -> this worker's result hash for the leaf (ABSTAIN when it has none)
LeafResult = Callable[[int, int], Awaitable[bytes]]
#: (gateway, seq) -> the result hash this worker attested, if any
Attested = Callable[[str, int], bytes | None]
#: A worker strategy's challenge rule (:mod:`peerhost.worker.strategies`): (batch id, leaf index,
#: this worker's value, the standing value) -> challenge it? None: challenge what contradicts it.
ChallengeHook = Callable[[int, int, bytes, bytes], bool]
#: A worker strategy's presenting rule: attester address -> present its contradicted attestation
#: even when this worker is no seat of the batch, or is that attester. None: seats present others'.
PresentHook = Callable[[str], bool]
#: A worker strategy's tier-2/3 vote: (batch id, leaf index, request id, this worker's value, the
#: standing value) -> the value it commits. None: this worker's value.
TierVoteHook = Callable[[int, int, bytes, bytes, bytes], bytes]


class Accountability:
    """The court duties of one worker (module docstring).

    Args:
        view: Settlement contracts, with this worker's sender.
        address: This worker.
        leaves_of: A batch's gateway and leaves (from its post's calldata).
        leaf_result: Re-executes one leaf as this worker would vote on it.
        attested: What this worker attested for a ticket.
        gateway_urls: Gateway address (lower case) -> base URL.
        duties: Where vote salts are kept (a restarted worker still reveals).
        challenges: Challenge final leaves this worker contradicts (bonding ``challengeBond``).
        mine_blocks: Mine the blocks a panel's seed needs (devnets that mine on transactions).
        poll: Seconds between checks while waiting on the chain.
        challenge: A strategy's challenge rule, replacing ``challenges`` (None: the honest rule).
        present: A strategy's presenting rule, beside the honest one (None: seats present).
        tier_vote: A strategy's tier-2/3 vote (None: this worker's value).
        heads: The process's head watcher: a case's state is read again only once a new block
            came (the same block gives the same answer). None: one that polls every ``poll``.
        phase_of: A batch's phase (the committee's book derives it locally); None: ``phaseOf``.
        batch_of: A batch's record (the committee's book, read again only when an event named
            the batch); None: ``getBatch``.
    """

    def __init__(
        self,
        view: SettlementView,
        address: str,
        *,
        leaves_of: LeavesOf,
        leaf_result: LeafResult,
        attested: Attested,
        gateway_urls: Callable[[], dict[str, str]],
        duties: DutyLog,
        challenges: bool = True,
        mine_blocks: bool = False,
        poll: float = 0.25,
        challenge: ChallengeHook | None = None,
        present: PresentHook | None = None,
        tier_vote: TierVoteHook | None = None,
        heads: HeadWatcher | None = None,
        phase_of: Callable[[int], Awaitable[int]] | None = None,
        batch_of: Callable[[int], Awaitable[dict[str, Any]]] | None = None,
        claim_delay: float = 30.0,
    ) -> None:
        self.view = view
        self.claim_delay = claim_delay
        self._claimable: dict[int, int] = {}  # batch id -> its challenge window's end (unclaimed)
        self._claiming: asyncio.Lock | None = None
        self.claims = 0  # claim transactions sent
        self._heads = heads
        self._own_heads = False
        self._phase_of = phase_of
        self._batch_of = batch_of
        self.challenge_hook = challenge
        self.present_hook = present
        self.tier_vote_hook = tier_vote
        self.address = address
        self.leaves_of = leaves_of
        self.leaf_result = leaf_result
        self.attested = attested
        self.gateway_urls = gateway_urls
        self.duties = duties
        self.challenges = challenges
        self.mine_blocks = mine_blocks
        self.poll = poll
        #: the worker's clock a tier vote's cutoff is judged by, with the chain's lead on it
        #: (:func:`~peerhost.worker.duties.chain_lead`, as a seat's deadlines)
        self.clock: Callable[[], float] = time.time
        self.from_block = 0
        self.http = httpx.AsyncClient(timeout=10.0)
        self._courts: CourtsView | None = None
        self._cases: dict[tuple[int, int], asyncio.Task[None]] = {}
        #: set by a log loop that reads the court's case events (:meth:`case_changed`): a case's
        #: record is then read again only after one names it; else once per block
        self.case_events = False
        self._stale_cases: set[tuple[int, int]] = set()
        self._following: set[tuple[int, int]] = set()  # cases a duty drives now
        self._late: set[asyncio.Future[bytes]] = set()  # leaf runs past a vote's cutoff
        #: (batch, index) -> the case's seatPanel on its way (:meth:`_seat_panel`)
        self._seating: dict[tuple[int, int], asyncio.Task[None]] = {}
        #: per case this worker follows: its own result of the leaf, worked out once in the
        #: background (a sandbox run) while the duty reads the case at every block
        self._opinions: dict[tuple[int, int], asyncio.Future[bytes]] = {}
        self._opinion_failed: set[tuple[int, int]] = set()  # no challenge on a failed run
        self._refused: dict[str, int] = {}  # a tier's vote commitments refused, by vote key
        #: vote keys whose saved commitment was refused and is not seen on-chain: sent again
        #: with the same saved value and salt, so whichever copy lands, the saved salt opens it
        self._uncommitted: set[str] = set()
        self._given_up: set[str] = set()  # vote keys whose commitment was refused _COMMIT_TRIES
        self._sweeps: set[asyncio.Task[None]] = set()  # claims of pay owed from before a start
        self._settled: dict[int, asyncio.Event] = {}
        self.punished = 0
        self.challenged = 0
        self.presented = 0
        self.data_challenges = 0

    @property
    def heads(self) -> HeadWatcher:
        """The head watcher the cases follow (one polling every ``poll`` seconds when none was
        given or lent by :meth:`follow_heads`)."""
        if self._heads is None:
            self._heads = HeadWatcher(self.view.rpc, poll=self.poll)
            self._own_heads = True
        return self._heads

    def follow_heads(self, heads: HeadWatcher) -> None:
        """Follows ``heads`` (the committee's) unless a watcher is in use already."""
        if self._heads is None:
            self._heads = heads

    async def courts(self) -> CourtsView:
        if self._courts is None:
            self._courts = await CourtsView.load(self.view)
        return self._courts

    async def close(self) -> None:
        tasks: list[asyncio.Future[Any]] = [
            *self._cases.values(),
            *self._late,
            *self._sweeps,
            *self._opinions.values(),
        ]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.http.aclose()
        if self._own_heads and self._heads is not None:
            await self._heads.aclose()

    # ---- per batch ------------------------------------------------------------------------------

    async def on_batch(self, batch_id: int, own_vector: list[bytes] | None) -> None:
        """This worker's duties on ``batch_id`` once it finalized (module docstring).

        Args:
            batch_id: The batch.
            own_vector: The vector this worker revealed as a seat (None: no seat).
        """
        gateway, leaves = await self.leaves_of(batch_id)
        opinions = {
            i: r for i, leaf in enumerate(leaves) if (r := self.attested(gateway, leaf.seq))
        }
        if own_vector is not None:
            opinions.update({i: v for i, v in enumerate(own_vector) if v != ABSTAIN})
        if own_vector is None and not opinions:
            return  # (a presenting strategy presents only what it attested: its own lies)
        batch = await self._await_finalized(batch_id)
        if batch is None:
            return
        reveals = await self.view.reveals(batch_id, self.from_block)
        vectors = reveals.vectors
        final = await self.final_values(batch_id, reveals, batch)
        courts = await self.courts()
        if own_vector is not None:
            disputed = int(batch["disputedMask"])
            for index in range(len(leaves)):
                if disputed >> index & 1:
                    await self._try(
                        courts,
                        "dispute",
                        "escalate",
                        batch_id,
                        index,
                        list(vectors.values()),
                        await self.view.holder_list(batch_id),
                    )
        to_punish = []
        for index, value in final.items():
            mine = opinions.get(index)
            if mine is not None and self._challenges(batch_id, index, mine, value):
                await self.challenge(batch_id, index, list(vectors.values()))
            if mine is not None and mine != value:
                continue
            contradicted = {v[index] for v in vectors.values()} - {ABSTAIN, value}
            if own_vector is not None and own_vector[index] == value and contradicted:
                to_punish.append(index)
        if own_vector is None and self.present_hook is None:
            return
        window = int((await courts.params())["challengeWindow"])
        ends = int(batch["finalizedAt"]) + window
        await asyncio.sleep(max(0.0, ends - time.time() + 1.0))
        for index in to_punish:
            await self.punish(batch_id, index, list(vectors.values()), ends)
        full = await self.view.final_vector(batch_id, self.from_block)
        tickets = await self._batch_tickets(gateway, batch_id)
        for index, value in final.items():
            if any(
                a.get("result_hash") != "0x" + value.hex()
                for a in tickets.get(index, {}).get("attestations", [])
            ):
                await self.present(
                    batch_id,
                    index,
                    gateway,
                    leaves,
                    value,
                    full or [],
                    tickets,
                    seat=own_vector is not None,
                )
        if own_vector is not None:  # last: its wait for other batches delays nothing above
            await self.claim_seat_pay(batch_id, ends)

    def _challenges(self, batch_id: int, index: int, mine: bytes, standing: bytes) -> bool:
        """Whether this worker challenges a standing value (the strategy's rule, else the honest
        one: a value that contradicts this worker's own)."""
        if self.challenge_hook is not None:
            return self.challenge_hook(batch_id, index, mine, standing)
        return self.challenges and mine not in (ABSTAIN, standing)

    def _presents(self, worker: str, seat: bool) -> bool:
        """Whether this worker presents ``worker``'s contradicted attestation."""
        if self.present_hook is not None and self.present_hook(worker):
            return True
        return seat and worker.lower() != self.address.lower()

    def settled(self, batch_id: int) -> None:
        """The chain finalized (or expired) ``batch_id``: wakes its waiting duty, if one waits
        (one that starts later reads the phase first). An event made for every batch settled
        stayed in memory for ever when no duty waited for it."""
        event = self._settled.get(batch_id)
        if event is not None:
            event.set()

    async def _await_finalized(self, batch_id: int) -> dict[str, Any] | None:
        # woken by the committee's log poll (BatchFinalized, BatchExpired); the phase is read
        # again every few seconds in case a log was missed
        event = self._settled.setdefault(batch_id, asyncio.Event())
        try:
            while True:
                phase = await (self._phase_of or self.view.phase_of)(batch_id)
                if phase in (_FINALIZED, _CLOSED):
                    return await (self._batch_of or self.view.get_batch)(batch_id)
                if phase in (_EXPIRED, _AWAITING):  # Awaiting: a reorg dropped its seat draw
                    return None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), _SETTLE_RECHECK)
        finally:
            self._settled.pop(batch_id, None)

    async def final_values(
        self,
        batch_id: int,
        reveals: Reveals,
        batch: dict[str, Any] | None = None,
    ) -> dict[int, bytes]:
        """Leaf index -> final value, for every Final leaf of ``batch_id`` (Q agreeing seats);
        ``reveals``: its ``SeatRevealed`` logs' votes and vectors (the votes ``voteOf`` would
        give, with no call per holder); ``batch``: its record once finalized (read here when not
        given)."""
        if batch is None:
            batch = await self.view.get_batch(batch_id)
        quorum = int((await self.view.params())["quorum"])
        holders, seats = await self.view.holders_of(batch_id)
        weight = reveals.weights(holders, seats)
        vectors = reveals.vectors
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

    async def challenge(self, batch_id: int, index: int, vectors: list[list[bytes]]) -> bool:
        """Challenges a tier-1 Final leaf (tier 2, ``challengeBond``); True when this worker did."""
        courts = await self.courts()
        bond = int((await courts.params())["challengeBond"])
        try:
            listed = await self.view.holder_list(batch_id)
            await courts.send("dispute", "challenge", batch_id, index, vectors, listed, value=bond)
        except TransactionReverted as exc:
            log.info("accountability: challenge %d/%d: %s", batch_id, index, exc.reason)
            return False
        self.challenged += 1
        log.info("accountability: challenged batch %d leaf %d (tier 2)", batch_id, index)
        return True

    async def punish(
        self, batch_id: int, index: int, vectors: list[list[bytes]], window_ends: int
    ) -> None:
        """Closes an unchallenged Final leaf as a tier-1 case once its window passed."""
        courts = await self.courts()
        while True:
            if await courts.case_phase(batch_id, index) != CASE_NONE:
                return  # punished by another seat, or challenged
            try:
                listed = await self.view.holder_list(batch_id)
                await courts.send("dispute", "punish", batch_id, index, vectors, listed)
            except TransactionReverted as exc:
                if "ChallengeWindowOpen" in exc.reason and time.time() < window_ends + 30:
                    await asyncio.sleep(self.poll)
                    continue
                log.info("accountability: punish %d/%d: %s", batch_id, index, exc.reason)
                return
            self.punished += 1
            log.info(
                "accountability: batch %d leaf %d: contradicting seats punished", *(batch_id, index)
            )
            return

    # ---- attestations ---------------------------------------------------------------------------

    async def claim_seat_pay(self, batch_id: int, window_ends: int) -> None:
        """Claims this seat's committee pay of ``batch_id`` once its challenge window passed, with
        every other batch whose pay waits by then: the claim waits ``claim_delay`` seconds for
        others to join it, then one ``claimSeatPay`` pays them all (a claim costs ~47 k gas alone,
        ~24 k a batch with five; see bench/gas.py). A seat that earned nothing, or claimed
        already, sends nothing."""
        if await self.view.seat_pay_of(batch_id, self.address) == 0:
            return
        self._claimable[batch_id] = window_ends  # called once the window passed (on_batch)
        await asyncio.sleep(self.claim_delay)
        if self._claiming is None:
            self._claiming = asyncio.Lock()
        async with self._claiming:
            while batch_id in self._claimable:  # else it was claimed with another batch
                try:
                    if not await self._claim_due(batch_id):
                        return
                except (ChainUnavailable, RpcError, TimeoutError) as exc:
                    log.info("accountability: claim %d: %s; again in 5 s", batch_id, exc)
                    await asyncio.sleep(5.0)

    async def sweep_claims(self, last: int = _SWEEP_BATCHES) -> int:
        """Claims the seat pay this worker is owed by any of the ``last`` newest batches (a worker
        takes up the duties, claims included, only of batches posted in the last 1,000 blocks
        after a start: pay of older ones, or of a claim given up, would wait for a claim by
        hand). Each claim waits for its batch's window and goes with the others gathered;
        returns how many batches owed it pay."""
        count = await self.view.batch_count()
        window = int((await (await self.courts()).params())["challengeWindow"])
        owed = []
        for batch_id in range(max(1, count - last + 1), count + 1):
            if await self.view.seat_pay_of(batch_id, self.address) > 0:
                owed.append(batch_id)
        if owed:
            log.info("accountability: seat pay owed by batch(es) %s: claiming", owed)
        for batch_id in owed:
            ends = int((await self.view.get_batch(batch_id))["finalizedAt"]) + window
            task = asyncio.create_task(self._claim_after(batch_id, ends), name=f"claim {batch_id}")
            self._sweeps.add(task)
            task.add_done_callback(self._sweeps.discard)
        return len(owed)

    async def _claim_after(self, batch_id: int, ends: int) -> None:
        """Claims ``batch_id``'s pay once the chain's clock passed its window's end ``ends``."""
        now = await self.view.block_timestamp()
        if now < ends:
            await asyncio.sleep(ends - now + 1.0)
        await self.claim_seat_pay(batch_id, ends)

    async def _claim_due(self, batch_id: int) -> bool:
        """Sends one claim for the waiting batches (``batch_id`` first, at most ``_CLAIM_MAX``);
        False when ``batch_id`` is to be given up (logged). A claim another batch made fail is
        sent again for ``batch_id`` alone."""
        now = time.time()
        due = [batch_id] + sorted(b for b in self._claimable if b != batch_id)
        ids = []
        for b in due[:_CLAIM_MAX]:
            if await self.view.seat_pay_of(b, self.address) == 0:
                self._claimable.pop(b, None)  # claimed already (a restart) or withheld
            else:
                ids.append(b)
        if batch_id not in ids:
            return True  # nothing left of it: the loop ends
        while True:
            try:
                gas = _CLAIM_GAS + _CLAIM_GAS_EACH * len(ids)
                lists = [await self.view.holder_list(b) for b in ids]
                tx = await self.view.send("claimSeatPay", ids, lists, gas=gas)
                self.claims += 1
                await self.view.confirm(tx, "claimSeatPay")
            except TransactionReverted as exc:
                if "ChallengeWindowOpen" in exc.reason and now < self._claimable[batch_id] + 30:
                    await asyncio.sleep(self.poll)  # the chain's clock is behind this one's
                    return True
                log.info("accountability: claim %s: %s", ids, exc.reason)
                if len(ids) > 1:
                    ids = [batch_id]
                    continue
                self._claimable.pop(batch_id, None)
                return False
            break
        for b in ids:
            self._claimable.pop(b, None)
        log.info("accountability: seat pay claimed: batch(es) %s", ", ".join(map(str, ids)))
        return True

    async def present(
        self,
        batch_id: int,
        index: int,
        gateway: str,
        leaves: list[Leaf],
        tier1_value: bytes,
        final_vector: list[bytes],
        tickets: dict[int, dict[str, Any]] | None = None,
        *,
        seat: bool = True,
    ) -> None:
        """Presents the attestations of leaf ``index`` that contradict its settled result.

        ``tickets``: the batch's tickets and attestations by leaf index, as the gateway's
        ``/_status/batches/<id>`` lists them (read here when not given). ``seat``: this worker
        holds a seat of the batch (seats present every other attester's; a strategy's
        ``present`` hook may add attesters).
        """
        if tickets is None:
            tickets = await self._batch_tickets(gateway, batch_id)
        entry = tickets.get(index)
        if entry is None:
            return
        courts = await self.courts()
        await self._fresh_clock()
        done, value = await courts.settled_value(batch_id, index, tier1_value)
        if not done or value == ABSTAIN:
            return
        case = await courts.case_of(batch_id, index)
        vector = final_vector if int(case["state"]) == 0 else []
        leaf = leaves[index]
        try:
            ticket = ticket_from_doc(entry["ticket"])
        except Exception:
            return
        if Leaf.of(ticket) != leaf or ticket.gateway.lower() != gateway.lower():
            return  # not the posted leaf: the evidence would not verify
        proof = merkle_proof([x.hash() for x in leaves], index)
        for attestation in entry.get("attestations", []):
            worker = str(attestation.get("worker", ""))
            try:
                attested = bytes.fromhex(str(attestation["result_hash"]).removeprefix("0x"))
                signature = bytes.fromhex(str(attestation["signature"]).removeprefix("0x"))
            except (KeyError, ValueError):
                continue
            if attested in (ABSTAIN, value) or not self._presents(worker, seat):
                continue
            if await courts.is_slashed_in(batch_id, worker):
                continue
            evidence = (ticket.as_tuple(), attested, signature, batch_id, index, proof, vector)
            try:
                await courts.send("evidence", "slashAttestation", evidence)
            except TransactionReverted as exc:
                log.info("accountability: attestation of %s: %s", worker, exc.reason)
                continue
            self.presented += 1
            log.info(
                "accountability: presented %s's attestation contradicting batch %d leaf %d",
                worker,
                batch_id,
                index,
            )

    async def _batch_tickets(self, gateway: str, batch_id: int) -> dict[int, dict[str, Any]]:
        """Leaf index -> ticket and attestations, from the gateway's batch status."""
        base = self.gateway_urls().get(gateway.lower())
        if base is None:
            return {}
        try:
            response = await self.http.get(f"{base.rstrip('/')}/_status/batches/{batch_id}")
            doc = response.json() if response.status_code == 200 else {}
        except (httpx.HTTPError, ValueError):
            return {}
        out: dict[int, dict[str, Any]] = {}
        for entry in doc.get("tickets", []) if isinstance(doc, dict) else []:
            if isinstance(entry, dict) and isinstance(entry.get("leaf_index"), int):
                out[entry["leaf_index"]] = entry
        return out

    # ---- cases ----------------------------------------------------------------------------------

    async def follow_cases(self, from_block: int, to_block: int) -> None:
        """Starts a duty for every case escalated in the block range (the committee's log loop
        reads ``Escalated`` with its own events and calls :meth:`escalated`)."""
        courts = await self.courts()
        for _, args in await courts.logs("dispute", "Escalated", from_block, to_block=to_block):
            self.escalated(int(args["batchId"]), int(args["index"]))

    def escalated(self, batch_id: int, index: int) -> None:
        """A case was escalated on leaf ``index`` of ``batch_id``: starts its duty (once)."""
        key = (batch_id, index)
        if key not in self._cases or self._cases[key].done():
            log.info("accountability: case %d/%d: escalated; following it", batch_id, index)
            self._cases[key] = asyncio.create_task(self._case(*key), name=f"case {key}")

    def case_changed(self, batch_id: int, index: int) -> None:
        """An event named the case: its duty reads the record again at the next block (a case
        no duty follows is read afresh when one starts: nothing to mark)."""
        if (batch_id, index) in self._following:
            self._stale_cases.add((batch_id, index))

    async def _next_block(self, seen: str | None) -> None:
        """Waits for a block after the one whose hash is ``seen`` (at most ``poll`` seconds when
        none comes: a devnet that mines on demand is mined by :meth:`_fresh_clock`); the hash of
        the head then. A court's state and phase, read at the latest block, change only with a
        new block: reading them again on the same block would tell nothing new."""
        await self.heads.next(seen, self.poll)

    async def _case(self, batch_id: int, index: int) -> None:
        """Runs the case's duty to its end. Whatever stops it (a chain node that cannot be
        reached or fails a call, a receipt that does not come in time, a read of a state a
        reorg replaced) stops it only for a while: the duty starts again, reading the case and
        its duty record afresh, after a wait that doubles from ``poll`` up to
        :data:`_CASE_RETRY_MAX` (back to ``poll`` after a run of :data:`_CASE_RAN` seconds or
        more); past :data:`_CASE_FAILURES` stops in a row it ends once the case is closed.
        Before, such a stop ended the duty for good and nothing started it again (its
        ``Escalated`` log is not read twice): a voter whose node restarted in the case's commit
        or reveal window was slashed a no-show."""
        delay = max(self.poll, 0.1)
        failures = 0
        while True:
            started = time.monotonic()
            try:
                await self.case_duty(batch_id, index)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if time.monotonic() - started >= _CASE_RAN:  # it ran a while: a new outage
                    failures, delay = 0, max(self.poll, 0.1)
                failures += 1
                if failures > _CASE_FAILURES and await self._case_over(batch_id, index):
                    log.warning(
                        "accountability: case %d/%d: closed; its duty ends after %d stops "
                        "(the last: %r)",
                        batch_id,
                        index,
                        failures,
                        exc,
                    )
                    return
                chain = isinstance(
                    exc, (ChainUnavailable, RpcError, TransactionReverted, TimeoutError)
                )
                if failures == 1 and not chain:
                    log.exception(
                        "accountability: case %d/%d; following it again in %.1f s",
                        batch_id,
                        index,
                        delay,
                    )
                else:
                    (log.warning if failures == 1 else log.info)(
                        "accountability: case %d/%d: %s (%s); following it again in %.1f s",
                        batch_id,
                        index,
                        "chain unavailable" if chain else "stopped",
                        exc,
                        delay,
                    )
            await asyncio.sleep(delay)
            delay = min(delay * 2, _CASE_RETRY_MAX)

    async def _case_over(self, batch_id: int, index: int) -> bool:
        """Whether the case is closed (or not on the chain); False when that cannot be read."""
        try:
            return await (await self.courts()).case_phase(batch_id, index) in (CASE_NONE, CLOSED)
        except Exception:
            return False

    async def case_duty(self, batch_id: int, index: int) -> None:
        """Drives one case as far as this worker can (module docstring)."""
        key = (batch_id, index)
        self._following.add(key)
        try:
            await self._drive_case(batch_id, index)
        finally:  # no mark or counter outlives the duty it was for
            self._following.discard(key)
            self._seating.pop(key, None)
            self._stale_cases.discard(key)
            self._opinion_failed.discard(key)
            running = self._opinions.pop(key, None)
            if running is not None and not running.done():  # seen through, as a vote's late run
                self._late.add(running)
                running.add_done_callback(self._late.discard)
            for tier in (TIER_PANEL, TIER_ALL):
                voted = vote_key(batch_id, index, tier)
                self._uncommitted.discard(voted)
                self._given_up.discard(voted)
                self._refused.pop(voted, None)
                self._refused.pop("reveal:" + voted, None)

    async def _drive_case(self, batch_id: int, index: int) -> None:
        courts = await self.courts()
        gateway, leaves = await self.leaves_of(batch_id)
        opinion: bytes | None = self.attested(gateway, leaves[index].seq)
        seen: str | None = None  # the head the case was last read at
        case_key = (batch_id, index)
        case: dict[str, Any] = {}
        breaks, read_at = -1, float("-inf")
        window = int((await courts.params())["challengeWindow"])
        checked: set[str] = set()  # vote keys this run committed or found its commitment of
        while True:
            block = await self.heads.latest()
            if block.hash == seen:  # the same block: the same case; wait for the next one
                # (its clock read only then: every block woke every duty, and each read it anew)
                await self._fresh_clock()
                await self._next_block(seen)
                continue
            seen = block.hash
            # the record once per block, or, while the log loop feeds the court's events, only
            # after one named the case, a reorg, an action of this worker, or _CASE_RECHECK; the
            # phase from it and the head's clock (the court's phaseOf, worked out here)
            if self.heads.breaks != breaks:  # a reorg may have dropped a commitment
                checked.clear()
            if (
                not case
                or not self.case_events
                or case_key in self._stale_cases
                or self.heads.breaks != breaks
                or time.monotonic() - read_at > _CASE_RECHECK
            ):
                self._stale_cases.discard(case_key)
                breaks, read_at = self.heads.breaks, time.monotonic()
                case = await courts.case_of(batch_id, index)
            phase = case_phase_at(case, block.timestamp, window)
            tier = int(case["tier"])
            voted = vote_key(batch_id, index, tier)
            saved_vote = self.duties.get(voted) if phase == COMMIT else None
            if (
                saved_vote is not None
                and saved_vote[1]
                and voted not in self._uncommitted
                and voted not in checked
                and voted not in self._given_up
            ):
                # a vote saved by an earlier run of this duty (a worker restarted, a duty started
                # again after a chain drop): its commitment may never have gone out. Not seen
                # on-chain: sent again with the saved value and salt (whichever copy lands, the
                # salt opens it); before, the saved vote was taken as committed (a no-show)
                checked.add(voted)
                if await self._my_commitment(courts, batch_id, index, tier) is None:
                    log.info(
                        "accountability: case %d/%d tier %d: a saved vote not seen committed; "
                        "its commitment sent again",
                        batch_id,
                        index,
                        tier,
                    )
                    if self.duties.done(voted):  # revealed in blocks a reorg dropped
                        self.duties.save(voted, *saved_vote)  # to be revealed again
                    self._uncommitted.add(voted)
            if not (
                (
                    phase == COMMIT
                    and self.duties.get(voted) is not None
                    and voted not in self._uncommitted
                )
                or (phase == REVEAL and self.duties.done(voted))
                or (phase == DECIDED and tier != TIER_PANEL)
            ):
                # this worker may act on it now, or (a decided tier 2) a challenge may take it to
                # tier 3 in any block, whose commit window is as short as the panel's: a missed
                # Challenged log read only _CASE_RECHECK later would miss it (a no-show, 5 % of
                # the stake): read it after every block
                self._stale_cases.add(case_key)
            if phase == SEEDING:
                await self._seat_panel(courts, batch_id, index, int(case["seedBlock"]))
            elif phase == COMMIT and (self.duties.get(voted) is None or voted in self._uncommitted):
                try:
                    member = await self._member_index(courts, batch_id, index, tier, case)
                except _StaleRead as exc:
                    # never "not a voter" on such a read: marked, the tier was never voted (an
                    # honest seat slashed a no-show for each of its seats, fault campaign seed
                    # 4106); both read again after a poll, on this block or the next
                    log.info("accountability: case %d/%d tier %d: %s", batch_id, index, tier, exc)
                    self._stale_cases.add(case_key)
                    seen = None
                    await asyncio.sleep(self.poll)
                    continue
                if member is None:
                    self.duties.mark(vote_key(batch_id, index, tier))  # not a voter of this tier
                    self._uncommitted.discard(voted)
                    log.info(
                        "accountability: case %d/%d tier %d: not a voter of this tier",
                        batch_id,
                        index,
                        tier,
                    )
                else:
                    log.info(
                        "accountability: case %d/%d tier %d: a voter (%s); voting by %d",
                        batch_id,
                        index,
                        tier,
                        "a panel seat" if member == PANEL_SEAT else f"member {member}",
                        int(case.get("commitDeadline") or 0),
                    )
                    vote = opinion
                    if vote is None:
                        vote = await self._tier_value(courts, batch_id, index, tier, case)
                        if vote != ABSTAIN:
                            opinion = vote
                    if self.tier_vote_hook is not None:
                        rid = request_id(
                            self.view.config.chain_id,
                            self.view.config.settlement,
                            gateway,
                            leaves[index].seq,
                        )
                        vote = self.tier_vote_hook(batch_id, index, rid, vote, bytes(case["value"]))
                    checked.add(voted)
                    await self._commit_vote(courts, batch_id, index, tier, vote, member)
            elif phase == REVEAL and not self.duties.done(vote_key(batch_id, index, tier)):
                key = vote_key(batch_id, index, tier)
                saved = self.duties.get(key)
                if saved is not None and saved[1]:
                    if not await self._reveal_vote(courts, batch_id, index, tier, key, saved):
                        await self._next_block(seen)  # again with the same salt
                        continue
                elif saved is None and await self._a_voter(courts, batch_id, index, tier, case):
                    log.warning(
                        "accountability: case %d/%d tier %d: the commit window closed before this "
                        "voter committed (a no-show): first seen at block %d in its reveal phase",
                        batch_id,
                        index,
                        tier,
                        block.number,
                    )
                self.duties.mark(key)
            elif phase == DECIDE:
                await self._try(courts, "dispute", "decide", batch_id, index)
            elif phase == DECIDED:
                # at tier 2 only (no challenge after tier 3), worked out in the background: the
                # next block is read meanwhile, a challenge may come
                if opinion is None and tier == TIER_PANEL:
                    opinion = self._opinion(batch_id, index)
                decided = bytes(case["value"])
                key = challenge_key(batch_id, index, TIER_ALL)
                if (
                    opinion is not None
                    and tier == TIER_PANEL
                    and self._challenges(batch_id, index, opinion, decided)
                    and not self.duties.done(key)
                ):
                    bond = 2 * int((await courts.params())["challengeBond"])
                    # one try per case, marked once it reached the chain (mined or refused): a
                    # chain drop before that sends it again when the duty starts again (before,
                    # marked first, it was never sent)
                    challenged = await self._try(
                        courts, "dispute", "challenge", batch_id, index, [], [], value=bond
                    )
                    self.duties.mark(key)
                    if challenged:
                        self.challenged += 1
            elif phase == CLOSABLE:
                await self._try(courts, "dispute", "close", batch_id, index)
            elif phase == CLOSED:
                await self._present_closed(batch_id, index, gateway, leaves)
                return
            await self._next_block(seen)

    async def _tier_value(
        self, courts: CourtsView, batch_id: int, index: int, tier: int, case: dict[str, Any]
    ) -> bytes:
        """This worker's result for a leaf it votes on, or ``ABSTAIN`` when it is not ready
        :func:`~peerhost.worker.duties.commit_margin` seconds before the tier's commit deadline
        by the chain's clock (:func:`~peerhost.worker.duties.chain_lead`, as a seat's; a revealed
        abstention is never slashed, a vote never committed is a no-show). The run
        goes on in the background (a data challenge it opened is seen through)."""
        task = self._opinion_run(batch_id, index)
        deadline = int(case.get("commitDeadline") or 0)
        if not deadline:
            with contextlib.suppress(Exception):  # a failed run: below
                await task
            return self._ran(batch_id, index, tier, task)
        margin = commit_margin(int((await courts.params())["commitWindow"]))
        now = self.clock() + await chain_lead(self.view, self.clock)  # the chain's clock
        try:
            done, _ = await asyncio.wait({task}, timeout=max(0.0, deadline - margin - now))
        except asyncio.CancelledError:
            task.cancel()
            raise
        if task in done:
            return self._ran(batch_id, index, tier, task)
        self._late.add(task)
        task.add_done_callback(self._late.discard)
        log.warning(
            "accountability: case %d/%d tier %d: the leaf not run %.0f s before the commit "
            "deadline: voting an abstention",
            batch_id,
            index,
            tier,
            margin,
        )
        return ABSTAIN

    def _ran(self, batch_id: int, index: int, tier: int, run: asyncio.Future[bytes]) -> bytes:
        """The vote from a finished run of the leaf: its result, or ``ABSTAIN`` when it failed
        (logged; the vote is still committed: a failure ending the case's duty left the tier
        without this voter's commitment, a no-show slashed)."""
        if not run.cancelled() and run.exception() is None:
            return run.result()
        log.warning(
            "accountability: case %d/%d tier %d: this worker's result of the leaf failed (%r): "
            "voting an abstention",
            batch_id,
            index,
            tier,
            None if run.cancelled() else run.exception(),
        )
        return ABSTAIN

    def _opinion_run(self, batch_id: int, index: int) -> asyncio.Future[bytes]:
        """The run of this worker's result of the leaf for its case: started once and kept while
        the case's duty lasts (a decided tier 2 and the tier-3 vote after it share one run; one
        that failed is started again when asked for a vote)."""
        key = (batch_id, index)
        run = self._opinions.get(key)
        if run is None or (run.done() and (run.cancelled() or run.exception() is not None)):
            run = self._opinions[key] = asyncio.ensure_future(self.leaf_result(batch_id, index))
        return run

    def _opinion(self, batch_id: int, index: int) -> bytes | None:
        """This worker's result of the leaf once its background run (:meth:`_opinion_run`) is
        done; None while it runs, or when it failed (logged once; no challenge on the case)."""
        key = (batch_id, index)
        if key in self._opinion_failed:
            return None
        run = self._opinions.get(key)  # a failed run is started again for a vote only
        if run is None:
            run = self._opinion_run(batch_id, index)
        if not run.done():
            return None
        if run.cancelled() or run.exception() is not None:
            self._opinion_failed.add(key)
            log.warning(
                "accountability: case %d/%d: this worker's result of the leaf failed (%r): no "
                "challenge from it",
                batch_id,
                index,
                None if run.cancelled() else run.exception(),
            )
            return None
        return run.result()

    async def _present_closed(
        self, batch_id: int, index: int, gateway: str, leaves: list[Leaf]
    ) -> None:
        holders, _ = await self.view.holders_of(batch_id)
        if self.address in holders:  # the batch's seats present, as for unchallenged leaves
            await self.present(batch_id, index, gateway, leaves, ABSTAIN, [])

    async def _fresh_clock(self) -> None:
        """On a devnet that mines only on transactions, mines a block when the chain's clock ran
        past its head's (:func:`chain_clock`), so phases that end by time (windows, deadlines)
        end."""
        if not self.mine_blocks:
            return
        head, now = await chain_clock(self.view)
        if head < now - 1:
            await self.view.rpc.call("anvil_mine", ["0x1"])

    async def _seat_panel(self, courts: CourtsView, batch_id: int, index: int, seed: int) -> None:
        """Seats the case's panel once its seed block is mined, unless the case, read again, is
        seated already: every worker following the case sees the same block, and a racing
        ``seatPanel`` is a mined revert whose receipt the voter waits for (seconds under load,
        out of its tier's commit window). On a devnet that mines on transactions the blocks to
        the seed are mined only once none came for a quiet spell (:func:`quiet_spell`), as the
        committee's seed blocks: every worker mining every gap made ten empty blocks an
        escalation, each one waking every duty of every worker."""
        head = await self.heads.latest()
        if head.number >= seed:  # the seatPanel transaction lands in a later block
            if case_phase_at(await courts.case_of(batch_id, index), 0, 0) != SEEDING:
                self._stale_cases.add((batch_id, index))  # seated since: read at the next pass
                return
            sending = self._seating.get((batch_id, index))
            if sending is not None and not sending.done():
                return  # its seatPanel is on its way
            block = await self.view.rpc.call("eth_getBlockByNumber", [hex(seed), False])
            # sent beside the duty, which reads the next blocks meanwhile: awaited, its receipt
            # (a revert when another worker seated the panel first) held the voter 10-18 s under
            # load before it looked for its seat, out of a 20 s commit window (seeds 2403, 2406)
            task = asyncio.create_task(
                self._seat_panel_sent(courts, batch_id, index, encode_header(block)),
                name=f"seatPanel {batch_id}/{index}",
            )
            self._seating[(batch_id, index)] = task
            self._late.add(task)  # type: ignore[arg-type]  # cancelled by close()
            task.add_done_callback(self._late.discard)
        elif self.mine_blocks:
            later = await self.heads.next(head.hash, quiet_spell())
            if later.number <= head.number:
                await self.view.rpc.call("anvil_mine", [hex(seed - head.number)])

    async def _seat_panel_sent(
        self, courts: CourtsView, batch_id: int, index: int, header: bytes
    ) -> None:
        try:
            await self._try(courts, "dispute", "seatPanel", batch_id, index, header)
        except (ChainUnavailable, RpcError) as exc:  # the duty's next pass sends it again
            log.info("accountability: case %d/%d: seatPanel not sent (%s)", batch_id, index, exc)
        finally:
            self._stale_cases.add((batch_id, index))  # the case read again at the next pass

    async def _member_index(
        self, courts: CourtsView, batch_id: int, index: int, tier: int, case: dict[str, Any]
    ) -> int | None:
        """:data:`PANEL_SEAT` for a tier-2 panel seat, the active-set index for a tier-3 voter,
        None otherwise. Raises :class:`_StaleRead` when the panel read does not hold the seat
        holders ``case`` counts."""
        if tier == TIER_PANEL:
            voters = await courts.voters_of(batch_id, index, TIER_PANEL)
            if len(voters) != int(case["voters"]):
                raise _StaleRead(len(voters), int(case["voters"]))
            seated = any(str(v["worker"]).lower() == self.address.lower() for v in voters)
            return PANEL_SEAT if seated else None
        active = await self.view.active_set(int(case["epoch"]))
        members = [m.lower() for m in active.members]
        me = self.address.lower()
        return members.index(me) if me in members else None

    async def _a_voter(
        self, courts: CourtsView, batch_id: int, index: int, tier: int, case: dict[str, Any]
    ) -> bool:
        """Whether this worker votes in ``tier`` (False on a read of an older state: this only
        names a no-show in the log)."""
        try:
            return await self._member_index(courts, batch_id, index, tier, case) is not None
        except _StaleRead:
            return False

    async def _commit_vote(
        self, courts: CourtsView, batch_id: int, index: int, tier: int, value: bytes, member: int
    ) -> None:
        key = vote_key(batch_id, index, tier)
        saved = self.duties.get(key) if key in self._uncommitted else None
        if saved is not None and saved[1]:
            # sent again: the same commitment (a refused copy's first may yet show on-chain, a
            # read of the voters may lag the block that refused it: never a salt it cannot open)
            value, salt = saved
        else:
            salt = os.urandom(32)
            self.duties.save(key, value, salt)  # before the commitment goes out
        config = self.view.config
        commitment = vote_commitment(
            config.chain_id, courts.courts.dispute, batch_id, index, tier, self.address, value, salt
        )
        try:
            await courts.send("dispute", "commitVote", batch_id, index, commitment, member)
        except TransactionReverted as exc:
            on_chain = await self._my_commitment(courts, batch_id, index, tier)
            if on_chain is not None:
                # the commitment is in: a transaction the sender judged lost and sent again
                # landed, the copy was refused; the saved salt opens it (forgetting it would
                # make this voter a no-show)
                self._refused.pop(key, None)
                self._uncommitted.discard(key)
                if on_chain == commitment:
                    log.info(
                        "accountability: case %d/%d tier %d: vote committed (a copy of the "
                        "commitment refused: %s)",
                        batch_id,
                        index,
                        tier,
                        exc.reason,
                    )
                else:
                    log.error(
                        "accountability: case %d/%d tier %d: a commitment of this worker is in "
                        "that its saved vote does not open (refused: %s)",
                        batch_id,
                        index,
                        tier,
                        exc.reason,
                    )
                return
            # nothing committed (as far as this read sees): the same commitment again at the
            # next block while the tier's commit window lasts (a refusal for a stale view, or a
            # transaction that lost a race), at most _COMMIT_TRIES times; the saved vote is kept
            # (if a copy did land, the reveal phase opens it; if none did, its reveal is refused)
            refused = self._refused[key] = self._refused.get(key, 0) + 1
            if refused >= _COMMIT_TRIES:
                self._refused.pop(key, None)
                self._uncommitted.discard(key)
                self._given_up.add(key)  # not sent again by the saved vote's re-check either
                log.warning(
                    "accountability: case %d/%d tier %d: vote commitment refused %d times (%s); "
                    "not tried again (a no-show)",
                    batch_id,
                    index,
                    tier,
                    refused,
                    exc.reason,
                )
                return
            self._uncommitted.add(key)
            self._stale_cases.add((batch_id, index))
            log.warning(
                "accountability: case %d/%d tier %d: vote commitment refused (%s); again at "
                "the next block while the commit window lasts",
                batch_id,
                index,
                tier,
                exc.reason,
            )
            return
        self._refused.pop(key, None)
        self._uncommitted.discard(key)
        log.info("accountability: case %d/%d tier %d: vote committed", batch_id, index, tier)

    async def _reveal_vote(
        self,
        courts: CourtsView,
        batch_id: int,
        index: int,
        tier: int,
        key: str,
        saved: tuple[bytes, bytes],
    ) -> bool:
        """Reveals this worker's saved vote; False when it is to be tried again at the next block
        (a refusal while the vote is not revealed, at most ``_COMMIT_TRIES`` times)."""
        tries = "reveal:" + key  # counted apart from the commitment's refusals
        try:
            await courts.send("dispute", "revealVote", batch_id, index, *saved)
        except TransactionReverted as exc:
            me = self.address.lower()
            voters = await courts.voters_of(batch_id, index, tier)
            if any(str(v["worker"]).lower() == me and int(v["status"]) == 2 for v in voters):
                self._refused.pop(tries, None)  # revealed (a copy of the reveal was refused)
                return True
            refused = self._refused[tries] = self._refused.get(tries, 0) + 1
            last = refused >= _COMMIT_TRIES
            if last:
                self._refused.pop(tries, None)
            else:
                self._stale_cases.add((batch_id, index))
            log.warning(
                "accountability: case %d/%d tier %d: the reveal of this worker's vote was "
                "refused (%s)%s",
                batch_id,
                index,
                tier,
                exc.reason,
                "; not tried again" if last else "; again at the next block",
            )
            return last
        self._refused.pop(tries, None)
        log.info("accountability: case %d/%d tier %d: vote revealed", batch_id, index, tier)
        return True

    async def _my_commitment(
        self, courts: CourtsView, batch_id: int, index: int, tier: int
    ) -> bytes | None:
        """The commitment this worker has in ``tier`` of the case (None: it has not committed)."""
        me = self.address.lower()
        for voter in await courts.voters_of(batch_id, index, tier):
            if str(voter["worker"]).lower() == me and int(voter["status"]) >= 1:
                return bytes(voter["vote"])
        return None

    async def _try(
        self, courts: CourtsView, contract: str, name: str, *args: Any, value: int = 0
    ) -> bool:
        try:
            await courts.send(contract, name, *args, value=value)
        except TransactionReverted as exc:
            log.debug("accountability: %s: %s", name, exc.reason)
            return False
        return True

    # ---- data availability ----------------------------------------------------------------------

    async def obtain_input(self, batch_id: int, index: int, leaves: list[Leaf]) -> bytes | None:
        """Forces the gateway to publish an input this seat could not get (module docstring);
        returns the published input, or None when the ticket was voided (or no challenge could
        be opened)."""
        courts = await self.courts()
        challenge = await courts.data_challenge_of(batch_id, index)
        if int(challenge["state"]) == DATA_NONE:
            bond = int((await courts.params())["dataBond"])
            proof = merkle_proof([x.hash() for x in leaves], index)
            leaf = leaves[index].encode()
            try:
                listed = await self.view.holder_list(batch_id)
                await courts.send(
                    "evidence",
                    "openDataChallenge",
                    batch_id,
                    index,
                    leaf,
                    proof,
                    listed,
                    value=bond,
                )
                self.data_challenges += 1
                log.info(
                    "accountability: opened a data-availability challenge on batch %d leaf %d",
                    batch_id,
                    index,
                )
            except TransactionReverted as exc:
                log.info("accountability: data challenge %d/%d: %s", batch_id, index, exc.reason)
        while True:
            challenge = await courts.data_challenge_of(batch_id, index)
            state = int(challenge["state"])
            if state == DATA_PUBLISHED:
                for _, args in await courts.logs(
                    "evidence", "InputPublished", self.from_block, batch_id
                ):
                    data = bytes(args["input"])
                    if (
                        int(args["index"]) == index
                        and input_hash_of(data) == leaves[index].input_hash
                    ):
                        return data
                return None
            if state in (DATA_VOIDED, DATA_NONE):
                return None
            if state == DATA_OPEN and time.time() > int(challenge["deadline"]) + 1:
                await self._try(courts, "evidence", "voidTicket", batch_id, index)
            await asyncio.sleep(self.poll)

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
