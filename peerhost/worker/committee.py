"""Committee duty: settle the batches this worker is drawn to, and post what a gateway withholds.

For every ``BatchPosted`` (polled with ``eth_getLogs``), one task drives the batch:

1. **Seed.** Once block ``seedBlock`` exists, the worker computes the committee it draws (the
   seed from the block's prevrandao, the seats from the batch epoch's stake array, as the contract
   does). Nobody sends a ``seat`` transaction: the first holder to commit seats the batch with
   its commitment (``seatAndCommit``, carrying the block's header). A worker without a seat sends
   ``seat`` only when no holder has seated the batch ``seat_grace`` seconds after the seed block
   (liveness: absent holders are then slashed as no-shows). A batch nobody could seat is not left
   holding its rewards: any worker following it sends ``reseed`` once its seed block's hash has
   left ``BLOCKHASH``'s 256-block reach (the header can no longer be proven), and ``expire`` (a
   refund to the project) once its seat window has passed unseated. On a devnet that only mines
   when transactions arrive, ``mine_blocks`` mines the blocks a seed needs once none came for a
   moment (while calls come, their transactions bring the blocks).
2. **Scope.** When the worker holds a seat, it reads the batch's leaves from the post
   transaction's calldata and re-executes every leaf the audit mask names (computed from the seed
   while the batch is unseated), fetching each input from the gateway's input endpoint (signed
   with its key); other leaves, inputs it cannot get, results that are not deterministic and
   leaves it could not run before the commit window's end (less a margin: :func:`commit_margin`)
   are ``ABSTAIN``.
3. **Commit, reveal.** One salted, worker-bound commitment to the result vector (seating the
   batch when nobody has yet), then its reveal.
   When every holder revealed one vector the last reveal settles the batch; otherwise, in the
   Settle phase, the worker finalizes it with every distinct revealed vector.
4. **Accountability.** Once the batch finalized, the seat's court duties on its leaves
   (:mod:`peerhost.worker.accountability`).

A contract's single request (``requestExecution`` called by a consumer contract) has no
``postBatch`` calldata: its leaf and input come from the router's ``Requested`` event of the same
transaction (:mod:`peerhost.chain.consumers`), and the seat relays the settled result to the
consumer afterwards (:mod:`peerhost.worker.callbacks`).

Separately, **cheques**: tickets this worker attested that no batch carried once a grace period
passed (the gateway withheld them) are posted with ``postOrphans`` before their deadline, grouped
as the contract requires (one gateway and engine profile, one batch head: function id, version,
reward and secrets version); the gateway's bond refunds the
poster's gas. Credits are withdrawn when they reach ``withdraw_min``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx

from peerhost.chain.consumers import SingleRequest, single_request
from peerhost.chain.courts import CASE_EVENTS
from peerhost.chain.errors import ChainUnavailable, RpcError, TransactionReverted
from peerhost.chain.heads import Block, HeadWatcher, block_logs
from peerhost.chain.phases import CHANGES, BatchBook, Head
from peerhost.chain.schedule_runs import ScheduleRuns
from peerhost.chain.settlement import SeatDraw, SettlementView, holder_words
from peerhost.wire.batch import ABSTAIN, BatchHead, Leaf, seat_commitment, vector_hash
from peerhost.wire.envelope import result_hash
from peerhost.wire.feed import (
    INPUT_EXPIRES_HEADER,
    INPUT_PATH,
    INPUT_SIGNATURE_HEADER,
    INPUT_WORKER_HEADER,
    input_request_digest,
    sign_digest,
)
from peerhost.wire.ticket import input_hash_of, request_id
from peerhost.worker.accountability import (
    Accountability,
    ChallengeHook,
    PresentHook,
    TierVoteHook,
    fetch_input,
)
from peerhost.worker.attested import ATTESTED, AttestedLedger
from peerhost.worker.callbacks import CallbackRelay
from peerhost.worker.duties import (
    DutyLog,
    chain_clock,
    chain_lead,
    commit_margin,
    input_margin,
    quiet_spell,
    seat_key,
)
from peerhost.worker.tickets import TicketRunner

log = logging.getLogger(__name__)

# ISettlementCoordinator.Phase
_AWAITING, _COMMIT, _REVEAL, _SETTLE, _FINALIZED, _CLOSED, _EXPIRED = 1, 2, 3, 4, 5, 6, 7
_RESUMES = 120  # a duty cut by an unreachable chain is resumed at most this often
_FAILURES = 10  # a duty cut by an unexpected error is resumed at most this often
_RECHECK = 1.0  # seconds before a commitment or reveal gone from the chain is sent again (reorgs)
_AGAIN = 5  # a dropped commitment or reveal is sent again at most this often per batch
_REDRAWN = -1  # a seat's duty ended because its batch's seats are drawn again
_BLOCKHASH_REACH = 256  # BLOCKHASH serves the hashes of the 256 blocks before the current one
_RESCUE_CHECK = 5.0  # seconds between checks that an unseated batch needs a reseed or expiry
_RESCUE_BACKOFF = 60.0  # seconds before a reverted reseed or expiry is tried again
_DEADLINE_RECHECK = 1.0  # seconds between reads of an unseated batch's commit deadline
_SLOW = 10.0  # seconds between passes of a duty past one of its limits (its batch not ended)
#: read in one eth_getLogs: posts start duties, the others mark the batch's record stale
_FOLLOWED = tuple(dict.fromkeys(("BatchPosted", "BatchFinalized", "BatchExpired", *CHANGES)))
#: seconds between re-reads of this seat's vote while its batch's record did not change (the
#: record is read again after any event naming the batch and after a reorg)
_VOTE_RECHECK = 10.0
#: Blocks per ``eth_getLogs`` query when searching for a batch's post (providers refuse wider
#: ranges: 1,000 to 10,000 blocks by provider).
_LOG_RANGE = 1_000
_CHECKPOINTS = 64  # heads remembered to find where a reorg forked (deeper: read again from start)
#: seconds the log loop waits for a new head before its rounds (cheques) and the book's freshness
#: are served anyway (the book trusts a feeder silent for less than its ``fed_for``)
_IDLE_WAKE = 1.0
_CHEQUES_EVERY = 2.0  # seconds between rounds of withheld tickets and consumer callbacks
#: seconds the log loop waits after a read before it reads the blocks that came meanwhile: a
#: burst of blocks (a devnet that mines a block per transaction: every post, commit and reveal)
#: is read as one range, one ``eth_getLogs``, not one per block
_COALESCE = 0.1
#: blocks a post's tickets marked posted from its calldata are remembered, to undo the marks when
#: a reorg drops it (the gateway's reorg depth: :data:`peerhost.gateway.poster._REORG_BLOCKS`)
_CARRIED_BLOCKS = 64
#: seconds a node may serve no seed block past its head (a reorg under way) before the block is
#: taken for lost (:meth:`Committee._seed_lost`); a random share more per duty, so that the
#: workers following the same batch do not all act on it at once
_SEED_LOST = 5.0
#: seconds at most that a restarted worker's duties of the batches it finds posted wait for the
#: reveals of the seats it committed before the restart (:meth:`Committee._behind_backlog`)
_BACKLOG_HOLD = 10.0


@dataclass(frozen=True)
class SeatContext:
    """What a seat holder knows of its batch when it decides its vote (a ballot hook's input).

    Attributes:
        batch_id: The batch.
        request_ids: The request id of each leaf.
        vector: This worker's results (ABSTAIN on leaves the audit mask leaves out).
        seats: Seat holder (lower-case address) -> seats it holds (public once drawn).
        quorum: Seats that finalize a leaf (``Q``).
    """

    batch_id: int
    request_ids: tuple[bytes, ...]
    vector: tuple[bytes, ...]
    seats: dict[str, int]
    quorum: int


@dataclass(frozen=True)
class SeatBallot:
    """What a seat holder commits to, and whether it reveals it."""

    vector: tuple[bytes, ...]
    reveal: bool = True


#: A worker strategy's say in a seat's vote (:mod:`peerhost.worker.strategies`); None: the vector
#: of this worker's results, revealed.
BallotHook = Callable[[SeatContext], Awaitable[SeatBallot]]


class Committee:
    """Follows batches and does this worker's committee duty (module docstring).

    Args:
        view: Settlement contracts, with this worker's sender.
        runner: Runs leaves exactly as the worker would attest them.
        ledger: The tickets this worker attested (cheques).
        private_key: Signs input requests.
        address: This worker.
        gateway_urls: Gateway address -> base URL (where inputs are fetched).
        mine_blocks: Mine the blocks a seed needs (devnets that mine only on transactions).
        orphan_grace: Seconds after which an attested ticket no batch carried is posted by us:
            after its ``issuedAt``, and after the chain was last reached again following an
            outage (the gateway's poster was cut off too: it posts first).
        scheduled: Rebuilds a scheduled ticket's input from its leaf (no gateway serves it).
        ballot: A strategy's hook deciding what a seat commits and whether it reveals (None: its
            results, revealed); ``challenge``, ``present`` and ``tier_vote``: its court hooks
            (:class:`~peerhost.worker.accountability.Accountability`).
        input_retries: Asks again for a refused input before challenging its availability,
            ``input_backoff`` seconds apart at first, doubling (:func:`.accountability.fetch_input`).
        seat_grace: Seconds after its seed block that a worker without a seat waits for a holder
            to seat a batch before it sends ``seat`` itself (at most a quarter of the seat window).
        heads: The process's head watcher (None: one of its own, subscribed to the chain's
            ``ws_url`` when the config names one).
        credits_every: Seconds between reads of this worker's credits (withdrawn when any):
            credits wait in the contracts at no cost, and each withdrawal is a transaction.
    """

    def __init__(
        self,
        view: SettlementView,
        runner: TicketRunner,
        ledger: AttestedLedger,
        private_key: bytes,
        address: str,
        gateway_urls: Callable[[], dict[str, str]],
        *,
        duties: DutyLog | None = None,
        challenges: bool = True,
        mine_blocks: bool = False,
        orphan_grace: float = 20.0,
        poll: float = 0.25,
        scheduled: ScheduleRuns | None = None,
        ballot: BallotHook | None = None,
        challenge: ChallengeHook | None = None,
        present: PresentHook | None = None,
        tier_vote: TierVoteHook | None = None,
        input_retries: int = 3,
        input_backoff: float = 0.5,
        seat_grace: float = 30.0,
        heads: HeadWatcher | None = None,
        credits_every: float = 30.0,
    ) -> None:
        self.view = view
        self._heads = heads
        self._own_heads = False
        self.credits_every = credits_every
        self.seat_grace = seat_grace
        self.input_retries = input_retries
        self.input_backoff = input_backoff
        self.runner = runner
        self.ledger = ledger
        self._key = private_key
        self.address = address
        self.gateway_urls = gateway_urls
        self.mine_blocks = mine_blocks
        self.orphan_grace = orphan_grace
        self._unreached = False  # the last pass of the log loop could not reach the chain
        self.reached_again = 0.0  # when (``clock``) the chain answered again after an outage
        #: the worker's clock for cheques (a ticket's age and deadline): the wall clock, which
        #: a live chain's block times follow; a seat's deadlines are the chain's, judged by this
        #: clock and the chain's lead on it (:meth:`_clock_lead`)
        self.clock: Callable[[], float] = time.time
        self.poll = poll
        self.scheduled = scheduled
        self.ballot = ballot
        self.chain_id = view.config.chain_id
        self.settlement = view.config.settlement
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self._late: set[asyncio.Future[Any]] = set()  # leaves in flight at a commit cutoff
        #: batch id -> time (``clock``) by which a seat must hold its leaves' inputs (its commit
        #: deadline less :func:`input_margin`, by the chain's clock as the cutoff): a leaf whose
        #: input is not in hand by then is an abstention, its data-availability challenge goes on
        #: beside the commitment
        self._input_by: dict[int, tuple[float, float]] = {}  # (time, its margin)
        #: per batch: the one leaf input still being obtained past the batch's input deadline, and
        #: the leaves abstained on after it whose inputs are obtained next, one at a time (each a
        #: data-availability challenge's bond at most)
        self._late_inputs: dict[int, asyncio.Future[Any]] = {}
        self._late_queue: dict[int, list[Callable[[], Awaitable[bytes | None]]]] = {}
        self._closing = False
        self.http = httpx.AsyncClient(timeout=10.0)
        self.seats_served = 0
        self.cheques_posted = 0
        self.duties = duties or DutyLog(":memory:")
        self._batches: dict[int, tuple[str, list[Leaf]]] = {}
        #: batch id -> (block hash, block number) of the post its duty serves; with its duty's
        #: task, forgotten once the duty ended and the post is older than every remembered head
        #: (:meth:`_forget_ended`)
        self._posted_in: dict[int, tuple[str, int]] = {}
        self._ended: set[int] = set()  # batches whose duty ended (its :meth:`_done` ran)
        self._post_tx: dict[int, str] = {}  # batch id -> hash of that post's transaction
        #: batch id -> block of a batch seen finalized or expired in one of the
        #: remembered heads' blocks: a reorg that takes that block away may take the batch back
        #: to a phase its holders must act in again (:meth:`_unsettled`)
        self._settled_in: dict[int, int] = {}
        self._post_raw: dict[int, dict[str, Any]] = {}  # batch id -> the post log its duty serves
        self._reopened: dict[int, dict[str, Any]] = {}  # settlements replaced: :meth:`_unsettled`
        self._rounds: dict[str, asyncio.Task[None]] = {}  # the log loop's rounds beside it
        self._past_seats: set[int] = set()  # batches whose duty is past its seat loop
        #: at start: batches whose seat this worker saved and had not revealed, and which
        #: :meth:`_open_saved` left to open (before their reveal phase, or their reveal not
        #: through); the other duties of the first read wait for them (:meth:`_behind_backlog`)
        self._opening: set[int] = set()
        self._opened_all = asyncio.Event()
        #: batch id -> the start's reveal of its saved seat (:meth:`_open_saved`; past the hold)
        self._saving: dict[int, asyncio.Task[None]] = {}
        self._starting = False  # the log loop's first read of the blocks before the start
        self._hold_until = 0.0  # monotonic time the first read's duties wait for at most
        self._rescue_at: dict[int, float] = {}  # batch id -> when to check it needs a rescue again
        # batch id -> the seed block's header of a batch this worker will seat (not seated yet)
        self._unseated: dict[int, bytes] = {}
        #: batch id -> the seed block whose seatings the chain refused too often (_seating_refused)
        self._refused: dict[int, int] = {}
        self.singles: dict[int, SingleRequest] = {}
        self.callbacks = CallbackRelay(view, mine_blocks=mine_blocks)
        self._from_block = 0
        # (block number, hash) of the heads read, to find where a reorg forked
        self._checkpoints: deque[tuple[int, str]] = deque(maxlen=_CHECKPOINTS)
        self.reorgs = 0
        #: batch id -> (post block, gateway, seqs) of the tickets :meth:`_carried` marked posted
        self._carried_in: dict[int, tuple[int, str, list[int]]] = {}
        self.log_reads = 0  # reads of new blocks' events (a burst of blocks is one; for tests)
        self.loop_errors = 0  # passes of the log loop an unforeseen error ended (logged)
        # batches' records and the chain's head, read once per tick for every duty
        self.book = BatchBook(view, tick=poll)
        self.reverted: dict[str, int] = {}  # commits, reveals, ... the chain refused, by step
        self.accountability = Accountability(
            view,
            address,
            leaves_of=self.leaves_of,
            leaf_result=self.leaf_result,
            attested=ledger.result_of,
            gateway_urls=gateway_urls,
            duties=self.duties,
            challenges=challenges,
            mine_blocks=mine_blocks,
            poll=poll,
            challenge=challenge,
            present=present,
            tier_vote=tier_vote,
            heads=heads,
            phase_of=self.book.phase,
            batch_of=self.book.batch,
        )
        self._dispute = ""  # the dispute court's address, once read ("": none deployed)
        self._courts_again = 0.0  # monotonic time to ask for the courts again while none is named
        self._topics: list[str] = []

    @property
    def heads(self) -> HeadWatcher:
        """The head watcher every loop of this duty follows (made on first use when none was
        given: subscribed to the config's ``ws_url``, shared with the courts' cases and lent to
        the view's sender, whose receipts are then read once per new head)."""
        if self._heads is None:
            self._heads = HeadWatcher(self.view.rpc, self.view.config.ws_url, poll=self.poll)
            self._own_heads = True
            self.accountability.follow_heads(self._heads)
            sender = self.view.sender
            if sender is not None and sender.heads is None:
                sender.heads = self._heads
        return self._heads

    async def _followed(self) -> tuple[list[str], list[str]]:
        """The addresses and first topics of the log loop's one ``eth_getLogs`` per block: the
        settlement contract's batch events and the dispute court's ``Escalated`` (cases)."""
        if not self._topics or (not self._dispute and time.monotonic() >= self._courts_again):
            try:
                self._dispute = (await self.accountability.courts()).courts.dispute
            except ValueError:
                # no courts named yet (or a deployment without them): asked again in a minute,
                # so a court set later is followed (its panels' seats would be no-shows)
                self._dispute = ""
                self._courts_again = time.monotonic() + 60.0
            self._topics = [self.view.topic(event) for event in _FOLLOWED]
            if self._dispute:
                courts = await self.accountability.courts()
                self._topics += [courts.topic("dispute", event) for event in CASE_EVENTS]
                self.accountability.case_events = True  # the cases' records follow their events
        addresses = [self.settlement, *([self._dispute] if self._dispute else [])]
        return addresses, self._topics

    async def _read_logs(self, block: Block, cursor: int) -> bool:
        """Reads the followed events of blocks ``cursor`` to ``block`` and acts on them; False
        when a reorg replaced ``block`` during the read (read again). The block right after the
        last one read (its parent) is read by its hash: exactly its logs, no check after."""
        addresses, topics = await self._followed()
        self.log_reads += 1
        by_hash = (
            cursor == block.number
            and bool(self._checkpoints)
            and self._checkpoints[-1] == (block.number - 1, block.parent)
        )
        if by_hash:
            raw = await block_logs(self.view.rpc, addresses, topics, block_hash=block.hash)
        else:
            raw = await block_logs(
                self.view.rpc, addresses, topics, first=cursor, last=block.number
            )
            # the logs are of the chain ``block`` ends when the head watcher saw its blocks from
            # ``cursor`` on linked and every log names one of them (a reorg during the read that
            # left none of them changed nothing this worker follows; the next head shows it);
            # else the head is read again to know
            if not self._logs_linked(cursor, block, raw) and (
                await self.view.block_hash(block.number) != block.hash
            ):
                return False
        changed: set[int] = set()
        dispute = self._dispute.lower()
        for entry in raw:
            if dispute and str(entry.get("address", "")).lower() == dispute:
                courts = await self.accountability.courts()
                case = courts.decode_log("dispute", entry)
                if case is not None and case[0] in CASE_EVENTS:
                    self.accountability.case_changed(int(case[1]["batchId"]), int(case[1]["index"]))
                if case is not None and case[0] == "Escalated":
                    self.accountability.escalated(int(case[1]["batchId"]), int(case[1]["index"]))
                continue
            decoded = self.view.decode_log(entry)
            if decoded is None or decoded[0] not in _FOLLOWED:
                continue
            event, args = decoded
            changed.add(int(args["batchId"]))
            if event in ("Reseeded", "BatchSeated"):  # a new draw: its holders read again
                self.view.forget_holders(int(args["batchId"]))
            if event == "BatchPosted":
                self._posted(int(args["batchId"]), entry)
            elif event in ("BatchFinalized", "BatchExpired"):
                self.book.touch(int(args["batchId"]))  # stale before its waiter wakes
                self.accountability.settled(int(args["batchId"]))
                self._settled(int(args["batchId"]), int(str(entry["blockNumber"]), 16))
        self._checkpoints.append((block.number, block.hash))
        self.book.advance(Head(block.number, block.hash, block.timestamp), changed)
        return True

    def _logs_linked(self, first: int, block: Block, raw: list[dict[str, Any]]) -> bool:
        """Whether the head watcher saw blocks ``first`` to ``block`` linked by their parent
        hashes and every log of ``raw`` names one of them."""
        linked = self.heads.linked(first, block)
        return linked is not None and all(
            linked.get(int(str(entry["blockNumber"]), 16)) == entry.get("blockHash")
            for entry in raw
        )

    async def run(self) -> None:
        """The log loop: one wait for the next head (pushed by the node where it can), then one
        ``eth_getLogs`` of the new blocks' batch and case events; nothing while no block comes
        but a head read every ``quiet`` seconds of the watcher (a silent subscription)."""
        # a start, not the node restarting this loop (its duties still run, past their holds)
        self._starting = not self.tasks
        self._hold_until = time.monotonic() + _BACKLOG_HOLD
        self._opening = await self._open_saved() if self._starting else set()
        cursor = await self.view.block_number()
        self._from_block = max(0, cursor - 1000)
        cursor = self._from_block
        self.accountability.from_block = self._from_block
        self._opened_all.clear()
        self._hold_over()
        self._late_task(self._sweep_claims(), "claims sweep")
        last_cheques = last_credits = time.monotonic()
        read: str | None = None  # the hash of the last head whose blocks were all read
        last_read = float("-inf")  # when (monotonic) the last read of new blocks ended
        while True:
            try:
                block = await self.heads.next(read, _IDLE_WAKE)
                settle = last_read + _COALESCE - time.monotonic()
                if block.hash != read and settle > 0:
                    # a burst of blocks (a devnet mining one per transaction): read as one range
                    await asyncio.sleep(settle)
                    block = await self.heads.latest()
                if self._checkpoints and self._checkpoints[-1] != (block.number, block.hash):
                    cursor = await self._follow_reorg(cursor, block)
                if self._reopened:
                    await self._unsettled()
                if block.number >= cursor:
                    if await self._read_logs(block, cursor):
                        cursor, read = block.number + 1, block.hash
                        last_read = time.monotonic()
                        self._forget_ended()
                        if self._starting:  # saved seats without a running duty: none due
                            self._starting = False
                            self._opening &= {b for b, t in self.tasks.items() if not t.done()}
                            self._hold_over()
                    else:  # a reorg replaced it during the read: the new head, then again
                        await self.heads.read()
                elif self._checkpoints and self._checkpoints[-1] == (block.number, block.hash):
                    self.book.advance(Head(block.number, block.hash, block.timestamp), ())
                    read = block.hash  # nothing new: still fresh
                else:  # a head behind what was read (a lagging node answered): nothing new
                    read = block.hash
                if self._unreached:  # this pass reached the chain again after an outage
                    self._unreached = False
                    self.reached_again = self.clock()
                # beside the loop, one of each at a time: each waits for its receipts, and while
                # the loop waited with them (29-40 s under load) no escalation, post or
                # settlement was read: tier votes out of their window (seed 2403)
                if time.monotonic() - last_cheques > _CHEQUES_EVERY and self._beside(
                    "cheques", self._cheque_round
                ):
                    last_cheques = time.monotonic()
                if time.monotonic() - last_credits > self.credits_every and self._beside(
                    "withdraw", self.withdraw
                ):
                    last_credits = time.monotonic()
            except (ChainUnavailable, RpcError) as exc:
                log.info("committee: chain unavailable (%s)", exc)
                self._unreached = True
                read = None
                await asyncio.sleep(self.poll)
            except Exception:  # an error no step caught: logged, and the loop goes on (a loop
                # that ended here left every later batch's seat a no-show, in silence)
                log.exception("committee: a pass of the log loop failed; going on")
                self.loop_errors += 1
                await asyncio.sleep(max(self.poll, 1.0))

    def _beside(self, name: str, step: Callable[[], Awaitable[None]]) -> bool:
        """Starts ``step`` (a cheque round, a withdrawal) as a task beside the log loop, unless
        its last one still runs; whether it started."""
        running = self._rounds.get(name)
        if running is not None and not running.done():
            return False
        self._rounds[name] = self._late_task(self._round(name, step), f"committee {name}")
        return True

    async def _round(self, name: str, step: Callable[[], Awaitable[None]]) -> None:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except (ChainUnavailable, RpcError) as exc:
            log.info("committee: %s: chain unavailable (%s)", name, exc)
        except Exception:  # logged, and the next round goes on
            log.exception("committee: a %s round beside the log loop failed; going on", name)
            self.loop_errors += 1

    async def _cheque_round(self) -> None:
        await self.post_cheques()
        await self.callbacks.tick()

    async def _follow_reorg(self, cursor: int, head: Block) -> int:
        """The block to read the logs from: ``cursor``, or, when a reorg replaced the last block
        read, the block after the newest remembered one still on the chain. The new branch's
        blocks below the old head may hold posts (a batch posted again, a new batch id) whose
        duty would otherwise never start: its seats would be no-shows. When the last block read
        is the head's parent, or the head watcher saw the blocks from it to ``head`` linked by
        their parent hashes (a burst read as one range), it is still on the chain: no read."""
        if not self._checkpoints:
            return cursor
        number, known = self._checkpoints[-1]
        if self._checkpoints[-1] == (head.number - 1, head.parent):
            return cursor
        linked = self.heads.linked(number, head) if number < head.number else None
        if linked is not None and linked[number] == known:
            return cursor
        if await self.view.block_hash(number) == known:
            return cursor
        self._checkpoints.pop()
        while self._checkpoints:
            number, known = self._checkpoints[-1]
            if await self.view.block_hash(number) == known:
                break
            self._checkpoints.pop()
        again = self._checkpoints[-1][0] + 1 if self._checkpoints else self._from_block
        log.warning(
            "committee: reorg: read up to block %d, reading again from block %d", cursor - 1, again
        )
        self.reorgs += 1
        self.book.reorg()
        self._uncarry(since=again)
        for batch_id, at in list(self._settled_in.items()):
            raw = self._post_raw.get(batch_id)
            if at >= again and raw is not None:  # settled in a replaced block: _unsettled checks
                del self._settled_in[batch_id]
                self._reopened[batch_id] = raw
        return again

    def _settled(self, batch_id: int, number: int) -> None:
        """Notes the block that finalized or expired ``batch_id`` (a batch whose post its duty
        served), as long as a reorg can still take it away (blocks of the remembered heads)."""
        if batch_id in self._post_raw:
            self._settled_in[batch_id] = number
        oldest = self._checkpoints[0][0] if self._checkpoints else number
        for old in [b for b, at in self._settled_in.items() if at < oldest]:
            del self._settled_in[old]
            self._post_raw.pop(old, None)

    async def _unsettled(self) -> None:
        """Every batch whose finalization or expiry a reorg replaced (:meth:`_follow_reorg`) and
        that the chain now shows back in a phase its holders act in gets its duty again, from
        its post, unless its duty is still in its seat loop (which follows the phases itself).
        A holder's duty ended with the batch Finalized and went on to its challenge window
        (sleeps of a minute and more); a reorg that took the finalization and the votes away,
        leaving the seating, had the other holders commit again, and this one was slashed as a
        no-show (reorg-deep seed 2101). A batch whose read fails stays to be read at the next
        pass."""
        for batch_id, raw in list(self._reopened.items()):
            phase = await self.view.phase_of(batch_id)
            del self._reopened[batch_id]
            if phase not in (_AWAITING, _COMMIT, _REVEAL, _SETTLE):
                continue  # settled on the new branch too (its log is read again), or not posted
            task = self.tasks.get(batch_id)
            if task is not None and not task.done() and batch_id not in self._past_seats:
                continue
            log.warning(
                "committee: batch %d: its settlement taken away by a reorg (now phase %d); "
                "its duty again",
                batch_id,
                phase,
            )
            self._restart(batch_id, raw)

    def _posted(self, batch_id: int, raw: dict[str, Any]) -> None:
        """Starts the duty of a batch seen posted. A post in another block than the one its duty
        started from (a reorg dropped the first post and the batch id was posted again, or the
        same post was mined again elsewhere: new seed block, new seats, maybe other leaves) starts
        the duty again from the new post."""
        block = str(raw.get("blockHash", ""))
        task = self.tasks.get(batch_id)
        if task is not None and self._posted_in.get(batch_id, (block, 0))[0] == block:
            return
        if task is not None:
            log.warning("committee: batch %d posted again in another block (reorg)", batch_id)
            self._batches.pop(batch_id, None)
            self._uncarry(batch_id)  # marked again if the new post carries them
        self._restart(batch_id, raw, held=self._starting and batch_id not in self._opening)

    def _forget_ended(self) -> None:
        """Forgets the batches whose duty ended and whose post is older than the oldest head
        remembered: a reorg the log loop follows reads again from a remembered head on, so it
        never finds their post again (a deeper one reads again from the loop's start: a post
        found again then starts a duty again, which finds its batch settled). Kept, every batch
        the worker ever followed stayed in memory: its duty's task, its post, its leaves. Only
        after the duty's own end (:meth:`_done`, a callback that runs a turn after the task is
        done) has dropped what it drops."""
        if not self._checkpoints or not self._ended:
            return
        oldest = self._checkpoints[0][0]
        for batch_id in list(self._ended):
            if self._posted_in.get(batch_id, ("", 0))[1] >= oldest:
                continue
            self._ended.discard(batch_id)
            self._posted_in.pop(batch_id, None)
            self.tasks.pop(batch_id, None)
            self._batches.pop(batch_id, None)
            self.singles.pop(batch_id, None)
            self._past_seats.discard(batch_id)
            self._input_by.pop(batch_id, None)
            if batch_id not in self._settled_in:  # else kept while a reorg may unsettle it
                self._post_raw.pop(batch_id, None)

    def _restart(self, batch_id: int, raw: dict[str, Any], held: bool = False) -> None:
        """Starts the duty of ``batch_id`` from its post log ``raw``, in place of one running;
        ``held``: after the start's saved seats are revealed (:meth:`_behind_backlog`)."""
        task = self.tasks.get(batch_id)
        if task is not None:
            task.cancel()  # its _done skips the drop: the new duty's task replaced it
            self._drop_late_queue(batch_id)
        self._post_raw[batch_id] = raw
        self._ended.discard(batch_id)
        # the post it serves (a duty an unsettling reorg started again: the post it served)
        number = int(str(raw.get("blockNumber", "0x0")), 16)
        self._posted_in[batch_id] = (str(raw.get("blockHash", "")), number)
        if raw.get("transactionHash"):
            self._post_tx[batch_id] = str(raw["transactionHash"])
        task = self.tasks[batch_id] = asyncio.create_task(
            self._duty(batch_id, raw, held), name=f"batch {batch_id}"
        )
        task.add_done_callback(lambda ended: self._done(batch_id, ended))

    def _done(self, batch_id: int, ended: asyncio.Task[None]) -> None:
        """A batch's duty ended: its record and post need not be kept (read again if asked); not
        when a duty started again from a new post (a reorg) replaced it."""
        if self.tasks.get(batch_id) is ended:
            self._ended.add(batch_id)
            self.book.forget(batch_id)
            self._post_tx.pop(batch_id, None)
            self._refused.pop(batch_id, None)
            self._drop_late_queue(batch_id)
            self._opened(batch_id)

    def _opened(self, batch_id: int) -> None:
        """``batch_id``'s saved seat revealed (or its duty ended)."""
        self._opening.discard(batch_id)
        self._hold_over()

    def _hold_over(self) -> None:
        """Once no saved seat is left to open, or the hold is over, the duties held behind them
        go on."""
        if not self._opening or time.monotonic() >= self._hold_until:
            self._opened_all.set()

    def _commitment(self, batch_id: int, vector: list[bytes], salt: bytes) -> bytes:
        """This seat's commitment to ``vector`` in ``batch_id``."""
        return seat_commitment(
            self.chain_id, self.settlement, batch_id, self.address, vector_hash(vector), salt
        )

    @staticmethod
    def _unpacked(saved: tuple[bytes, bytes]) -> tuple[list[bytes], bytes]:
        """A saved seat's (vector, salt), as the duty log keeps it (the vector's words joined)."""
        packed, salt = saved
        return [packed[i : i + 32] for i in range(0, len(packed), 32)], salt

    async def _open_saved(self) -> set[int]:
        """A start's first work on the chain: reveals the seats this worker committed before a
        restart whose batches are in their reveal phase, before the log loop's first read (the
        last 1,000 blocks: every recent batch's duty, the escalated cases' duties) and before the
        backlog they bring. At most until the backlog's hold ends; a seat not revealed by then is
        left to its batch's duty, which waits for that seat's reveal under way (each seat's goes
        on past the hold, a task of its own) and then finds it revealed. A loop started again
        without a start of the worker (a node that went away) waits for the same reveals, it
        starts no second one. Returns the batches whose saved seats are still to be opened (not
        those past their reveal phase: nothing is waited for them).

        The reveal had been one task among a hundred that a restart started at once: under load
        the restarted worker came back with 35 s of its reveal window left and missed it, a seat
        no-show (fault campaign, ``worker-killed-commit-restarted`` seed 3904, six stacks). The
        hold's end had then cancelled a reveal under way, with 30-40 s of its window left, and the
        duty that took it up came too late (``worker-killed-reveal-restarted`` seed 3926, at load
        19 on two cores)."""
        running = {task for task in self._saving.values() if not task.done()}
        if not running:  # a start (else the loop started again: the same reveals, under way)
            self._opening = {int(key.split(":")[1]) for key in self.duties.undone("seat:")}
            self._saving = {b: self._open_seat(b, self._opening) for b in self._opening}
            running = set(self._saving.values())
        if running:  # the hold ends the wait, not the reveals
            _, pending = await asyncio.wait(
                running, timeout=max(0.0, self._hold_until - time.monotonic())
            )
            if pending:
                log.info(
                    "committee: the saved seats' reveals go on past the backlog's hold "
                    "(batches %s)",
                    ", ".join(str(b) for b in sorted(self._opening, reverse=True)),
                )
        return self._opening

    def _late_task(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """``work`` as a task beside the log loop, cancelled by :meth:`close`."""
        task = asyncio.create_task(work, name=name)
        self._late.add(task)
        task.add_done_callback(self._late.discard)
        return task

    def _open_seat(self, batch_id: int, opening: set[int]) -> asyncio.Task[None]:
        """A task that reveals the seat saved for ``batch_id`` (:meth:`_reveal_saved`) and takes
        it out of ``opening`` once nothing is left to open; cancelled by :meth:`close`. Each
        seat has its own: a seat in its reveal phase does not wait behind another's receipt, and
        a seat still in Commit ends its task at once (its duty reveals it)."""

        async def reveal() -> None:
            try:
                if await self._reveal_saved(batch_id):
                    opening.discard(batch_id)
            except Exception as exc:  # its duty takes it up; the start goes on
                log.info(
                    "committee: batch %d: the saved seat's reveal: %r; its duty takes it up",
                    batch_id,
                    exc,
                )

        return self._late_task(reveal(), f"batch {batch_id}: saved seat's reveal")

    async def _reveal_saved(self, batch_id: int) -> bool:
        """Reveals the seat saved for ``batch_id`` if its batch is in its reveal phase; True when
        nothing is left to open (revealed now, the phase past, no commitment of this seat's on
        the chain, or no such batch on the chain), False while the batch is still before its
        reveal phase. A seat with nothing left to open is marked so (its saved vector stays:
        a duty that a reorg brings back reads it as before)."""
        key = seat_key(batch_id)
        saved = self.duties.get(key)
        if saved is None:
            return True
        phase = await self.view.phase_of(batch_id)
        if phase in (_AWAITING, _COMMIT):
            return False
        if phase in (_SETTLE, _FINALIZED, _CLOSED, _EXPIRED):
            self.duties.mark(key)
            log.info(
                "committee: batch %d: the seat saved before the restart is past its reveal "
                "phase (phase %d): nothing to reveal",
                batch_id,
                phase,
            )
            return True
        if phase != _REVEAL:
            return True  # not on the chain (a post a reorg dropped): its duty, if it comes back
        vector, salt = self._unpacked(saved)
        if await self.view.vote_of(batch_id, self.address) != self._commitment(
            batch_id, vector, salt
        ):
            self.duties.mark(key)  # revealed already, or no commitment of this seat's to open
            return True
        listed = await self.view.holder_list(batch_id)
        await self._send("reveal", batch_id, vector_hash(vector), salt, vector, listed)
        self.duties.mark(key)
        log.info("committee: batch %d: revealed the seat committed before the restart", batch_id)
        return True

    async def _behind_backlog(self, batch_id: int) -> None:
        """Waits until the seats this worker committed before a restart and whose batches are in
        their reveal phase are revealed, at most until :data:`_BACKLOG_HOLD` seconds after the
        start. A restarted worker finds every batch
        of its last 1,000 blocks posted and starts all their duties at once: under load, the one
        seat that only had to open its saved commitment reached the chain after its reveal
        deadline, a seat no-show (``worker-killed-commit-restarted`` seed 2402)."""
        wait = self._hold_until - time.monotonic()
        if wait > 0 and not self._opened_all.is_set():
            log.info(
                "committee: batch %d: waits for the saved seats' reveals (%s)",
                batch_id,
                ", ".join(str(b) for b in sorted(self._opening)),
            )
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._opened_all.wait(), wait)

    async def _sweep_claims(self) -> None:
        """Claims seat pay owed from before this start (Accountability.sweep_claims); a chain
        that does not answer now is asked again in a minute."""
        while True:
            try:
                await self.accountability.sweep_claims()
                return
            except (ChainUnavailable, RpcError, ValueError) as exc:
                log.info("committee: seat pay sweep: %s; again in 60 s", exc)
                await asyncio.sleep(60.0)

    async def close(self) -> None:
        self._closing = True  # a late input's task that ends now starts no queued one
        self._late_queue.clear()
        late = list(self._late)
        for task in [*self.tasks.values(), *late]:
            task.cancel()
        await asyncio.gather(*self.tasks.values(), *late, return_exceptions=True)
        await self.accountability.close()
        await self.http.aclose()
        if self._own_heads and self._heads is not None:
            await self._heads.aclose()

    # ---- one batch -------------------------------------------------------------------------

    async def _duty(self, batch_id: int, posted_log: dict[str, Any], held: bool = False) -> None:
        # A node restart or a dropped connection mid-duty (ChainUnavailable) resumes the duty
        # where it stood, as a worker restart does (what it committed is in its duty record),
        # instead of leaving the batch's seat unopened. A duty ends only with its batch (passes
        # done, or Finalized, Closed or Expired): one that hit a limit below logs it once and
        # follows the batch every _SLOW seconds, as a later draw's holders must commit (a duty
        # that ended after six refused seatings left the reseeded draw's seats no-shows).
        if held:
            await self._behind_backlog(batch_id)
        elif (saving := self._saving.get(batch_id)) is not None and not saving.done():
            await asyncio.wait({saving})  # its saved seat's reveal, under way
        reseated = failures = resumes = 0
        slow = False  # a limit was hit: passes every _SLOW seconds
        while True:
            try:
                if slow:
                    await asyncio.sleep(_SLOW)
                redrawn = await self.duty(batch_id, posted_log)
                # a reorg that dropped the seat draw, or a seating the chain refused, puts the
                # batch back to Awaiting: the seats are drawn again (maybe others), so the duty
                # starts again
                if redrawn or await self._reseated(batch_id):
                    reseated += 1
                    if reseated > _AGAIN:
                        await self._seating_refused(batch_id, reseated)
                        reseated = 0
                    continue
                return
            except asyncio.CancelledError:
                raise
            except (ChainUnavailable, TransactionReverted) as exc:
                # a view call the node failed without a revert (anvil mid-reorg: "block height is
                # 43 but requested was 45") is the chain being unavailable for a moment, too
                transient = isinstance(exc, ChainUnavailable) or (
                    isinstance(exc.__cause__, RpcError) and not exc.__cause__.data
                )
                if not transient:
                    if await self._reseated(batch_id):
                        reseated += 1  # e.g. WrongPhase at commit: the seat draw was dropped
                        if reseated > _AGAIN:
                            await self._seating_refused(batch_id, reseated)
                            reseated = 0
                        continue
                    if not await self._goes_on(batch_id, slow, "a step reverted"):
                        return
                    slow = True
                    continue
                resumes += 1
                if resumes > _RESUMES:
                    if not await self._goes_on(batch_id, slow, "the chain unavailable"):
                        return
                    slow = True
                    continue
                log.warning("committee: batch %d: chain unavailable (%s); resuming", batch_id, exc)
                await asyncio.sleep(max(self.poll, 1.0))
            except Exception:
                # Something the chain showed for a moment and then not (a transaction a reorg
                # dropped between two reads: "'NoneType' object is not subscriptable") ended the
                # duty, and the honest seat was slashed as a no-show (reorg-shallow seed 11). The
                # duty is idempotent (it reads the chain and its duty record): resume it.
                failures += 1
                if failures > _FAILURES:
                    if not await self._goes_on(batch_id, slow, "errors"):
                        return
                    slow = True
                    continue
                log.exception("committee: batch %d; resuming", batch_id)
                await asyncio.sleep(max(self.poll, 1.0))

    async def _goes_on(self, batch_id: int, slow: bool, why: str) -> bool:
        """Whether a duty that hit a limit (``why``) follows its batch on (every :data:`_SLOW`
        seconds): unless the batch is Finalized, Closed or Expired. Logged with the error once
        (``slow``: it was already)."""
        try:
            ended = await self.view.phase_of(batch_id) in (_FINALIZED, _CLOSED, _EXPIRED)
        except (TransactionReverted, ChainUnavailable, RpcError):
            ended = False  # not known: followed on
        if ended:
            log.exception("committee: batch %d: giving up (%s)", batch_id, why)
        elif not slow:
            log.exception(
                "committee: batch %d: %s past its limit; following it every %.0f s until it is "
                "finalized, closed or expired",
                batch_id,
                why,
                _SLOW,
            )
        else:
            log.debug("committee: batch %d: %s again", batch_id, why, exc_info=True)
        return not ended

    async def _seating_refused(self, batch_id: int, times: int) -> None:
        """The batch went back to Awaiting ``times`` times in a row under this duty (its seating
        refused: a seed header the chain does not prove, or seat draws dropped by reorgs): this
        worker stops seating it with ``seatAndCommit`` for this seed block and waits as a worker
        without a seat does (:meth:`_await_seated`: ``seat`` after the grace, a reseed once the
        seed block's hash is out of reach, or expiry), logged once. A reseed's new draw is served
        again."""
        seed_block = int((await self.book.batch(batch_id))["seedBlock"])
        if self._refused.get(batch_id) != seed_block:
            log.warning(
                "committee: batch %d: its seating with seed block %d was refused %d times; "
                "waiting for it to be seated, reseeded or expired",
                batch_id,
                seed_block,
                times,
            )
            self._refused[batch_id] = seed_block
        await asyncio.sleep(max(self.poll, 1.0))

    async def _await_transaction(self, tx_hash: str) -> dict[str, Any]:
        """The post's transaction (read once: its calldata holds the leaves). A node mid-reorg
        may not show it for a moment: wait a little."""
        for _ in range(20):
            tx = await self.view.rpc.call("eth_getTransactionByHash", [tx_hash])
            if tx is not None:
                return dict(tx)
            await asyncio.sleep(0.5)
        raise LookupError(f"post transaction {tx_hash} not found (dropped by a reorg?)")

    async def _reseated(self, batch_id: int) -> bool:
        """True when ``batch_id`` is back in its Awaiting phase (a reorg dropped its seat draw:
        the seats are drawn again, maybe others) and its duty should start again."""
        with contextlib.suppress(TransactionReverted, ChainUnavailable, RpcError):
            if await self.view.phase_of(batch_id) == _AWAITING:
                log.warning("committee: batch %d awaits its seats again (reorg)", batch_id)
                return True
        return False

    async def leaves_of(self, batch_id: int) -> tuple[str, list[Leaf]]:
        """A batch's gateway and leaves, read once from its post's calldata (the post's
        transaction as the log loop saw it, else found with ``eth_getLogs`` near its seed block or
        in the blocks of its ``postedAt`` time, as a restarted worker's tier vote or challenge
        meets an old batch: :meth:`_find_post`)."""
        cached = self._batches.get(batch_id)
        if cached is None:
            tx_hash = self._post_tx.get(batch_id)
            batch = await self.book.batch(batch_id)
            post_block = self._from_block
            if tx_hash is None:
                seed = int(batch.get("seedBlock") or 0)
                posted_at = int(batch.get("postedAt") or 0)
                found = await self._find_post(batch_id, seed, posted_at)
                if found is None:
                    raise LookupError(
                        f"batch {batch_id}'s post not found (seed block {seed}, posted at "
                        f"{posted_at}: none when the chain records no such batch)"
                    )
                tx_hash, post_block = found
            try:
                tx = await self._await_transaction(tx_hash)
                if tx.get("blockNumber") is not None:
                    post_block = int(tx["blockNumber"], 16)
                leaves = await self.view.posted_leaves(tx_hash, tx)
            except ValueError:  # not a postBatch/postOrphans call: a contract's single request?
                # its SingleRequested log is in the post's block (an old one too)
                single = await single_request(self.view, batch_id, post_block, post_block)
                if single is None:
                    raise
                self.singles[batch_id] = single
                leaves = [single.leaf]
            cached = self._batches[batch_id] = (str(batch["gateway"]), leaves)
            self._carried(batch_id, post_block, *cached)
            task = self.tasks.get(batch_id)
            if task is None or task.done():  # a vote after the duty ended: keep no record for it
                self.book.forget(batch_id)
        return cached

    def _carried(self, batch_id: int, block: int, gateway: str, leaves: list[Leaf]) -> None:
        """Marks the tickets this worker attested that the batch carries as posted: the cheque
        rounds then never ask the chain about them (an ``isSeqPosted`` call per attested ticket,
        the largest share of a worker's calls under load). The marks of a post in the last
        :data:`_CARRIED_BLOCKS` blocks (``block``) are remembered: a reorg that drops the post
        undoes them (:meth:`_uncarry`)."""
        if batch_id in self.singles:
            return  # a contract's single request: no ticket of a gateway
        marked = []
        for leaf in leaves:
            kept = self.ledger.get(gateway, leaf.seq)
            if kept is not None and kept.state == ATTESTED:
                self.ledger.mark_posted(gateway, leaf.seq, batch_id)
                marked.append(leaf.seq)
        for old in [
            b for b, (at, _, _) in self._carried_in.items() if at < block - _CARRIED_BLOCKS
        ]:
            del self._carried_in[old]
        if marked:
            self._carried_in[batch_id] = (block, gateway, marked)

    def _uncarry(self, batch_id: int | None = None, *, since: int | None = None) -> None:
        """The marks :meth:`_carried` made undone (the tickets attested and unposted again: an
        attester posts them as orphans unless a batch carries them again) for ``batch_id`` (its
        post moved: a reorg) or for every post in block ``since`` or later (a reorg replaced
        those blocks)."""
        for carried, (block, gateway, seqs) in list(self._carried_in.items()):
            if carried == batch_id or (since is not None and block >= since):
                del self._carried_in[carried]
                undone = sum(self.ledger.unmark(gateway, seq, carried) for seq in seqs)
                if undone:
                    log.warning(
                        "committee: batch %d's post dropped by a reorg: %d ticket(s) unposted",
                        carried,
                        undone,
                    )

    async def _find_post(self, batch_id: int, seed: int, posted_at: int) -> tuple[str, int] | None:
        """(transaction hash, block) of ``batch_id``'s ``BatchPosted`` log, asked for in ranges of
        at most ``_LOG_RANGE`` blocks (what RPC providers answer): first the range ending at its
        seed block ``seed`` (the post is a few blocks before it unless a reseed moved it), then
        the blocks whose timestamp is the batch's ``posted_at`` (found by bisecting the blocks'
        timestamps: about twice log2 of the head's number header reads, whatever the chain's
        length or the seed's). None at once when the chain records no such batch (``posted_at``
        zero): nothing is scanned."""
        if posted_at <= 0:
            return None
        head = await self.view.block_number()
        ranges: list[tuple[int, int]] = []
        if seed > 0:
            top = min(seed, head)  # a seed block still to come: no range past the head
            ranges.append((max(0, top - _LOG_RANGE + 1), top))
        for start, end in ranges:
            found = await self._post_log(batch_id, start, end)
            if found is not None:
                return found
        first = await self._first_block_at(posted_at, head)
        last = await self._first_block_at(posted_at + 1, head) - 1
        for start in range(first, last + 1, _LOG_RANGE):
            found = await self._post_log(batch_id, start, min(last, start + _LOG_RANGE - 1))
            if found is not None:
                return found
        return None

    async def _post_log(self, batch_id: int, start: int, end: int) -> tuple[str, int] | None:
        posted = await self.view.logs("BatchPosted", start, to_block=end, batch_id=batch_id)
        if not posted:
            return None
        return str(posted[0][0]["transactionHash"]), int(posted[0][0]["blockNumber"], 16)

    async def _first_block_at(self, timestamp: int, head: int) -> int:
        """The first block up to ``head`` whose timestamp is at least ``timestamp`` (``head + 1``
        when none), by bisection (block timestamps never decrease)."""
        low, high = 0, head + 1
        while low < high:
            middle = (low + high) // 2
            block = await self.view.rpc.call("eth_getBlockByNumber", [hex(middle), False])
            if int(block["timestamp"], 16) >= timestamp:
                high = middle
            else:
                low = middle + 1
        return low

    async def leaf_result(self, batch_id: int, index: int) -> bytes:
        """This worker's result hash for one leaf (a tier-2 or tier-3 vote)."""
        gateway, leaves = await self.leaves_of(batch_id)
        return await self._result(batch_id, gateway, index, leaves[index], leaves)

    async def duty(self, batch_id: int, posted_log: dict[str, Any]) -> bool:
        """One pass of the batch's duty; True when its seats were drawn again (a reorg) and the
        duty should start again with the new draw."""
        phase, draw = await self._await_seated(batch_id)
        holders = draw.holders if draw is not None else (await self.view.holders_of(batch_id))[0]
        if draw is None and phase in (_COMMIT, _REVEAL) and not holders:
            # seated when the batch was read, unseated on the chain a moment later: a reorg that
            # took the seating away between the two reads. The duty starts again (taken for "not
            # a holder", it ended, and a holder of the same draw was slashed as a no-show once
            # another seat seated it again: reorg-shallow seed 1220)
            log.info(
                "committee: batch %d: its seating gone from the chain (reorg?); again", batch_id
            )
            await asyncio.sleep(max(self.poll, 1.0))
            return True
        if (draw is None and phase not in (_COMMIT, _REVEAL)) or self.address not in holders:
            self._opened(batch_id)  # no seat of this worker's to open
            if await self._finalize_when_due(batch_id):
                return True  # its seats may be drawn again, with one of this worker's
            await self._after_seats(batch_id, None)
            return False
        gateway, leaves = await self.leaves_of(batch_id)
        key = seat_key(batch_id)
        saved = self.duties.get(key)
        reveal = True
        vote = await self.view.vote_of(batch_id, self.address) if saved is not None else bytes(32)
        if saved is not None and vote != bytes(32):
            vector, salt = self._unpacked(saved)  # committed before a restart: reveal that
            if phase != _REVEAL or vote != self._commitment(batch_id, vector, salt):
                self._opened(batch_id)  # nothing to reveal now (in Commit, or revealed already)
        else:
            self._opened(batch_id)  # its commitment not on the chain: no reveal to hurry
            batch = await self.book.batch(batch_id)
            audit = (
                draw.audit_mask(batch, int((await self.view.params())["auditBps"]))
                if draw is not None
                else int(batch["auditMask"])
            )
            if draw is not None:
                self._unseated[batch_id] = draw.header
            try:
                vector = await self._vector(batch_id, gateway, leaves, audit)
            finally:
                self._unseated.pop(batch_id, None)
            if self.ballot is not None:
                ballot = await self.ballot(
                    await self._seat_context(batch_id, gateway, leaves, vector, draw)
                )
                vector, reveal = list(ballot.vector), ballot.reveal
            kept = self._unpacked(saved) if saved is not None else None
            if kept is not None and kept[0] == vector:
                # the same vote as the one saved: its salt kept, the same commitment (one sent
                # before may yet land, or a read from an older state missed it: with a new salt
                # the seat could not open the commitment that stands, a no-show)
                salt = kept[1]
            else:
                salt = os.urandom(32)
                self.duties.save(key, b"".join(vector), salt)  # before the commitment goes out
            self.seats_served += 1
        header = draw.header if draw is not None else None
        listed = draw.holder_list if draw is not None else await self.view.holder_list(batch_id)
        phase = await self._settle_seat(batch_id, vector, salt, reveal, header, listed)
        self._drop_late_queue(batch_id)  # the batch left its committee phase
        if phase in (_FINALIZED, _CLOSED):
            await self._after_seats(batch_id, vector if reveal else None)
        return phase == _REDRAWN

    async def _after_seats(self, batch_id: int, own_vector: list[bytes] | None) -> None:
        """The batch's accountability duties (:meth:`Accountability.on_batch`), the seat loop
        done: a reorg that reopens the batch meanwhile starts its duty again (:meth:`_unsettled`)."""
        self._past_seats.add(batch_id)
        try:
            await self.accountability.on_batch(batch_id, own_vector)
        finally:
            self._past_seats.discard(batch_id)

    async def _vector(
        self, batch_id: int, gateway: str, leaves: list[Leaf], audit: int
    ) -> list[bytes]:
        """This seat's results for the leaves ``audit`` names (``ABSTAIN`` on the others), ready
        before the batch's commit window closes.

        The leaves run one after the other until :func:`commit_margin` seconds before the commit
        deadline (by the chain's clock: :meth:`_clock_lead`); the leaves not run by
        then are ``ABSTAIN`` (an abstention is a valid value, never slashed; a seat that does not
        commit is a no-show, slashed). A batch not seated yet has no deadline: its commit window
        starts when a holder seats it with its commitment (or anyone after ``seat_grace``), so the
        deadline is read again every second until it is set. The leaf in flight at the cutoff
        finishes in the background (a data-availability challenge it opened is seen through: the
        gateway pays) and its result is dropped."""
        todo = [i for i in range(len(leaves)) if audit >> i & 1]
        vector = [ABSTAIN] * len(leaves)
        ran: set[int] = set()
        cutoff = asyncio.Event()

        async def run_leaves() -> None:
            for i in todo:
                if cutoff.is_set():
                    return
                result = await self._result(batch_id, gateway, i, leaves[i], leaves)
                if not cutoff.is_set():
                    vector[i] = result
                    ran.add(i)

        task = asyncio.create_task(run_leaves(), name=f"batch {batch_id} leaves")
        margin, window, ahead = 0.0, 0, 0.0
        try:
            while True:
                deadline = int((await self.book.batch(batch_id)).get("commitDeadline") or 0)
                wait = _DEADLINE_RECHECK  # not seated yet: no window runs
                if deadline:
                    if not window:
                        window = int((await self.view.params())["commitWindow"])
                        margin = commit_margin(window)
                        # the chain's clock against this worker's, ahead or behind (read once):
                        # both the input deadline and the cutoff below are judged by it
                        ahead = await self._clock_lead()
                        early = input_margin(window)
                        self._input_by[batch_id] = (deadline - early - ahead, early)
                    wait = deadline - margin - (self.clock() + ahead)
                    if wait <= 0 and not task.done():
                        break
                done, _ = await asyncio.wait({task}, timeout=max(0.0, wait))
                if task in done:
                    task.result()  # what failed a leaf fails the duty (it resumes), as before
                    return vector
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            self._input_by.pop(batch_id, None)
        cutoff.set()
        chosen = list(vector)
        self._late.add(task)
        task.add_done_callback(self._late_done)
        log.warning(
            "committee: batch %d: %d of %d audited leaves not run %.0f s before the commit "
            "deadline (margin %.0f s of the chain's %d s commit window): committed as abstentions",
            batch_id,
            len(todo) - len(ran),
            len(todo),
            margin,
            margin,
            window,
        )
        return chosen

    async def _clock_lead(self) -> float:
        """Seconds the chain's clock runs ahead of this worker's (:func:`chain_lead`)."""
        return await chain_lead(self.view, self.clock)

    def _late_done(self, task: asyncio.Future[Any]) -> None:
        self._late.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("committee: a leaf run past its commit cutoff failed: %r", task.exception())

    async def _seat_context(
        self,
        batch_id: int,
        gateway: str,
        leaves: list[Leaf],
        vector: list[bytes],
        draw: SeatDraw | None = None,
    ) -> SeatContext:
        seats: dict[str, int] = {}
        if draw is not None:  # not seated yet: the seats its seed draws
            for holder in draw.seats:
                seats[holder.lower()] = seats.get(holder.lower(), 0) + 1
        else:
            holders, counts = await self.view.holders_of(batch_id)
            for holder, count in zip(holders, counts, strict=True):
                seats[str(holder).lower()] = seats.get(str(holder).lower(), 0) + int(count)
        return SeatContext(
            batch_id=batch_id,
            request_ids=tuple(
                request_id(self.chain_id, self.settlement, gateway, leaf.seq) for leaf in leaves
            ),
            vector=tuple(vector),
            seats=seats,
            quorum=int((await self.view.params())["quorum"]),
        )

    async def _settle_seat(
        self,
        batch_id: int,
        vector: list[bytes],
        salt: bytes,
        reveal: bool = True,
        header: bytes | None = None,
        holders: list[int] | None = None,
    ) -> int:
        """Commits, reveals and finalizes one seat's vector as the chain's state asks, and keeps
        doing so until the batch leaves its Commit, Reveal and Settle phases; returns the phase
        it left them for.

        Each round reads the phase and this seat's vote and sends what is missing: a reorg can
        drop a commitment or a reveal, or put the batch back from Reveal to Commit (another
        holder's commitment dropped with it), at any point and more than once; the seat sends
        the same commitment (the vector and salt it saved) and the same reveal again. A batch
        back in its Awaiting phase (the seat draw dropped), or seated again without this worker,
        returns ``_REDRAWN``: the duty starts again with the new draw (:meth:`_duty`). Given the
        seed block's ``header``, a batch nobody seated yet is seated with this seat's commitment
        (``seatAndCommit``); if that is refused (a reorg changed the seed block), the duty starts
        again from the chain's new header. A seat
        whose strategy withholds its reveal (``reveal`` false) commits and never reveals; on a
        devnet that mines on transactions it mines once the reveal deadline passed by the wall
        clock and not by the chain's (a withheld reveal ends its window by time). ``holders`` is
        the batch's holder list (its draw's before seating), which each call takes back."""
        listed = holders if holders is not None else await self.view.holder_list(batch_id)
        commitment = self._commitment(batch_id, vector, salt)
        vhash = vector_hash(vector)
        key = seat_key(batch_id)
        sent: dict[str, int] = {"commit": 0, "reveal": 0}
        last: dict[str, float] = {"commit": 0.0, "reveal": 0.0}
        # the vote is read when the phase or the batch's record changed, else every _VOTE_RECHECK
        # (a round that still waits for a resend is not skipped)
        seen, seen_record, read_at, waiting = -1, None, 0.0, False
        late = False
        clock_read: dict[int, float] = {}  # :meth:`_end_reveal_window`'s next read, by deadline
        while True:
            record = await self.book.batch(batch_id)
            phase = await self.book.phase(batch_id)
            # once this seat sent a step, its vote is read every _RECHECK: a reorg the log loop
            # did not see (the block replaced within one tick) may have dropped the transaction,
            # and a resend after _VOTE_RECHECK could miss the deadline (a no-show slash)
            recheck = _RECHECK if sent["commit"] or sent["reveal"] else _VOTE_RECHECK
            fresh = time.monotonic() - read_at < recheck
            unchanged = phase == seen and record is seen_record and fresh and not waiting
            if phase in (_COMMIT, _REVEAL) and unchanged:
                await self._end_reveal_window(phase, record, clock_read)
                await asyncio.sleep(self.poll)
                continue
            seen, seen_record, waiting = phase, record, False
            if phase == _SETTLE:
                vectors = await self.view.revealed_vectors(batch_id, self._from_block)
                with contextlib.suppress(TransactionReverted):
                    await self._send("finalize", batch_id, list(vectors.values()), listed)
            elif phase == _AWAITING and (header is None or sent["commit"] > _AGAIN):
                return _REDRAWN  # the seat draw was dropped: the duty starts again
            elif phase not in (_AWAITING, _COMMIT, _REVEAL):
                return phase
            else:
                seating = phase == _AWAITING  # this seat's commitment seats the batch
                vote = bytes(32) if seating else await self.view.vote_of(batch_id, self.address)
                read_at = time.monotonic()
                if not seating and vote == bytes(32) and sent["commit"]:
                    # this seat's commitment is gone from the chain (a reorg the log loop did not
                    # see): the record the phase came from is stale too, read it again
                    self.book.touch(batch_id)
                step = (
                    "commit"
                    if phase in (_AWAITING, _COMMIT) and vote == bytes(32)
                    else "reveal"
                    if phase == _REVEAL and vote == commitment and reveal
                    else None
                )
                if phase == _REVEAL and vote == bytes(32) and not late:
                    late = True  # its vector was ready only after the commit window closed
                    log.warning(
                        "committee: batch %d: the commit window closed before this seat "
                        "committed (a no-show)",
                        batch_id,
                    )
                due = step is not None and (
                    sent[step] == 0
                    or (sent[step] <= _AGAIN and time.monotonic() - last[step] >= _RECHECK)
                )
                waiting = step is not None and not due and sent[step] <= _AGAIN
                if step is not None and due:
                    if sent[step]:
                        log.warning("committee: batch %d: %s gone (reorg?); again", batch_id, step)
                    sent[step] += 1
                    last[step] = time.monotonic()
                    try:
                        if step == "commit" and seating:
                            await self._send("seatAndCommit", batch_id, header, commitment, listed)
                        elif step == "commit":
                            await self._send("commit", batch_id, commitment, listed)
                        else:
                            await self._send("reveal", batch_id, vhash, salt, vector, listed)
                            self.duties.mark(key)
                            self._opened(batch_id)
                    except TransactionReverted as exc:  # the phase moved meanwhile: read again
                        log.info("committee: batch %d: %s reverted (%s)", batch_id, step, exc)
                        self.reverted[step] = self.reverted.get(step, 0) + 1
                        seen_record = None  # read the record and the vote again
                        if seating and await self.view.phase_of(batch_id) == _AWAITING:
                            return _REDRAWN  # its header or draw is stale (a reorg): again
                        seated, counts = await self.view.holders_of(batch_id, fresh=True)
                        if self.address not in seated:
                            return _REDRAWN  # seats drawn again without this worker
                        listed = holder_words(seated, counts)  # as seated (a reorg may redraw)
                if phase == _REVEAL and not reveal and not self.duties.done(key):
                    self.duties.mark(key)  # withheld by this worker's strategy
                    self._opened(batch_id)
            await self._end_reveal_window(phase, record, clock_read)
            await asyncio.sleep(self.poll)

    async def _end_reveal_window(
        self, phase: int, record: dict[str, Any], clock_read: dict[int, float] | None = None
    ) -> None:
        """On a devnet that mines on transactions, mines a block once a batch's reveal deadline
        passed by the chain's clock and not by its head's timestamp (a withheld reveal ends its
        window by time; :func:`chain_clock`). ``clock_read`` holds, by deadline, the monotonic time
        before which the chain's clock cannot have passed it (learnt at its last read: it runs as
        fast as this machine's): a holder's duty reads it then, not at every round of the window
        (two calls a round, eight a second, for each holder of each batch in its reveal phase)."""
        if phase != _REVEAL or not self.mine_blocks:
            return
        deadline = int(record["revealDeadline"])
        if clock_read is not None and time.monotonic() < clock_read.get(deadline, 0.0):
            return
        head, now = await chain_clock(self.view)
        if now <= deadline + 1:
            if clock_read is not None:
                clock_read.clear()  # a deadline moved by a reorg is read afresh
                clock_read[deadline] = time.monotonic() + (deadline + 1 - now)
        elif head <= deadline:
            await self.view.rpc.call("anvil_mine", ["0x1"])
            self.book.mined()

    async def _commit(self, batch_id: int, vector: list[bytes], salt: bytes) -> None:
        commitment = self._commitment(batch_id, vector, salt)
        await self._send("commit", batch_id, commitment, await self.view.holder_list(batch_id))

    async def _finalize_when_due(self, batch_id: int) -> bool:
        """Anyone may finalize a batch in its Settle phase: one whose seat holders all failed to
        commit or reveal (a holder that could not get an input in time) would otherwise stay
        there with every leaf Pending.

        True, at once, when the batch's seats may have been drawn again meanwhile, maybe with one
        of this worker's: its seating changed (seed block, holder count or commit deadline), a
        vote it had is gone, this worker is among its holders as now kept, the batch is back
        awaiting its seats, or the committee's log loop read a reorg. The duty then starts again
        with the holders read afresh. A worker that waited on as one without a seat had its new
        seat slashed as a no-show: a reorg redrew the seats, and another seat seated the batch
        within the second, between two of its reads (``reorg-deep`` seed 3000)."""
        reorgs = self.reorgs
        seating = _seating(await self.book.batch(batch_id))
        while True:
            phase = await self.book.phase(batch_id)
            batch = await self.book.batch(batch_id)
            if phase == _AWAITING or self.reorgs != reorgs or _redrawn(seating, batch):
                log.info("committee: batch %d: its seats may be drawn again; read again", batch_id)
                self.view.forget_holders(batch_id)  # read afresh by the next pass
                return True
            if phase not in (_COMMIT, _REVEAL):
                break
            if self.address in (await self.view.holders_of(batch_id))[0]:  # kept: no call
                return True
            await asyncio.sleep(max(self.poll, 1.0))  # not its seat: no hurry
        if phase == _SETTLE:
            vectors = await self.view.revealed_vectors(batch_id, self._from_block)
            listed = await self.view.holder_list(batch_id)
            with contextlib.suppress(TransactionReverted):
                await self._send("finalize", batch_id, list(vectors.values()), listed)
        return False

    async def _await_seated(self, batch_id: int) -> tuple[int, SeatDraw | None]:
        """Waits until the batch is seated and returns its phase, or returns ``(_AWAITING, draw)``
        as soon as its seed block's draw gives this worker a seat (it seats the batch with its
        commitment). A worker without a seat sends ``seat`` itself only when no holder did within
        ``seat_grace`` seconds of the seed block (of the reseeded one after a reseed).

        Each draw read is checked against the chain first (the beacon's ``valueOf`` by
        ``eth_call``): a header the node serves that does not hash to the chain's ``BLOCKHASH``
        (anvil 1.7.1 after an ``anvil_reorg`` beside an ``anvil_mine``) seats nothing, and one
        that keeps failing, like a seed block the node does not serve, is taken for lost
        (:meth:`_seed_lost`). A holder whose seatings of this seed block were refused too often
        (:meth:`_seating_refused`) waits as a worker without a seat does."""
        since = (0, 0.0)  # (seed block, since when) no holder seated it, as this worker saw
        draw: SeatDraw | None = None
        # (seed block, when, reorgs seen) of ``draw``: read again after a reseed, a reorg (the
        # seed block's hash may have changed) or 10 s
        drawn = (0, 0.0, 0)
        missing = (0, 0.0)  # (seed block, since when) the node serves no seed block past its head
        refused = ""  # why the chain refuses the last draw's header ("": it does not)
        seat_logged = 0  # the seed block whose refused ``seat`` was logged
        lost_after = _SEED_LOST * (1.0 + random.random())
        while True:
            phase = await self.book.phase(batch_id)
            if phase != _AWAITING:
                self._rescue_at.pop(batch_id, None)
                return phase, None
            batch = await self.book.batch(batch_id)
            seed_block = int(batch["seedBlock"])
            head = (await self.book.current()).number
            if await self._rescue(batch_id, batch, head):
                continue
            if head + 1 - seed_block > _BLOCKHASH_REACH:  # no header can seat it: a reseed first
                await asyncio.sleep(max(self.poll, 1.0))
                continue
            if head >= seed_block:  # a seating transaction lands in a later block: hash known
                if (
                    draw is None
                    or drawn[0] != seed_block
                    or drawn[2] != self.reorgs
                    or time.monotonic() - drawn[1] > 10
                ):
                    draw = await self.view.seat_draw(batch_id, batch)  # (a reorg may change it)
                    drawn = (seed_block, time.monotonic(), self.reorgs)
                    refused = (
                        await self.view.header_refused(seed_block, draw.header)
                        if draw is not None
                        else ""
                    )
                if draw is None or refused:  # gone or refused: the node is reorganizing, or lost
                    if missing[0] != seed_block:
                        missing = (seed_block, time.monotonic())
                        if refused:
                            log.info(
                                "committee: batch %d: the chain refuses seed block %d's header "
                                "(%s)",
                                batch_id,
                                seed_block,
                                refused,
                            )
                    if time.monotonic() - missing[1] > lost_after:
                        await self._seed_lost(batch_id, seed_block, head, refused)
                        missing = (seed_block, float("inf"))  # once per seed block
                    draw = None  # read again
                    await asyncio.sleep(max(self.poll, 1.0) if refused else self.poll)
                    continue
                missing = (0, 0.0)
                if draw.holds(self.address) and self._refused.get(batch_id) != seed_block:
                    return _AWAITING, draw
                if since[0] != seed_block:  # a reseed's new draw: its holders get the grace too
                    since = (seed_block, time.monotonic())
                # well inside the seat window, or the batch would expire instead of seating
                grace = min(self.seat_grace, int((await self.view.params())["seatWindow"]) / 4)
                if time.monotonic() - since[1] >= grace:
                    log.info("committee: batch %d: no holder seated it; seating it", batch_id)
                    try:
                        await self._send("seat", batch_id, draw.header)
                    except TransactionReverted as exc:
                        if seat_logged != seed_block:  # once per seed block: it is tried again
                            seat_logged = seed_block
                            log.warning("committee: batch %d: seat refused (%s)", batch_id, exc)
                        draw = None  # read and checked again
                    since = (seed_block, time.monotonic())
                    continue
                await asyncio.sleep(max(self.poll, 1.0))  # not its seat: no hurry
                continue
            if self.mine_blocks:
                if await self._blocks_stalled(head):
                    await self.view.rpc.call("anvil_mine", [hex(seed_block - head)])
                    self.book.mined()  # else the next round sees the old head and mines again
                continue
            await asyncio.sleep(self.poll)

    async def _blocks_stalled(self, number: int) -> bool:
        """Whether a devnet that mines on transactions made no block past ``number`` for a
        quiet spell (:func:`quiet_spell`): only then are blocks mined for a seed. While calls
        come, every post, commit and reveal is a block anyway, and blocks mined on top were
        blocks more for every process following the chain to read."""
        head = await self.heads.latest()
        if head.number > number:  # blocks came that the batch book has not seen yet
            await asyncio.sleep(self.poll)
            return False
        block = await self.heads.next(head.hash, quiet_spell())
        return block.number <= number

    async def _seed_lost(
        self, batch_id: int, seed_block: int, head: int, refused: str = ""
    ) -> None:
        """The node has served no seed block (or, ``refused``: only a header the chain's
        ``BLOCKHASH`` refuses) for longer than a reorg takes, though its head is past it: the
        block is lost (anvil 1.7.1 loses the blocks ``anvil_reorg`` makes when an ``anvil_mine``
        runs beside it: their numbers and hashes answer nothing, or another header, while its
        ``BLOCKHASH`` still gives their hashes). No header can seat the batch then, and the
        contract takes a reseed only once the block's hash left ``BLOCKHASH``'s reach: on a devnet
        that mines on transactions the blocks that take it there are mined now (one
        ``anvil_mine``, one timestamp: no deadline moves) and the next round reseeds
        (:meth:`_rescue`); elsewhere the batch waits for them, or for its seat window's end (a
        live chain's node serves the right header again once it caught up with a reorg)."""
        log.warning(
            "committee: batch %d: the node serves %s though its head is %d (lost by a reorg?); it "
            "can be reseeded only once the block's hash is out of BLOCKHASH's reach%s",
            batch_id,
            f"only a header the chain refuses ({refused}) for seed block {seed_block}"
            if refused
            else f"no seed block {seed_block}",
            head,
            ": mining the blocks to it" if self.mine_blocks else "",
        )
        if self.mine_blocks and seed_block + _BLOCKHASH_REACH > head:
            await self.view.rpc.call("anvil_mine", [hex(seed_block + _BLOCKHASH_REACH - head)])
            self.book.mined()
            self._rescue_at.pop(batch_id, None)  # the next round sends the reseed

    async def _rescue(self, batch_id: int, batch: dict[str, Any], head: int) -> bool:
        """Sends what an unseated batch needs when it can no longer be seated as posted: ``expire``
        once its seat window has passed (the contract refunds its rewards to the project), or
        ``reseed`` once its seed block's hash is out of ``BLOCKHASH``'s reach (no header proof
        can seat it: the contract moves the seed block forward). Checked every few seconds per
        batch; True when a transaction was sent (the caller reads the batch again)."""
        now = time.monotonic()
        if now < self._rescue_at.get(batch_id, 0.0):
            return False
        self._rescue_at[batch_id] = now + _RESCUE_CHECK
        window = int((await self.view.params())["seatWindow"])
        # the chain's clock, as the contract judges it (a devnet's can run behind the wall clock)
        if await self.book.timestamp() > int(batch["postedAt"]) + window:
            step, why = "expire", f"not seated within its seat window ({window} s)"
        elif head + 1 - int(batch["seedBlock"]) > _BLOCKHASH_REACH:
            step, why = "reseed", "its seed block's hash is out of BLOCKHASH's reach"
        else:
            return False
        log.info("committee: batch %d: %s; sending %s", batch_id, why, step)
        try:
            await self._send(step, batch_id)
        except TransactionReverted as exc:  # someone else did it, or it was seated meanwhile
            log.info("committee: batch %d: %s reverted (%s)", batch_id, step, exc)
            self._rescue_at[batch_id] = time.monotonic() + _RESCUE_BACKOFF  # not every round
        return True

    async def _result(
        self, batch_id: int, gateway: str, index: int, leaf: Leaf, leaves: list[Leaf]
    ) -> bytes:
        single = self.singles.get(batch_id)  # a contract's request: never attested, no ticket
        mine = self.ledger.get(gateway, leaf.seq) if single is None else None
        if mine is not None and mine.result_hash is not None and Leaf.of(mine.ticket) == leaf:
            return mine.result_hash  # this worker ran this very ticket already: same result
        rid = request_id(self.chain_id, self.settlement, gateway, leaf.seq)
        if single is not None:
            data = single.input
        else:
            got = await self._first_input(gateway, leaf, rid)
            if got is None:
                # refused: asked again, then challenged, by the batch's input deadline, or an
                # abstention on this leaf while its fetch and any data-availability challenge go
                # on in the background (the commitment never waits for the challenge's
                # transactions or its window)
                def fallback() -> Awaitable[bytes | None]:
                    return self._fallback_input(batch_id, gateway, index, rid, leaves)

                if batch_id in self._late_inputs and self._input_due(batch_id):
                    self._late_queue.setdefault(batch_id, []).append(fallback)
                    log.warning(
                        "committee: batch %d leaf %d: input refused past the input deadline: an "
                        "abstention; obtained after the batch's other late input",
                        batch_id,
                        index,
                    )
                    return ABSTAIN
                obtaining = asyncio.ensure_future(fallback())
                got = await self._by_input_deadline(batch_id, index, obtaining)
            if got is None:
                return ABSTAIN  # voided (the gateway pays), no challenge opened, or too late
            data = got
        try:
            outcome = await self.runner.run(rid, gateway, leaf, data)
        except TransactionReverted:
            outcome = "reverted"
        if single is not None:  # this seat relays the settled result to the consumer later
            self.callbacks.remember(single, None if isinstance(outcome, str) else outcome[0])
        return ABSTAIN if isinstance(outcome, str) else result_hash(outcome[0])

    async def _by_input_deadline(
        self, batch_id: int, index: int, obtaining: asyncio.Future[bytes | None]
    ) -> bytes | None:
        """The input ``obtaining`` gets, or None once the batch's input deadline passed first
        (:attr:`_input_by`; none while the batch is not seated or its seat's duty is over: then
        its result is waited for); ``obtaining`` then goes on in the background."""
        early = 0.0
        try:
            while True:
                by = self._input_by.get(batch_id)
                left = _DEADLINE_RECHECK
                if by is not None:
                    early = by[1]
                    left = min(left, by[0] - self.clock())
                if left <= 0:
                    break
                done, _ = await asyncio.wait({obtaining}, timeout=left)
                if obtaining in done:
                    return obtaining.result()
        except asyncio.CancelledError:
            obtaining.cancel()
            raise
        self._in_background(batch_id, obtaining)
        log.warning(
            "committee: batch %d leaf %d: input not in hand %.0f s before the commit deadline: "
            "an abstention; its fetch and any data-availability challenge go on",
            batch_id,
            index,
            early,
        )
        return None

    def _input_due(self, batch_id: int) -> bool:
        """Whether the batch's input deadline (:attr:`_input_by`) has passed."""
        by = self._input_by.get(batch_id)
        return by is not None and by[0] <= self.clock()

    def _drop_late_queue(self, batch_id: int) -> None:
        """The batch left its committee phase (settled, closed, expired or drawn again) or its
        duty ended: the leaves queued behind its late input are not obtained (their seat
        committed them as abstentions; a court's vote fetches its own input). The input in
        flight goes on: a data-availability challenge it opened is seen through."""
        dropped = self._late_queue.pop(batch_id, [])
        if dropped:
            log.info(
                "committee: batch %d: left its committee phase; %d queued late input(s) dropped",
                batch_id,
                len(dropped),
            )

    def _in_background(self, batch_id: int, obtaining: asyncio.Future[Any]) -> None:
        """Lets ``obtaining`` (a leaf's input past the batch's input deadline) go on; once it is
        done, the next leaf queued behind it starts (:attr:`_late_queue`)."""
        self._late.add(obtaining)
        obtaining.add_done_callback(self._late_done)
        self._late_inputs[batch_id] = obtaining
        obtaining.add_done_callback(lambda done: self._next_late_input(batch_id, done))

    def _next_late_input(self, batch_id: int, done: asyncio.Future[Any]) -> None:
        if self._late_inputs.get(batch_id) is done:
            del self._late_inputs[batch_id]
        queue = self._late_queue.pop(batch_id, [])
        if done.cancelled() or self._closing or not queue:  # closing: the queue goes too
            return
        if queue[1:]:
            self._late_queue[batch_id] = queue[1:]
        self._in_background(batch_id, asyncio.ensure_future(queue[0]()))

    async def _first_input(self, gateway: str, leaf: Leaf, rid: bytes) -> bytes | None:
        """A leaf's input from its gateway, asked once, or rebuilt (a schedule key's); None when
        neither gave it."""
        data = await self._input(gateway, rid)
        if (data is None or input_hash_of(data) != leaf.input_hash) and self.scheduled:
            # a schedule key's ticket: its input is rebuilt from the leaf (nobody serves it)
            data = await self.scheduled.rebuild_input(gateway, leaf, rid)
        return data if data is not None and input_hash_of(data) == leaf.input_hash else None

    async def _fallback_input(
        self, batch_id: int, gateway: str, index: int, rid: bytes, leaves: list[Leaf]
    ) -> bytes | None:
        """A leaf's input its gateway refused once: asked again a few times before a challenge
        (a bond) says it is withheld, then published through a data-availability challenge;
        None when none came."""
        leaf = leaves[index]
        data = await fetch_input(
            lambda: self._input(gateway, rid),
            leaf.input_hash,
            retries=self.input_retries,
            backoff=self.input_backoff,
        )
        if data is None or input_hash_of(data) != leaf.input_hash:
            log.warning(
                "committee: batch %d leaf %d: input unavailable; challenging its availability",
                batch_id,
                index,
            )
            header = self._unseated.get(batch_id)
            if header is not None and await self.view.phase_of(batch_id) == _AWAITING:
                # a data challenge needs a seated batch: this holder seats it first
                with contextlib.suppress(TransactionReverted):
                    await self._send("seat", batch_id, header)
            data = await self.accountability.obtain_input(batch_id, index, leaves)
        return data

    async def _input(self, gateway: str, rid: bytes) -> bytes | None:
        base = self.gateway_urls().get(gateway.lower())
        if base is None:
            return None
        expires = int(time.time()) + 60
        signature = sign_digest(self._key, input_request_digest(gateway, rid, expires))
        try:
            response = await self.http.get(
                f"{base.rstrip('/')}{INPUT_PATH}/0x{rid.hex()}",
                headers={
                    INPUT_WORKER_HEADER: self.address,
                    INPUT_EXPIRES_HEADER: str(expires),
                    INPUT_SIGNATURE_HEADER: "0x" + signature.hex(),
                },
            )
        except httpx.HTTPError:
            return None
        return response.content if response.status_code == 200 else None

    async def _send(self, name: str, *args: Any) -> dict[str, Any]:
        try:
            tx = await self.view.send(name, *args)
            return await self.view.confirm(tx, name)
        finally:
            if args and isinstance(args[0], int):  # a batch's step: its record changed (or not)
                self.book.touch(args[0])

    async def withdraw(self) -> None:
        """Pulls this worker's credits (seats, attestations, cheque refunds)."""
        if await self.view.pending_withdrawal(self.address) > 0:
            with contextlib.suppress(TransactionReverted):
                await self._send("withdraw")
        await self.accountability.withdraw()

    # ---- cheques -------------------------------------------------------------------------------

    async def post_cheques(self) -> None:
        """Posts attested tickets no batch carried within ``orphan_grace`` (module docstring).
        After an outage of the chain the grace runs again from when it answered again: the
        gateway's poster could not post meanwhile either, and an honest gateway pays every
        orphan's refund from its bond; a ticket whose deadline comes within the grace is
        posted at once all the same."""
        now = int(self.clock())
        # the contract refuses orphans younger than its orphanDelay (a gateway's own batch first)
        grace = max(self.orphan_grace, int((await self.view.params()).get("orphanDelay", 0)))
        groups = self._cheques(now, now, grace)
        if groups:
            # and judges their age by its own clock: one behind this worker's (a devnet after a
            # reorg, a node whose clock lags) refused them (OrphanTooEarly), gas spent each round
            lead = await self._clock_lead()
            if lead < 0:
                groups = self._cheques(now, int(now + lead), grace)
        for tickets in groups.values():
            await self._post_orphans(tickets[:64])

    def _cheques(
        self, now: int, chain_now: int, grace: float
    ) -> dict[tuple[str, bytes, BatchHead], list[Any]]:
        """The unposted tickets due as cheques at ``now`` (this worker's clock) and ``chain_now``
        (the chain's), grouped as ``postOrphans`` requires its tickets to share (gateway,
        profile, head)."""
        back = now - self.reached_again < grace
        groups: dict[tuple[str, bytes, BatchHead], list[Any]] = {}
        for t in self.ledger.unposted():
            if t.ticket.deadline <= now + 5:
                continue  # too late to post
            if chain_now - t.ticket.issued_at < grace:
                continue
            if back and t.ticket.deadline > now + grace + 5:
                continue  # the chain just came back: the gateway's own batch first
            key = (t.ticket.gateway, t.ticket.engine_profile, BatchHead.of(Leaf.of(t.ticket)))
            groups.setdefault(key, []).append(t)
        return groups

    async def _post_orphans(self, tickets: list[Any]) -> None:
        # Every attester of a withheld ticket posts it, each the tickets it attested: when another
        # attester's post carried one of ours first, ours reverts (SeqAlreadyPosted) and the rest
        # is posted again at once rather than a cheque round later.
        for _ in range(3):
            fresh = await self._unposted(tickets)
            if not fresh:
                return
            structs = [t.ticket.as_tuple() for t in fresh]
            try:
                receipt = await self._send(
                    "postOrphans", structs, [t.signature for t in fresh], bytes(32)
                )
            except TransactionReverted as exc:
                if "SeqAlreadyPosted" in exc.reason:
                    continue
                log.warning("committee: posting %d withheld ticket(s) failed: %s", len(fresh), exc)
                return
            break
        else:
            return
        batch_id = 0
        for raw in receipt.get("logs", []):
            decoded = self.view.decode_log(raw)
            if decoded is not None and decoded[0] == "BatchPosted":
                batch_id = int(decoded[1]["batchId"])
        for t in fresh:
            self.ledger.mark_posted(t.ticket.gateway, t.ticket.seq, batch_id)
        # remembered as a carrying post's marks are: a reorg that drops this post undoes them
        # (else the tickets stayed posted in this ledger, and in the gateway's book that
        # recorded the orphans, with no post on the chain: never posted again, never paid)
        block = int(str(receipt.get("blockNumber") or "0x0"), 16)
        gateway = fresh[0].ticket.gateway  # one group: one gateway
        self._carried_in[batch_id] = (block, gateway, [t.ticket.seq for t in fresh])
        self.cheques_posted += len(fresh)
        log.info("committee: posted %d withheld ticket(s) as batch %d", len(fresh), batch_id)

    async def _unposted(self, tickets: list[Any]) -> list[Any]:
        """The tickets no batch carries yet (the others are marked posted in the ledger)."""
        fresh = []
        for t in tickets:
            if await self.view.is_seq_posted(t.ticket.gateway, t.ticket.seq):
                self.ledger.mark_posted(t.ticket.gateway, t.ticket.seq, 0)
            else:
                fresh.append(t)
        return fresh


def _seating(batch: dict[str, Any]) -> tuple[int, int, int, int]:
    """What a batch's seating is known by: its seed block, holder count, commit deadline and the
    bits of its holders' votes (a vote a reorg dropped takes its bit away)."""
    return (
        int(batch["seedBlock"]),
        int(batch["holderCount"]),
        int(batch["commitDeadline"]),
        int(batch["committedBits"]),
    )


def _redrawn(seen: tuple[int, int, int, int], batch: dict[str, Any]) -> bool:
    """Whether ``batch``'s seating is not the one ``seen`` (:func:`_seating`) any more: another
    seed block, holder count or commit deadline, or a vote gone."""
    now = _seating(batch)
    return now[:3] != seen[:3] or bool(seen[3] & ~now[3])
