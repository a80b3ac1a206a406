"""The batch poster: the gateway's signed tickets go on-chain in batches, once per block (or as
soon as ``batch_max_tickets`` wait), signed locally and sent in JSON-RPC batches. A tick's posts
are signed with consecutive nonces and sent together, then their receipts awaited together (one
JSON-RPC batch per poll): they share a block, and one that reverts loses none of the others.
Posting and following the posted batches (below) are two loops: a round of following reads every
posted batch and waits for co-signatures and its openings' receipts, and posting never waits for
it. On a chain that mines a block per transaction the posting loop's ``interval`` is the floor
between posts (each post brings its batch's seat, commits and reveals: blocks, and each block
the work of every process that follows the chain).

A ticket is posted once its attesters have answered (or left, or a few seconds passed): the batch
carries a commitment to the attested results (the result hash and attesters per leaf, salted),
never the results. Before the transaction is sent its hash, the tickets it carries and the
commitment's salt and opening are written to the ticket book; after a restart, tickets found
``posting`` are checked against the chain (mined: posted; failed or unknown: back to ``issued``),
so nothing is lost and nothing is posted twice. A post sent but whose receipt was not read in time
(a busy node) stays ``posting`` the same way and is reconciled on the next tick: it may be mined,
and its batch is then read from its receipt, by the input endpoint too (:meth:`BatchPoster.placed`).

A reorg can drop a batch the poster saw mined. Every tick the poster sends again what the chain
lost (the same signed bytes: :meth:`BatchSender.heal`) and re-reads the receipts of the batches it
posted in the last ``_REORG_BLOCKS`` blocks: one mined again is recorded under the batch id it got
this time; one gone for good (its nonce taken by another transaction) goes back to ``issued`` and
is posted anew. The contract refuses a seq posted twice (``SeqAlreadyPosted``): when it refuses a
batch, the tickets already on-chain (an attester posted them as orphans meanwhile, or an earlier
post of ours) are left out and the others posted again, so no ticket is posted twice.

Once a posted batch settles the poster tells the desk the final result of each ticket (``verified``
answers wait for it). Once its challenge window passed (no earlier: a request carries every leaf's
attested result, which a seat must not see while it could still commit or challenge) the poster asks
each attester its opening lists, over the job feed, to co-sign the batch (one batch attestation per
attester per batch, :mod:`peerhost.wire.batch`), checks each co-signature and keeps it in the ticket
book, and opens the attested results with them (the contract pays only attesters that co-signed and
whose results stood; one that never co-signs is not paid for that batch, its part goes back to the
payer). An open the chain refuses because the challenge window is still open by its clock (a
devnet's clock left behind by a reorg) is sent again later, so the attesters are still paid. A mined
open is watched until it is ``_REORG_BLOCKS`` deep: a reorg that drops it leaves the batch
Finalized, and it is opened again.

A post dropped for good gives its rewards back to the project's reserve on-chain: they count as in
flight again until posted anew (drawn once, not twice), and the batch id it had is forgotten with
the co-signatures kept for it, unless another post holds that id now (the next post may get it).

A batch id is one post's on-chain, and the book follows that: a batch is followed (told to the
desk, co-signed, opened) only if the chain's batch under its id is its post (this gateway's, the
root of its tickets' leaves, its results commitment). A row that is not (a post a reorg dropped,
sent again and reverted, whose id the next post took; one whose id no batch has yet; after a
restart, which forgets the recent posts) has its post read again: recorded under the id it got,
or dropped. A post recorded under an id the book holds for another post marks that post's row
stale the same way, and a post sent again and still pending is read at every tick until it is
mined or gone (``reorg-deep`` seed 2715).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import statistics
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hexbytes import HexBytes

from peerhost.chain.courts import CourtsView
from peerhost.chain.errors import ChainUnavailable, RpcError
from peerhost.chain.settlement import SettlementView
from peerhost.gateway.availability import InputPublisher
from peerhost.gateway.batcher import BatchSender
from peerhost.gateway.errors import PosterBehind
from peerhost.gateway.ticketbook import (
    ISSUED,
    POSTED,
    POSTING,
    StoredBatch,
    StoredTicket,
    TicketBook,
)
from peerhost.wire.batch import (
    ABSTAIN,
    MAX_ATTESTERS,
    AttestedResult,
    BatchHead,
    Leaf,
    attester_terms,
    batch_root,
    cosign_digest,
    cosigners,
    decode_results,
    encode_leaves,
    encode_posted,
    open_args,
    open_cosignatures,
    results_commitment,
    results_opening,
)
from peerhost.wire.feed import Cosignature, CosignRequest, FeedMessageError, recover_digest

log = logging.getLogger(__name__)

#: A ticket still waiting for attesters is posted anyway after this many seconds.
_ATTEST_GRACE = 5.0
#: A post's gas limit: ~215-250 k fixed (a fresh one-leaf post 248 k) and ~1.7-2.0 k per 51-byte
#: leaf (653 k for 256 leaves, docs/protocol.md "Gas"), with room to spare. The limit is what a
#: block reserves: 400 k + 60 k per leaf (15.8 M for 256 leaves) kept a second post out of a 30 M
#: block; 320 k + 4 k per leaf is 1.34 M for 256 (22 full posts per 30 M block). Each 256-seq
#: word of the gateway's seq bitmap the leaves touch costs ~22.1 k more when new, ~5 k when set
#: before (``_markSeqs``): 23 k per word, so seqs spread over a large backlog do not run out of gas.
_GAS_BASE = 320_000
_GAS_PER_LEAF = 4_000
_GAS_PER_WORD = 23_000


def post_gas(seqs: list[int]) -> int:
    """A post's gas limit: base, per leaf and per seq bitmap word its seqs touch."""
    return _GAS_BASE + _GAS_PER_LEAF * len(seqs) + _GAS_PER_WORD * len({s >> 8 for s in seqs})


def tickets_per_block(gas_limit: int, size: int) -> int:
    """Tickets a block of ``gas_limit`` takes in posts of ``size`` tickets each (:func:`post_gas`,
    a post's seqs spanning two bitmap words); at least one."""
    batches, left = divmod(gas_limit, post_gas(list(range(size))) + _GAS_PER_WORD)
    rest = (left - _GAS_BASE - 2 * _GAS_PER_WORD) // _GAS_PER_LEAF
    return max(1, batches * size + max(0, rest))


#: Co-sign requests to attesters still missing are repeated this often (seconds); once the batch
#: may be opened, the poster waits at most this long after the last request before opening without.
_COSIGN_RETRY = 2.0
#: Batch states (ISettlementCoordinator.BatchState).
_FINALIZED, _CLOSED, _EXPIRED = 3, 4, 5
#: Posts are re-checked after a reorg while they are at most this many blocks deep.
_REORG_BLOCKS = 64
#: ``openResults`` refused because the chain's clock is behind is sent again at most this often.
_OPEN_TRIES = 20
#: A post whose batch on the chain is not the book's is read again this often (a reorg moved it,
#: or it is pending: each reading may find it under another id, or mined again under its own).
_MISMATCH_READS = 3
#: Posting rounds whose durations admission's forecast reads (:meth:`BatchPoster.drain_seconds`).
_ROUNDS_KEPT = 8
#: Seconds the block gas limit read for that forecast is kept before it is read again.
_GAS_LIMIT_FOR = 60.0
#: Most seconds between rounds of the following loop (settled batches, openings, co-signatures):
#: the posting loop's ``interval`` when shorter.
_FOLLOW_EVERY = 0.5


def attested_result(stored: StoredTicket) -> AttestedResult:
    """The leaf's attested result: the first attested hash and who attested it, fastest first."""
    if not stored.attestations:
        return AttestedResult(ABSTAIN, ())
    first = stored.attestations[0][1]
    workers = tuple(w for w, r, _ in stored.attestations if r == first)[:MAX_ATTESTERS]
    return AttestedResult(bytes.fromhex(first[2:]), workers)


def cosign_requests(
    batch_id: int, tickets: list[StoredTicket], opening: bytes
) -> dict[str, CosignRequest]:
    """What each attester the opening lists is asked to co-sign (by checksummed address): the
    batch's root and leaves, the mask of its leaves and every leaf's attested result."""
    ordered = sorted(tickets, key=lambda t: -1 if t.leaf_index is None else t.leaf_index)
    leaves = [Leaf.of(t.ticket) for t in ordered]
    blob, root = encode_leaves(leaves), batch_root(leaves)
    results = decode_results(opening)
    out = {}
    every = tuple(r.result_hash for r in results)
    for attester in cosigners(results):
        mask, _ = attester_terms(results, attester)
        out[attester] = CosignRequest(batch_id, root, blob, mask, every)
    return out


def batches_of(
    tickets: list[StoredTicket], size: int
) -> list[tuple[bytes, bytes, list[StoredTicket]]]:
    """The batches ``tickets`` are posted in: (project, engine profile, tickets) with at most
    ``size`` tickets each, one batch per project, engine profile and batch head (function version,
    reward, secrets version: the head is posted once per batch, so a mixed set is split), in the
    order each group's first ticket came."""
    groups: dict[tuple[bytes, bytes, BatchHead], list[StoredTicket]] = {}
    for t in tickets:
        key = (t.project_id, t.ticket.engine_profile, BatchHead.of(Leaf.of(t.ticket)))
        groups.setdefault(key, []).append(t)
    return [
        (project_id, profile, group[i : i + size])
        for (project_id, profile, _head), group in groups.items()
        for i in range(0, len(group), size)
    ]


#: A settled batch's final vector, by batch id and what the chain says of its settlement.
_VectorKey = tuple[int, bytes, int, int]


@dataclass
class _Opening:
    """A posted batch's results opening, decoded once (:meth:`BatchPoster._opened`)."""

    opening: bytes
    results: list[AttestedResult]
    cosigners: list[str]  # checksummed, in the order openResults takes their co-signatures
    lowered: frozenset[str]
    root: bytes | None = None  # the batch's Merkle root, once a co-signature needed it
    complete: bool = False  # every co-signer's co-signature is in the book


class BatchPoster:
    """Posts tickets and follows their batches to settlement (module docstring)."""

    def __init__(
        self,
        view: SettlementView,
        book: TicketBook,
        sender: BatchSender,
        *,
        max_tickets: int,
        interval: float,
        waiting: Callable[[bytes], bool],
        drawn: Callable[[bytes, int], None],
        settled: Callable[[bytes, bytes | None, bool], None],
        returned: Callable[[bytes, int], None] | None = None,
        ask: Callable[[str, CosignRequest], Awaitable[bool]] | None = None,
        withhold: bool = False,
        withhold_inputs: bool = False,
        orphan_grace: float = 20.0,
        admission_share: float = 0.5,
    ) -> None:
        self._ask = ask
        self._asked: dict[int, float] = {}  # batch id -> when its missing co-signatures were asked
        self.view = view
        self.book = book
        self.sender = sender
        self.max_tickets = max_tickets
        self.interval = interval
        #: seconds between rounds of the following loop (settled batches, openings)
        self.follow_interval = min(interval, _FOLLOW_EVERY)
        self._following = asyncio.Lock()  # a round of following, or a reorg being acted on
        self._post_step_at = float("-inf")  # when (monotonic) the posting loop last posted
        self.receipt_timeout = 60.0  # seconds a post's receipt is awaited before the next tick
        self._waiting = waiting
        self._drawn = drawn
        self._returned = returned or (lambda project_id, amount: None)
        self._open_tries: dict[int, int] = {}  # batch id -> openResults refused for its clock
        # batch id -> the block its openResults was mined in, watched until _REORG_BLOCKS deep:
        # a reorg that drops the open leaves the batch Finalized, and it is followed again
        self._opened_in: dict[int, int] = {}
        self._settled = settled
        self.withhold = withhold
        self.withhold_inputs = withhold_inputs
        # admission control (:meth:`admit`): the attesters' orphan grace (the contract's
        # orphanDelay when longer, once read) and how many tickets the last tick found ready
        self.orphan_grace = orphan_grace
        self.admission_share = admission_share
        self._ready_backlog = 0
        # tickets a run before this one left unposted (their seqs below the book's next at this
        # start) are behind by how long this poster has had them, not by their age
        self._started_at = time.time()
        self._inherited_below = book.next_seq()
        #: seconds a block of tickets took to post in each of the last rounds (:meth:`_round_took`)
        self._rounds: deque[float] = deque(maxlen=_ROUNDS_KEPT)
        self._per_block = 0  # tickets a block's gas takes in batches of this poster's size
        self._gas_read_at = float("-inf")  # when (monotonic) the block gas limit was read
        self.inputs = InputPublisher(view, book, self.transact, sender.address, drawn)
        self._lock = asyncio.Lock()
        self._challenge_window: int | None = None
        self._courts: CourtsView | None = None  # loaded with the challenge window
        self._told: set[int] = set()  # batches whose tickets' results the desk was told
        self._openings: dict[int, _Opening] = {}  # batch id -> its opening decoded (_opened)
        # settled batches' final vectors, by batch id and what the chain says of its settlement
        # (final vector hash, final mask, finalizedAt): a batch waiting for its challenge window
        # is followed every tick, and rebuilding its vector costs a dozen reads (votes, reveal
        # logs, their calldata); a reorg that changes the vector changes the key
        self._vectors: dict[tuple[int, bytes, int, int], list[bytes]] = {}
        self._last_block = -1
        self._from_block = 0
        self.batches_posted = 0
        self._issued_at: dict[int, float] = {}
        self._lag = 0.0  # seconds the chain's clock was seen behind the wall clock (refusals)
        # recent posts, re-checked after a reorg: post tx -> (batch id, block number, block hash)
        self._recent: dict[bytes, tuple[int, int, str]] = {}
        # recent posts to read again at the next tick whatever the newest post's block says: one
        # sent again and not mined yet at the last reading, or one whose batch id a newer post got
        self._unsure: set[bytes] = set()
        # post tx -> (the root of its leaves, its results commitment): the chain's batch under
        # its id must have both; post tx -> how often it was read again for not being the batch
        # its row names (never followed as it meanwhile); batch id -> the post last found to be it
        self._identity: dict[bytes, tuple[bytes, bytes]] = {}
        self._mismatched: dict[bytes, int] = {}
        self._followed: dict[int, bytes] = {}
        self._chain_time: int | None = None  # the head's timestamp in this tick's follow
        # transactions whose receipts are awaited, polled together (_poll_receipts)
        self._waits: dict[bytes, list[asyncio.Future[dict[str, object]]]] = {}
        self._poller: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Forever, in two loops: posting (reconcile, post what is ready, every ``interval``)
        and following (settled batches, openings, co-signatures, challenged inputs, every
        ``follow_interval``). A round of following reads every posted batch and may wait for
        co-signatures and openings' receipts: posting never waits for it (on a loaded machine one
        round took 3-5 s, and tickets waited 10-14 s to be posted)."""
        started = False
        while not started:
            try:  # retried like a tick: the node may be down at start
                self._from_block = max(0, await self.view.block_number() - 10_000)
                await self.inputs.start(self._from_block)
                await self.reconcile()
                started = True
            except (ChainUnavailable, RpcError, TimeoutError) as exc:
                log.warning("batch poster: chain unavailable (%s); retrying", exc)
            except Exception:
                log.exception("batch poster: unexpected error; retrying")
            if not started:
                await asyncio.sleep(self.interval)
        following = asyncio.create_task(
            self._every(self.follow_tick, self.follow_interval), name="poster-follow"
        )
        try:
            await self._every(self._post_step, self.follow_interval)
        finally:
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following

    async def _every(self, step: Callable[[], Awaitable[None]], interval: float) -> None:
        while True:
            try:
                await step()
            except (ChainUnavailable, RpcError, TimeoutError) as exc:
                log.warning("batch poster: chain unavailable (%s); retrying", exc)
            except Exception:
                log.exception("batch poster: unexpected error; retrying")
            await asyncio.sleep(interval)

    async def _post_step(self) -> None:
        """The posting loop's step, every ``follow_interval``: a :meth:`post_tick` once
        ``interval`` (the floor between posts) passed since the last, or sooner when a ticket
        ready to post has waited half the admission budget (a ticket whose attester was silent is
        ready only after :data:`_ATTEST_GRACE`: waiting out the floor on top of it, the oldest
        ticket grew past the budget and calls were refused)."""
        now = time.monotonic()
        if now - self._post_step_at < self.interval and not self._overdue(now):
            return
        self._post_step_at = now
        await self.post_tick()

    def _overdue(self, now: float) -> bool:
        """Whether a ticket ready to post was first seen half the admission budget ago (a quarter
        of the orphan grace without admission control). Reads the book only (no call)."""
        budget = self.orphan_grace * (self.admission_share or 0.5)
        ready = self._ready(self.book.in_state(ISSUED))
        return any(now - self._issued_at[t.ticket.seq] >= budget / 2 for t in ready)

    async def tick(self) -> None:
        """One round of both loops: the posting step, then the following step."""
        await self.post_tick()
        await self.follow_tick()

    async def post_tick(self) -> None:
        """The posting loop's step: what a reorg dropped sent again, posts left ``posting``
        reconciled, then the tickets ready posted (none when withholding)."""
        await self.sender.heal()
        await self.recheck()
        await self.inputs.scan()  # tickets attesters posted as orphans: never posted again
        if self.book.in_state(POSTING):  # a post whose receipt was not read in time
            await self.reconcile()
        if not self.withhold:
            await self.post_ready()

    async def follow_tick(self) -> None:
        """The following loop's step: settled batches (:meth:`follow`), then the inputs of open
        data-availability challenges published (none when withholding them). It holds the
        following lock, which the posting loop takes only to act on a reorg (:meth:`recheck`)."""
        async with self._following:
            await self.follow()
        if not self.withhold_inputs:
            await self.inputs.tick()

    async def transact(self, to: str, data: bytes, gas: int) -> dict[str, object]:
        """Signs and sends one transaction as the gateway; returns its receipt."""
        async with self._lock:
            await self.sender.prepare()
            tx_hash, sent = self.sender.sign(to, data, gas=gas)
        await sent
        return await self.sender_wait(tx_hash)

    # ---- posting ---------------------------------------------------------------------------

    def _chain_now(self) -> float:
        """The chain's clock as this gateway knows it: the wall clock less the lag a refused post
        or opening showed (a devnet after a reorg, a node whose clock lags)."""
        return time.time() - self._lag

    def _ready(self, tickets: list[StoredTicket]) -> list[StoredTicket]:
        """Of ``tickets`` (every ``issued`` ticket of the book), those ready to post. When each
        was first seen is kept for those and for the tickets being posted (a post that fails puts
        them back): a ticket posted, or placed otherwise, is forgotten (kept for ever, a seq per
        call: a gateway's memory grew with every call it took)."""
        now = time.monotonic()
        out = []
        chain_now = self._chain_now()  # never post a ticket ahead of the chain's clock
        seen, self._issued_at = self._issued_at, {}
        if seen.keys() - {t.ticket.seq for t in tickets}:  # some left ``issued``: kept if posting
            for t in self.book.in_state(POSTING):
                if t.ticket.seq in seen:
                    self._issued_at[t.ticket.seq] = seen[t.ticket.seq]
        for t in tickets:
            first_seen = self._issued_at[t.ticket.seq] = seen.get(t.ticket.seq, now)
            if self._lag and t.ticket.issued_at > chain_now:
                continue
            if not self._waiting(t.request_id) or now - first_seen > _ATTEST_GRACE:
                out.append(t)
        return out

    async def post_ready(self) -> None:
        unposted = self.book.in_state(ISSUED)
        issued = self._ready(unposted)
        self.watch_backlog(unposted, len(issued))
        if not issued:
            return
        head = await self.view.block_number()
        if head == self._last_block and len(issued) < self.max_tickets:
            return  # one batch per block unless enough tickets wait
        params = await self.view.params()
        self.orphan_grace = max(self.orphan_grace, float(params.get("orphanDelay", 0)))
        size = min(self.max_tickets, int(params["maxLeaves"]))
        if time.monotonic() - self._gas_read_at > _GAS_LIMIT_FOR:
            self._per_block = tickets_per_block(await self.view.block_gas_limit(), size)
            self._gas_read_at = time.monotonic()
        # every batch signed with the next nonce and sent before any receipt is awaited: they go
        # out in one JSON-RPC batch and share a block; one that reverts loses none of the others
        self._last_block = head  # a post not sent at all takes it back (``post``)
        posts = [self.post(p, e, tickets) for p, e, tickets in batches_of(issued, size)]
        started = time.monotonic()
        outcomes = await asyncio.gather(*posts, return_exceptions=True)
        self._round_took(time.monotonic() - started, len(issued))
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    # ---- admission control ----------------------------------------------------------------

    def watch_backlog(
        self, unposted: list[StoredTicket] | None = None, ready: int | None = None
    ) -> None:
        """Notes (every tick) for :meth:`admit` how many ``issued`` tickets are ready to post (the
        others wait for their attesters, not for the poster)."""
        if unposted is None:
            unposted = self.book.in_state(ISSUED)
        self._ready_backlog = len(unposted) if ready is None else ready

    def _round_took(self, seconds: float, tickets: int) -> None:
        """Notes a posting round: ``tickets`` sent, all mined and their receipts read in
        ``seconds``. A round of more tickets than a block takes lasts the blocks they need: what
        is kept is its time per block."""
        self._rounds.append(seconds / max(1, self._blocks_for(tickets)))

    def _blocks_for(self, tickets: int) -> int:
        """Blocks ``tickets`` need at :func:`tickets_per_block` (one while it is not read yet)."""
        return -(-tickets // self._per_block) if self._per_block else 1

    def drain_seconds(self, ready: int) -> float:
        """Seconds ``ready`` tickets would take to post: a round posts every ticket ready at once
        (its batches in one JSON-RPC batch), and a block takes as many as its gas limit allows;
        so the blocks they need, each taking the median time per block of the last
        :data:`_ROUNDS_KEPT` rounds (sent to mined, receipts read; one slow round does not count
        for the next eight). 0 before the first round: nothing measured yet. The blocks are
        counted as if this gateway's posts filled them alone, in full batches: an upper bound
        of what a block takes, so a forecast that errs says too little, and the oldest ticket's
        age refuses calls then.

        Not the tickets the poster posted per second lately: that rate is the calls' rate, not
        what the poster can post, and a burst of calls after a quiet spell looked like minutes of
        posting (a quiet gateway posting 6 tickets in 10 s, then 25 ready: 503s for calls a
        round posted a second later; clock-skewed-worker seed 3600)."""
        if ready <= 0 or not self._rounds:
            return 0.0
        return self._blocks_for(ready) * statistics.median(self._rounds)

    def admit(self) -> None:
        """Raises :class:`PosterBehind` (503, ``Retry-After``) while the poster is behind: its
        oldest unposted ticket is ``admission_share`` of the attesters' orphan grace old, or the
        tickets ready to post would take longer than the whole grace to post (:meth:`drain_seconds`:
        the blocks they need, at the last rounds' time per block). A ticket taken then would wait
        longer still, the attesters would post it as an orphan and the gateway's bond would pay their gas (a bond below the
        minimum and every worker refuses the gateway). The backlog and its oldest ticket are read
        from the book now, not from the last tick: a tick blocked on receipts, failing, or a
        poster that died leaves them growing, and calls are still refused. A ticket's age is
        read on the chain's clock (less the lag a refused post showed). A ticket a run before this
        one left unposted counts from this poster's start: a restarted gateway whose first posting
        round has not come yet is not behind (it refused calls 503 for as long as its start took,
        with nothing at risk for them)."""
        if self.withhold or self.admission_share <= 0:
            return
        backlog, first = self.book.oldest_issued()  # one read under the book's lock
        if first is None:
            return
        seq, oldest = first
        if seq < self._inherited_below:
            oldest = max(oldest, int(self._started_at))
        budget = self.orphan_grace * self.admission_share
        # by the chain's clock, as the attesters' orphan grace and the poster's own waiting are: a
        # chain seen behind the wall clock (a devnet after a reorg) keeps a ticket from being
        # posted, and from being posted as an orphan, for as long; by the wall clock, every call
        # was refused for the lag less the budget after each ticket, with nothing at risk
        age = self._chain_now() - oldest
        drain = self.drain_seconds(min(self._ready_backlog, backlog))
        if age < budget and drain < self.orphan_grace:
            return
        behind = max(age, drain)
        retry = max(1.0, min(budget, behind - budget / 2))  # back to half the budget behind
        raise PosterBehind(backlog, behind, self.orphan_grace, retry)

    async def post(
        self, project_id: bytes, profile: bytes, tickets: list[StoredTicket]
    ) -> int | None:
        """Posts one batch of tickets sharing a head; returns its id (None when it reverted)."""
        data, salt, opening = self._post_data(project_id, profile, tickets)
        seqs = [t.ticket.seq for t in tickets]
        # signed again once when the node refuses it, at the nonce it refused (the sender's
        # lowest hole): the posts signed after it in this tick wait for that nonce
        for attempt in (1, 2):
            async with self._lock:
                await self.sender.prepare()
                # tickets an orphan batch carries since they were read (the input endpoint's scan
                # recorded it) are left out, never posted twice; nothing is awaited from here to
                # mark_posting, so no scan comes in between
                placed = self.book.placed_seqs(seqs)
                if placed:
                    tickets = [t for t in tickets if t.ticket.seq not in placed]
                    seqs = [t.ticket.seq for t in tickets]
                    if not tickets:
                        return None
                    data, salt, opening = self._post_data(project_id, profile, tickets)
                tx_hash, sent = self.sender.sign(
                    self.view.config.settlement, data, gas=post_gas(seqs)
                )
                self.book.mark_posting(seqs, tx_hash, salt, opening)  # before the send goes out
            try:
                await sent
                break
            except RpcError as exc:  # refused, and the node does not know it (the sender looked)
                if attempt == 1:
                    log.warning("batch of %d ticket(s) not sent (%s); signed again", len(seqs), exc)
                    continue
                log.warning("batch of %d ticket(s) not sent (%s); will retry", len(seqs), exc)
                self.sender.forget(tx_hash)
                self.book.unpost(seqs)
                # nothing went out, so no block may come (a chain mining on demand): the next
                # tick posts at this block again (it waited for the next block, and calls were
                # refused 503 until another sender's transaction mined one)
                self._last_block = -1
                return None
            except (ChainUnavailable, TimeoutError) as exc:
                # it may have reached the node: left ``posting``, the next tick reconciles it
                # (mined, in the pool, or back to ``issued``; the sender sends it again meanwhile)
                log.warning(
                    "batch of %d ticket(s) maybe not sent (%s); checked again", len(seqs), exc
                )
                return None
        try:
            receipt = await self.sender_wait(tx_hash, self.receipt_timeout)
        except (RpcError, ChainUnavailable, TimeoutError) as exc:
            # sent: it may still be mined. The tickets stay ``posting`` under its hash (the input
            # endpoint places them once it is) and the next tick reconciles them
            log.warning(
                "batch of %d ticket(s) sent, receipt not read (%s); checked again next tick",
                len(seqs),
                exc,
            )
            return None
        return await self._record(tx_hash, receipt, tickets)

    def _post_data(
        self, project_id: bytes, profile: bytes, tickets: list[StoredTicket]
    ) -> tuple[bytes, bytes, bytes]:
        """A post's calldata, and its results commitment's salt and opening."""
        head, leaves = encode_posted([Leaf.of(t.ticket) for t in tickets])
        results = [attested_result(t) for t in tickets]
        attested = any(r.attesters for r in results)
        salt = os.urandom(32)
        commitment = results_commitment(results, salt) if attested else bytes(32)
        opening = results_opening(results) if attested else b""
        data = self.view.encode(
            "postBatch", project_id, profile, head.as_tuple(), commitment, leaves
        )
        return data, salt, opening

    async def sender_wait(self, tx_hash: bytes, timeout: float = 60.0) -> dict[str, object]:
        """The receipt of ``tx_hash`` once mined. Every transaction awaited at once is polled in
        one JSON-RPC batch (a tick's posts and openings are awaited together); the kept
        transactions a reorg dropped are sent again meanwhile (stuck behind a lost nonce)."""
        future: asyncio.Future[dict[str, object]] = asyncio.get_running_loop().create_future()
        self._waits.setdefault(tx_hash, []).append(future)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll_receipts(), name="poster-receipts")
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            hex_hash = HexBytes(tx_hash).to_0x_hex()
            raise TimeoutError(
                f"batch transaction {hex_hash} not mined after {timeout:.0f} s"
            ) from None
        finally:
            waiting = self._waits.get(tx_hash, [])
            if future in waiting:
                waiting.remove(future)
            if not waiting:
                self._waits.pop(tx_hash, None)

    async def _poll_receipts(self) -> None:
        healed = time.monotonic()
        while self._waits:
            hashes = list(self._waits)
            calls = [("eth_getTransactionReceipt", [HexBytes(h).to_0x_hex()]) for h in hashes]
            try:
                results = await self.view.rpc.batch(calls)
            except Exception as exc:  # the waiters raise it (ChainUnavailable, RpcError)
                for waiting in self._waits.values():
                    for future in waiting:
                        if not future.done():
                            future.set_exception(exc)
                self._waits.clear()
                return
            for tx_hash, result in zip(hashes, results, strict=True):
                if result is None:
                    continue
                for future in self._waits.pop(tx_hash, []):
                    if future.done():
                        continue
                    if isinstance(result, RpcError):
                        future.set_exception(result)
                    else:
                        future.set_result(dict(result))
            if self._waits and time.monotonic() - healed > 1.0:  # stuck behind a dropped nonce?
                healed = time.monotonic()
                with contextlib.suppress(RpcError, ChainUnavailable, TimeoutError):
                    await self.sender.heal()
            await asyncio.sleep(0.05)

    async def _record(
        self, tx_hash: bytes, receipt: dict[str, object], tickets: list[StoredTicket]
    ) -> int | None:
        seqs = [t.ticket.seq for t in tickets]
        if int(str(receipt["status"]), 16) != 1:
            # acted on below (tickets left out, back to be posted, or rejected): a reorg that
            # drops it must not have it sent again, where it may succeed (seed 2506)
            self.sender.defuse(tx_hash)
            reason = await self._refusal(receipt)
            if reason is None:
                # the refusal's reason not read (the node dropped, or failed the replay): left
                # ``posting``, the next tick reconciles it and reads it again. Before, taken for
                # a final refusal, the tickets were rejected for good (a SeqAlreadyPosted after
                # an outage: attesters posted them as orphans at the bond's cost, and the tickets
                # nobody attested were never paid)
                log.warning(
                    "batch of %d ticket(s) refused; the reason not read yet: read again next tick",
                    len(seqs),
                )
                return None
            if "SeqAlreadyPosted" in reason:
                await self._posted_elsewhere(tickets)
                return None
            if "InvalidTicketTimes" in reason and await self._ahead_of_chain(receipt, tickets):
                return None
            log.error("batch of %d ticket(s) rejected: %s", len(seqs), reason)
            self.book.reject(seqs)
            return None
        batch_id = self._posted_id(receipt)
        if batch_id is None:
            log.error("batch transaction 0x%s emitted no BatchPosted", tx_hash.hex())
            return None
        self._lag = max(0.0, self._lag - 1.0)  # a post went through: try closer to the clock
        number = int(str(receipt["blockNumber"]), 16)
        if self.book.holders(batch_id, tx_hash):  # rare: not in the middle of a round of following
            async with self._following:
                self._mark_stale(batch_id, tx_hash, number)
        self.book.mark_posted(seqs, batch_id)
        self.book.batch_posted(tx_hash, batch_id)
        self._recent[tx_hash] = (batch_id, number, str(receipt["blockHash"]))
        self.batches_posted += 1
        log.info("posted batch %d: %d ticket(s)", batch_id, len(seqs))
        project_total: dict[bytes, int] = {}
        for t in tickets:
            project_total[t.project_id] = project_total.get(t.project_id, 0) + t.ticket.reward
        for project_id, amount in project_total.items():
            self._drawn(project_id, amount)
        return batch_id

    def _posted_id(self, receipt: dict[str, Any]) -> int | None:
        """The batch id a post's receipt names (its ``BatchPosted`` log), None without one."""
        batch_id = None
        for raw in receipt.get("logs", []):
            decoded = self.view.decode_log(raw)
            if decoded is not None and decoded[0] == "BatchPosted":
                batch_id = int(decoded[1]["batchId"])
        return batch_id

    async def placed(self, stored: StoredTicket) -> tuple[int, int | None] | None:
        """The (batch id, leaf index) of a posted ticket, or None when no mined batch carries it.

        A ticket still ``posting`` may be mined already: the committee reads the chain and may
        ask for its input before this poster read its receipt and recorded the batch id (the
        poster waits for receipts on a poll, and on a busy gateway behind other work). Its
        batch is then read from the post transaction's receipt and calldata. A ticket in any
        state may also be in an attester's orphan batch (:mod:`peerhost.gateway.availability`).
        So the gateway never refuses an input to a seat of a batch that carries its ticket."""
        if stored.batch_id is not None:
            return stored.batch_id, stored.leaf_index
        if stored.state == POSTING and stored.post_tx is not None:
            mine = await self._placed_by_post(stored, stored.post_tx)
            if mine is not None:
                return mine
        return await self.inputs.placed_elsewhere(stored)

    async def _placed_by_post(
        self, stored: StoredTicket, post_tx: bytes
    ) -> tuple[int, int | None] | None:
        hex_hash = HexBytes(post_tx).to_0x_hex()
        receipt = await self.view.rpc.call("eth_getTransactionReceipt", [hex_hash])
        if receipt is None or int(str(receipt["status"]), 16) != 1:
            return None
        batch_id = self._posted_id(receipt)
        if batch_id is None:
            return None
        leaves = await self.view.posted_leaves(hex_hash)
        seqs = [leaf.seq for leaf in leaves]
        if stored.ticket.seq not in seqs:
            return None
        return batch_id, seqs.index(stored.ticket.seq)

    async def _refusal(self, receipt: dict[str, Any]) -> str | None:
        """Why a mined transaction reverted (:meth:`_revert_reason`); None when that could not be
        read: the node unreachable, or failing the replay without a revert (a reorg under way,
        a block it does not have yet). A refusal is acted on for good only by its reason."""
        try:
            return await self._revert_reason(receipt)
        except (ChainUnavailable, RpcError, TimeoutError) as exc:
            log.info("the reason of a refused transaction not read: %s", exc)
            return None
        except Exception:  # a reason that does not decode: the refusal stands, unnamed
            log.debug("the reason of a refused transaction not decoded", exc_info=True)
            return "reverted"

    async def _revert_reason(self, receipt: dict[str, Any]) -> str:
        """The decoded custom error of a reverted transaction (replayed with ``eth_call`` at its
        block; the view's ``confirm`` needs a sender the gateway's view does not have)."""
        rpc = self.view.rpc
        tx = await rpc.call("eth_getTransactionByHash", [receipt["transactionHash"]])
        call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "value": tx["value"]}
        try:
            await rpc.call("eth_call", [call, receipt["blockNumber"]])
        except RpcError as exc:
            if not exc.data:
                if "revert" not in exc.rpc_message.lower():
                    raise  # not the replay's revert: the node failed the call ("header not found")
                return exc.rpc_message
            # openResults reverts with the DisputeCourt's errors too (ChallengeWindowOpen)
            if self._courts is None:
                with contextlib.suppress(LookupError, ValueError, RpcError):
                    self._courts = await CourtsView.load(self.view)
            if self._courts is not None:
                return self._courts.explain(exc.data)
            return self.view.explain(exc.data)
        return "reverted"

    async def _ahead_of_chain(self, receipt: dict[str, Any], tickets: list[StoredTicket]) -> bool:
        """A batch refused because a ticket was issued after the time of the block that carried it
        (the chain's clock behind the gateway's: a devnet after a reorg, a node whose clock lags):
        the tickets go back to ``issued`` and wait until the chain's clock has passed them. False
        when no ticket is ahead (the refusal is for good)."""
        block = await self.view.rpc.call("eth_getBlockByNumber", [receipt["blockNumber"], False])
        chain_time = int(str(block["timestamp"]), 16)
        ahead = [t for t in tickets if t.ticket.issued_at > chain_time]
        if not ahead:
            return False
        self._lag = max(self._lag, time.time() - chain_time + 1.0)
        log.warning(
            "batch refused: %d ticket(s) issued after the chain's clock (%d s behind); they are "
            "posted once it has passed them",
            len(ahead),
            round(self._lag),
        )
        self.book.unpost([t.ticket.seq for t in tickets])
        # they wait for the chain's clock, not for the poster: admission's snapshot of the tickets
        # ready to post, taken before this post, counted them (a store-down run's one call was
        # refused 503, as if the poster could not drain them at its rate)
        unposted = self.book.in_state(ISSUED)
        self.watch_backlog(unposted, len(self._ready(unposted)))
        return True

    async def _posted_elsewhere(self, tickets: list[StoredTicket]) -> None:
        """A batch refused because some of its seqs are on-chain already: those are left out
        (never posted twice), the others go back to ``issued``."""
        gateway = self.sender.address
        done: list[int] = []
        again: list[int] = []
        for t in tickets:
            on_chain = await self.view.is_seq_posted(gateway, t.ticket.seq)
            (done if on_chain else again).append(t.ticket.seq)
        log.warning(
            "batch refused: seq(s) %s are posted already (as orphans by an attester, or by an "
            "earlier post); left out, %d ticket(s) posted again",
            done,
            len(again),
        )
        self.book.reject(done)
        self.book.unpost(again)

    async def recheck(self) -> None:
        """Re-reads the receipts of the recent posts (module docstring): a reorg may have moved
        one to another block (and batch id) or dropped it."""
        if not self._recent:
            return
        # A post sent again and still pending at the last reading (or a stale row's post) is
        # read until it is mined or gone: the next post may be mined after it, in a block above
        # its old one, and get its batch id if it reverts (reorg-deep seed 2715). Read without
        # the following lock while it is pending: posting does not wait for a round of following
        if not (self._unsure and await self._unsure_moved()):
            # a reorg that dropped any other recent post replaced the block of the newest one
            # too: one read per tick unless that block changed
            known = [v for tx, v in self._recent.items() if tx not in self._unsure]
            if not known:
                return
            _, number, block_hash = max(known, key=lambda v: v[1])
            block = await self.view.rpc.call("eth_getBlockByNumber", [hex(number), False])
            if block is not None and block["hash"] == block_hash:
                return
        async with self._following:  # not in the middle of a round of following
            await self._recheck_recent()

    async def _unsure_moved(self) -> bool:
        """Whether a post read again at every tick is mined or gone from the pool since (its
        receipt and transaction read in one JSON-RPC batch)."""
        hashes = [HexBytes(tx).to_0x_hex() for tx in self._unsure]
        calls = [("eth_getTransactionReceipt", [h]) for h in hashes]
        calls += [("eth_getTransactionByHash", [h]) for h in hashes]
        results = await self.view.rpc.batch(calls)
        receipts, pending = results[: len(hashes)], results[len(hashes) :]
        return any(r is not None for r in receipts) or any(
            p is None or isinstance(p, RpcError) for p in pending
        )

    def _mark_stale(self, batch_id: int, holder: bytes, number: int) -> None:
        """Post ``holder`` is batch ``batch_id`` on-chain: any other post the book has under that
        id is stale (a reorg dropped it, and sent again it reverted or lost its nonce, or it was
        mined under another id). Each is read again at the next tick, never followed as this
        batch (``reorg-deep`` seed 2715: opened with the stale row's opening, the batch's
        attesters were never paid). What the poster remembers of the id was theirs, and goes."""
        stale = self.book.holders(batch_id, holder)
        for tx_hash in stale:
            log.warning(
                "batch %d is %s's now, not %s's: reading that post again",
                batch_id,
                HexBytes(holder).to_0x_hex(),
                HexBytes(tx_hash).to_0x_hex(),
            )
            self._read_again(tx_hash, batch_id, number)
        if stale:
            self._forget_id(batch_id)

    def _read_again(self, tx_hash: bytes, batch_id: int, number: int) -> None:
        """``tx_hash`` (the post of the book's batch ``batch_id``) is read again at every tick
        until it is mined or gone: recorded under the id it got, or dropped."""
        self._recent.setdefault(tx_hash, (batch_id, number, ""))
        self._unsure.add(tx_hash)

    def _forget_id(self, batch_id: int) -> None:
        """What the poster remembers of batch ``batch_id`` is a stale post's: forgotten."""
        self._told.discard(batch_id)
        self._asked.pop(batch_id, None)
        self._openings.pop(batch_id, None)
        self._open_tries.pop(batch_id, None)
        self._opened_in.pop(batch_id, None)
        self._followed.pop(batch_id, None)

    async def _recheck_recent(self) -> None:
        head = await self.view.block_number()
        for tx_hash, (_, number, _) in list(self._recent.items()):
            if number < head - _REORG_BLOCKS and tx_hash not in self._unsure:
                del self._recent[tx_hash]
        for tx_hash in list(self._recent):
            batch_id, _, _ = self._recent[tx_hash]
            hex_hash = HexBytes(tx_hash).to_0x_hex()
            receipt = await self.view.rpc.call("eth_getTransactionReceipt", [hex_hash])
            pending = receipt is None and (
                await self.view.rpc.call("eth_getTransactionByHash", [hex_hash]) is not None
            )
            if pending:  # sent again, waiting to be mined: read at the next tick
                self._unsure.add(tx_hash)
                continue
            self._unsure.discard(tx_hash)
            if receipt is None:
                # not in the chain, not in the pool, not sent again (its nonce was taken)
                log.warning(
                    "batch %d (%s) was dropped by a reorg: posting again", batch_id, hex_hash
                )
                del self._recent[tx_hash]
                self.sender.defuse(tx_hash)  # posted anew: never sent again, should it come back
                self._drop(tx_hash, batch_id)
                continue
            moved = int(str(receipt["blockNumber"]), 16)
            new_id = self._posted_id(receipt)
            new_id = batch_id if new_id is None else new_id
            if int(str(receipt["status"]), 16) != 1:
                log.warning(
                    "batch %d (%s) mined again after a reorg and reverted", batch_id, hex_hash
                )
                self.sender.defuse(tx_hash)  # its tickets are posted anew
                del self._recent[tx_hash]
                self._drop(tx_hash, batch_id)
                continue
            self._recent[tx_hash] = (new_id, moved, str(receipt["blockHash"]))
            if new_id != batch_id:
                self._mismatched.pop(tx_hash, None)
                log.warning("batch %d mined again after a reorg as batch %d", batch_id, new_id)
                self._mark_stale(new_id, tx_hash, moved)
                self.book.rebatch(tx_hash, new_id)
                self._forget_id(new_id)
                if not self.book.holders(batch_id, tx_hash):
                    self._forget_id(batch_id)

    def _drop(self, tx_hash: bytes, batch_id: int) -> None:
        """A post gone for good: its tickets go back to ``issued`` and their rewards back in
        flight (the reorg gave them back to the reserve on-chain; posted anew, they are drawn
        once more: counted once, not twice). What the poster remembers of its batch id goes,
        unless another post holds that id now."""
        self._mismatched.pop(tx_hash, None)
        self._identity.pop(tx_hash, None)
        for project_id, amount in self.book.drop_batch(tx_hash).items():
            self._returned(project_id, amount)
        if not self.book.holders(batch_id, tx_hash):
            self._forget_id(batch_id)

    async def reconcile(self) -> None:
        """Tickets left ``posting`` by an earlier run: posted, or back to ``issued``."""
        by_tx: dict[bytes, list[StoredTicket]] = {}
        for t in self.book.in_state(POSTING):
            assert t.post_tx is not None
            by_tx.setdefault(t.post_tx, []).append(t)
        for tx_hash, tickets in by_tx.items():
            hex_hash = HexBytes(tx_hash).to_0x_hex()
            receipt = await self.view.rpc.call("eth_getTransactionReceipt", [hex_hash])
            if receipt is None:
                pending = await self.view.rpc.call("eth_getTransactionByHash", [hex_hash])
                if pending is None:
                    log.info("batch tx %s never reached the chain: re-posting", hex_hash)
                    self.sender.forget(tx_hash)  # never sent again: its tickets go in a new post
                    self.book.unpost([t.ticket.seq for t in tickets])
                    continue
                receipt = await self.sender_wait(tx_hash)
            await self._record(tx_hash, dict(receipt), tickets)

    # ---- following posted batches ----------------------------------------------------------

    async def follow(self) -> None:
        """Settled batches: tell the desk each ticket's result, open the attested results."""
        self._chain_time = None  # the head's timestamp, read at most once per tick
        if self._opened_in:
            await self._recheck_opens()
        posted = self.book.batches("posted")
        # batches whose results are opened this tick: (batch, vector key, (vector, co-signatures))
        due: list[tuple[StoredBatch, _VectorKey, tuple[int, bytes, list[bytes], bytes, int]]] = []
        ids = []
        for stored in posted:
            assert stored.batch_id is not None
            ids.append(stored.batch_id)
        # every posted batch in one JSON-RPC batch (one HTTP round trip per tick, not per batch)
        batches = await self.view.get_batches(ids, missing=True)
        for stored, batch in zip(posted, batches, strict=True):
            assert stored.batch_id is not None
            if not self._is_post_of(stored, batch):
                continue
            self._followed[stored.batch_id] = stored.post_tx
            state = int(batch["state"])
            if state == _EXPIRED:
                for t in self._tickets_of(stored):
                    self._settled(t.request_id, None, False)
                self.book.post_done(stored.post_tx, "expired")
                self._identity.pop(stored.post_tx, None)
                self._followed.pop(stored.batch_id, None)
                continue
            if state not in (_FINALIZED, _CLOSED):
                continue
            key = (
                stored.batch_id,
                bytes(batch["finalVectorHash"]),
                int(batch["finalMask"]),
                int(batch["finalizedAt"]),
            )
            vector = self._vectors.get(key)
            if vector is None:
                vector = await self.view.final_vector(stored.batch_id, self._from_block)
                if vector is None:
                    continue
                self._vectors[key] = vector
            told = stored.batch_id in self._told
            settled = [] if told else self._tickets_of(stored)
            states = await self._leaf_states(stored.batch_id, [t.leaf_index for t in settled])
            for t, leaf_state in zip(settled, states, strict=True):
                assert t.leaf_index is not None
                value = vector[t.leaf_index]
                if leaf_state == 2:  # Final
                    self._settled(t.request_id, value, True)
                elif leaf_state == 4:  # Refunded
                    self._settled(t.request_id, None, False)
                else:  # Unaudited fast leaf: paid on its attestations (no final result)
                    self._settled(t.request_id, t.result_hash, False)
            self._told.add(stored.batch_id)
            if state == _FINALIZED and stored.opening:
                if not await self._window_passed(batch):
                    continue  # attesters are paid once no challenge can come (unpaidLeaves)
                # asked only now: a request carries every leaf's attested result, which no seat
                # may see before the window passed (it could commit them without running anything)
                missing = self._missing(stored.batch_id, stored.opening)
                asked = self._asked.get(stored.batch_id)
                if missing and (asked is None or time.monotonic() - asked > _COSIGN_RETRY):
                    await self.ask_cosignatures(stored.batch_id)
                    if asked is None and stored.batch_id in self._asked:
                        continue  # asked for the first time: the co-signatures may still come
                elif missing:
                    continue  # a co-signature asked for just now may still come
                results = decode_results(stored.opening)
                cosigned = open_cosignatures(results, self.book.cosignatures(stored.batch_id))
                opening, final_vector = open_args(results, vector)
                due.append(
                    (stored, key, (stored.batch_id, opening, final_vector, cosigned, len(results)))
                )
                continue  # opened below, with every other opening due
            self._done(stored, key)
        if not due:
            return
        # every opening due is signed with the next nonce and sent before any receipt is awaited
        opens = [
            self._open(stored, opening, final_vector, cosigned, leaves)
            for stored, _, (_, opening, final_vector, cosigned, leaves) in due
        ]
        outcomes = await asyncio.gather(*opens, return_exceptions=True)
        self._chain_time = None  # the opens mined a block: read the head's time again
        for (stored, key, _), opened in zip(due, outcomes, strict=True):
            if isinstance(opened, BaseException):
                raise opened
            if opened:  # else refused for the chain's clock: opened again at a later tick
                self._done(stored, key)

    def _done(self, stored: StoredBatch, key: _VectorKey) -> None:
        assert stored.batch_id is not None
        self.book.post_done(stored.post_tx, "settled")
        self._vectors.pop(key, None)
        self._openings.pop(stored.batch_id, None)
        self._identity.pop(stored.post_tx, None)
        self._followed.pop(stored.batch_id, None)

    def _tickets_of(self, stored: StoredBatch) -> list[StoredTicket]:
        """The tickets of the book's batch ``stored`` (its post's, by leaf index)."""
        assert stored.batch_id is not None
        tickets = [t for t in self.book.in_batch(stored.batch_id) if t.post_tx == stored.post_tx]
        return sorted(tickets, key=lambda t: t.leaf_index or 0)

    def _is_post_of(self, stored: StoredBatch, batch: dict[str, Any]) -> bool:
        """Whether the chain's batch under ``stored``'s id is its post: this gateway's, with the
        root of its leaves and its results commitment. A row that is not is stale (a reorg moved
        or dropped its post, and another batch got the id, or none has it yet: ``reorg-deep``
        seed 2715; a restart forgets the recent posts): its post is read again, and the row is
        never followed as that batch."""
        identity = self._identity.get(stored.post_tx)
        if identity is None:
            tickets = self._tickets_of(stored)
            if tickets:
                results = decode_results(stored.opening) if stored.opening else []
                commitment = results_commitment(results, stored.salt) if results else bytes(32)
                root = batch_root([Leaf.of(t.ticket) for t in tickets])
                identity = self._identity[stored.post_tx] = (root, commitment)
        if (
            batch
            and identity is not None
            and str(batch["gateway"]).lower() == self.sender.address.lower()
            and (bytes(batch["root"]), bytes(batch["resultsCommitment"])) == identity
        ):
            self._mismatched.pop(stored.post_tx, None)
            return True
        if stored.post_tx in self._unsure:
            return False  # read again already: until it is mined (under this id or another)
        assert stored.batch_id is not None
        times = self._mismatched[stored.post_tx] = self._mismatched.get(stored.post_tx, 0) + 1
        hex_hash = HexBytes(stored.post_tx).to_0x_hex()
        if times <= _MISMATCH_READS:
            log.warning(
                "batch %d on the chain is not post %s's: reading that post again",
                stored.batch_id,
                hex_hash,
            )
            self._read_again(stored.post_tx, stored.batch_id, 0)
        elif times == _MISMATCH_READS + 1:
            # its receipt names this batch each time, yet the chain's batch is not the book's
            # (its tickets' leaves or its commitment): kept out of following
            log.error(
                "batch %d is post %s's on the chain, but not as the book has it: not followed",
                stored.batch_id,
                hex_hash,
            )
        return False

    def _row(self, batch_id: int) -> StoredBatch | None:
        """The book's batch ``batch_id``: the post last found to be it on the chain, when the
        book holds more than one under that id (a stale row not read again yet)."""
        return self.book.batch(batch_id, self._followed.get(batch_id))

    async def _recheck_opens(self) -> None:
        """Batches opened in the last ``_REORG_BLOCKS`` blocks: one Finalized again lost its open
        to a reorg (nothing sends a mined transaction again) and is followed again, so it is
        opened again and its attesters are paid."""
        head = int(await self.view.rpc.call("eth_blockNumber", []), 16)
        ids = list(self._opened_in)
        batches = await self.view.get_batches(ids, missing=True)
        for batch_id, batch in zip(ids, batches, strict=True):
            if batch and int(batch["state"]) == _FINALIZED:
                log.warning(
                    "openResults of batch %d (block %d) was dropped by a reorg: opening again",
                    batch_id,
                    self._opened_in.pop(batch_id, 0),
                )
                self.book.batch_done(batch_id, POSTED)  # followed again (a stale row is not)
            elif head - self._opened_in.get(batch_id, head) >= _REORG_BLOCKS:
                self._opened_in.pop(batch_id, None)

    # ---- co-signatures ---------------------------------------------------------------------

    def _opened(self, batch_id: int, opening: bytes) -> _Opening:
        """The batch's opening decoded, kept per batch while it is followed: every tick of a
        finalized batch waiting for its challenge window asks which co-signatures are missing,
        and every co-signature that comes in is checked against it (decoding the opening and
        checksumming its attesters each time cost more of the gateway's CPU than the calls)."""
        known = self._openings.get(batch_id)
        if known is None or known.opening != opening:
            results = decode_results(opening)
            names = cosigners(results)
            known = _Opening(opening, results, names, frozenset(a.lower() for a in names))
            self._openings[batch_id] = known
        return known

    def _missing(self, batch_id: int, opening: bytes) -> list[str]:
        """The attesters of the batch's opening that have not co-signed it yet (a batch found
        complete is not read again: co-signatures are only added while it is followed)."""
        known = self._opened(batch_id, opening)
        if known.complete:
            return []
        have = self.book.cosignatures(batch_id)
        missing = [a for a in known.cosigners if a.lower() not in have]
        known.complete = not missing
        return missing

    async def ask_cosignatures(self, batch_id: int) -> None:
        """Asks every attester of the batch's opening that has not co-signed yet (over the feed)."""
        stored = self._row(batch_id)
        if self._ask is None or stored is None or not stored.opening:
            return
        self._asked[batch_id] = time.monotonic()
        missing = set(self._missing(batch_id, stored.opening))
        if not missing:
            return
        requests = cosign_requests(batch_id, self._tickets_of(stored), stored.opening)
        for attester, request in requests.items():
            if attester in missing and not await self._ask(attester, request):
                log.info("attester %s of batch %d is not linked: not asked", attester, batch_id)

    def cosigned(self, worker: str, cosignature: Cosignature) -> bool:
        """Keeps ``worker``'s co-signature when it is its batch attestation of a batch this gateway
        posted and listed it on; False (logged) otherwise."""
        batch_id = cosignature.batch_id
        stored = self._row(batch_id)
        if stored is None or stored.batch_id is None or not stored.opening:
            log.warning("co-signature from %s names unknown batch %d", worker, batch_id)
            return False
        if self._followed.get(batch_id) != stored.post_tx:
            # asked for only once the batch is found to be this post on the chain: one that comes
            # for a batch not followed (now) may be a stale post's, and would pass for the next's
            log.warning("co-signature from %s for batch %d, not followed now", worker, batch_id)
            return False
        known = self._opened(batch_id, stored.opening)
        if worker.lower() not in known.lowered:
            log.warning("co-signature from %s, not an attester of batch %d", worker, batch_id)
            return False
        if known.root is None:  # the batch's tickets are fixed once it is posted
            known.root = batch_root([Leaf.of(t.ticket) for t in self._tickets_of(stored)])
        config = self.view.config
        digest = cosign_digest(
            config.chain_id,
            config.settlement,
            batch_id,
            self.sender.address,
            known.root,
            known.results,
            worker,
        )
        try:
            signer = recover_digest(digest, cosignature.signature)
        except FeedMessageError:
            signer = ""
        if signer.lower() != worker.lower():
            log.warning("co-signature from %s of batch %d does not recover", worker, batch_id)
            return False
        self.book.add_cosignature(batch_id, worker, cosignature.signature)
        return True

    async def _leaf_states(self, batch_id: int, indices: list[int | None]) -> list[int]:
        """``leafState`` of each leaf, read in one JSON-RPC batch (one HTTP round trip per
        settled batch instead of one per ticket: the calls were a sixth of the gateway's CPU)."""
        view = self.view
        calls = []
        for index in indices:
            assert index is not None
            data = HexBytes(view.encode("leafState", batch_id, index)).to_0x_hex()
            calls.append(("eth_call", [{"to": view.config.settlement, "data": data}, "latest"]))
        states = []
        for result in await view.rpc.batch(calls) if calls else []:
            if isinstance(result, RpcError):
                raise result
            states.append(int(view.coordinator.decode_result("leafState", bytes(HexBytes(result)))))
        return states

    async def _window_passed(self, batch: dict[str, Any]) -> bool:
        """Whether the batch's challenge window has passed (openResults reverts before)."""
        if self._challenge_window is None:
            try:
                courts = self._courts = await CourtsView.load(self.view)
                self._challenge_window = int((await courts.params())["challengeWindow"])
            except (LookupError, ValueError, RpcError):
                self._challenge_window = 0  # a deployment without the accountability courts
        # an idle automining chain's last block lags the clock; the open's own block will not
        # (less the lag the chain's clock was seen behind it: a devnet after a reorg)
        if self._chain_time is None:
            self._chain_time = await self.view.block_timestamp()
        now = max(self._chain_time, int(self._chain_now()))
        return now >= int(batch["finalizedAt"]) + self._challenge_window

    async def _open(
        self,
        stored: StoredBatch,
        opening: bytes,
        vector: list[bytes],
        cosignatures: bytes,
        leaves: int,
    ) -> bool:
        """Sends ``openResults``; False when it should be sent again later: the chain refused it
        because its challenge window had not passed by the chain's clock (behind the gateway's
        after a reorg on a devnet, or on a node whose clock lags), or the transaction did not go
        out. The lag seen is remembered, so the next open waits for the chain's clock."""
        batch_id = stored.batch_id
        assert batch_id is not None
        data = self.view.encode("openResults", batch_id, stored.salt, opening, vector, cosignatures)
        # one co-signature recovered per attester, a few k gas per leaf (a compact opening sends
        # no vector: the leaves are counted from the results)
        gas = 400_000 + 10_000 * leaves
        async with self._lock:
            await self.sender.prepare()
            tx_hash, sent = self.sender.sign(self.view.config.settlement, data, gas=gas)
        try:
            await sent
            receipt = await self.sender_wait(tx_hash)
        except (RpcError, ChainUnavailable, TimeoutError) as exc:
            log.warning("openResults of batch %d not sent: %s", batch_id, exc)
            return False
        if int(str(receipt["status"]), 16) == 1:
            self._open_tries.pop(batch_id, None)
            self._opened_in[batch_id] = int(str(receipt["blockNumber"]), 16)
            log.info("opened the attested results of batch %d", batch_id)
            return True
        reason = await self._refusal(receipt)
        tries = self._open_tries[batch_id] = self._open_tries.get(batch_id, 0) + 1
        if reason is None and tries < _OPEN_TRIES:
            # not read (the node dropped): opened again later, not given up; counted with the
            # window's refusals (a replay that never answers sends at most _OPEN_TRIES opens)
            log.warning(
                "openResults of batch %d refused; the reason not read yet: opened again later",
                batch_id,
            )
            return False
        reason = reason or "reverted"
        if "ChallengeWindowOpen" in reason and tries < _OPEN_TRIES:
            block = await self.view.rpc.call(
                "eth_getBlockByNumber", [receipt["blockNumber"], False]
            )
            behind = max(0.0, time.time() - int(str(block["timestamp"]), 16))
            if behind:
                self._lag = max(self._lag, behind + 1.0)
            log.warning(
                "openResults of batch %d refused: its challenge window is still open by the "
                "chain's clock (%d s behind); opened again later",
                batch_id,
                round(behind),
            )
            return False
        self._open_tries.pop(batch_id, None)
        log.error(
            "openResults of batch %d reverted: %s; its attesters are not paid", batch_id, reason
        )
        return True
