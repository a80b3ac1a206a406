"""Fault-injection scenarios on the ticket path, and the on-chain check each one ends with.

Imported by module name by the tests beside it and by ``bench/faults.py`` (never from a conftest).
Every scenario runs against a running :class:`~ticket_stack.TicketStack` (a real anvil, the
contracts, the gateway and three workers as processes), with traffic flowing, and is seeded: the
same seed picks the same victim, crash moment, modes and inputs. Each ends with :func:`settled`:

- every ticket the gateway issued during the scenario is a leaf of exactly one posted batch
  (gateway batch or orphans posted by an attester), and that leaf reached a terminal state
  (Final or Unaudited: paid; Refunded; Disputed with its case closed by the DisputeCourt; or its
  batch Expired: refunded); a ticket no batch carries
  must be one nobody attested (it was never charged: the gateway died before any worker answered);
- no honest worker lost stake or was slashed; a worker killed lost exactly its no-show penalties
  (the coordinator's ``SeatSlashed`` and the DisputeCourt's ``VoterSlashed`` with reason 1, the
  protocol's rule for a seat or vote that never opens), every wei of its ``StakeSlashed``
  explained by them (:func:`check_losses`);
- in the reorg scenarios, every batch the gateway posted with attested results that finalized
  was also opened (``openResults``: its attesters paid), not left Finalized.
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from crashing_worker import CRASH_ENV
from crashing_worker import PROGRAM as CRASHING_WORKER
from node_proxy import ProxiedDevnet
from skewed_worker import PROGRAM as SKEWED_WORKER
from skewed_worker import SKEW_ENV

from peerhost.chain.courts import CourtsView
from peerhost.chain.settlement import SettlementView
from peerhost.devnet.accounts import worker_key
from peerhost.devnet.settlement import devnet_court_params, devnet_settlement_params
from peerhost.devnet.stack import START_TIMEOUT, DevnetConfig
from peerhost.worker.launcher import start_worker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tickets"))
from ticket_stack import TicketStack, sandbox_cache_dir, ticket_config  # noqa: E402

# ISettlementCoordinator.LeafState / BatchState
_FINAL, _UNAUDITED, _REFUNDED, _DISPUTED = 2, 3, 4, 5
_CASE_CLOSED = 4  # IDisputeCourt.CaseState
_VOIDED = 3  # IEvidenceCourt.DataChallenge.state
_BATCH_FINALIZED, _BATCH_EXPIRED = 3, 5
_NO_SHOW = 1
MODES = ("fast", "attested")


def fault_config(
    root: Path, pytest_config: Any = None, sandbox_cache: Path | None = None
) -> DevnetConfig:
    """The stack the scenarios run on: the e2e ticket stack with ``COMMIT_WINDOW`` and ``REVEAL_WINDOW``
    (s) (a dead seat's no-show settles within a scenario), tier votes of ``COURT_WINDOW``, workers staking ``WORKER_STAKE``
    (a campaign's stack outlives several runs that drain a dead worker's stake) and a gateway
    that posts every two seconds (a crash finds tickets unposted)."""
    params = replace(
        devnet_settlement_params(3), commit_window=COMMIT_WINDOW, reveal_window=REVEAL_WINDOW
    )
    return ticket_config(
        root,
        sandbox_cache or sandbox_cache_dir(pytest_config, root / "sandbox-cache"),
        settlement_params=params,
        gateway_settings={"batch_interval": 2.0},
        worker_stake=WORKER_STAKE,
        court_params=replace(
            devnet_court_params(), commit_window=COURT_WINDOW, reveal_window=COURT_WINDOW
        ),
    )


#: The fault stack's commit and reveal windows (s). A dead seat's batch waits them out (a seat
#: that never committed: the commit window; one that committed and never revealed: both), so they
#: set the `-down` scenarios' length. They stay 45 s: with a 20 s commit window an honest seat was
#: slashed as a no-show at load 28 (`worker-killed-reveal-down` seed 901 on three stacks: a leaf's
#: input unavailable, its fetch and data-availability challenge took the window and the commitment
#: reverted `WrongPhase`; docs/faults.md), and a restart between commit and reveal must fit in the
#: reveal window (27 s seen under load).
COMMIT_WINDOW, REVEAL_WINDOW = 45, 45

#: The fault stack's tier-vote commit and reveal windows (s; the devnet's are 10). A voter commits
#: 3.5 s before a 10 s window's end, and commitments took up to 6.8 s to land at load 22-32 (three
#: stacks): an honest voter was slashed as a tier no-show (docs/faults.md).
COURT_WINDOW = 20

#: Each worker's stake on the fault stack (wei). A run that leaves a worker down costs it its
#: seats' and tier-2 panels' no-shows (0.05 ETH each) and its tier-3 votes' (5 % of its stake
#: each): all of a 2 ETH stake in one `worker-killed-commit-down` run, and ``bench/faults.py``
#: replaces a stack whose workers fell below 1 ETH (a minute or more of setup, after nearly every
#: `-down` run). At 10 ETH a stack outlives several such runs. The draws are unchanged (every
#: worker stakes the same).
WORKER_STAKE = 10 * 10**18


class ScenarioFailed(AssertionError):
    """A scenario's check failed (the message says which ticket or worker and why)."""


@dataclass
class Outcome:
    """What one scenario run did and found."""

    name: str
    seed: int
    victim: str = ""  # the worker killed, if one was
    tickets: int = 0  # issued by the gateway during the run
    posted: int = 0  # leaves on-chain (each exactly once)
    paid: int = 0
    refunded: int = 0
    never_charged: int = 0  # issued, attested by nobody, never posted
    orphaned: int = 0  # of the posted, how many an attester posted (orphans: the gateway's bond)
    answered: int = 0  # HTTP 200s
    failed_calls: int = 0  # HTTP errors or non-200 (expected while a process is down)
    slashed: dict[str, int] = field(default_factory=dict)  # worker -> wei lost (no-shows)
    swept: int = (
        0  # batches owing a restarted worker seat pay from before its start, each claimed once
    )
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.name} seed={self.seed}: {self.tickets} ticket(s), {self.paid} paid, "
            f"{self.refunded} refunded, {self.never_charged} never charged"
            + (f", {self.orphaned} posted as orphans" if self.orphaned else "")
            + f"; {self.answered} answered, {self.failed_calls} failed call(s)"
            + (f"; no-show slashes {self.slashed}" if self.slashed else "")
            + (
                f"; seat pay of {self.swept} batch(es) owed at restart, claimed once"
                * bool(self.swept)
            )
        )


# ---- traffic -------------------------------------------------------------------------------


class Traffic:
    """``clients`` threads calling the examples' ``hello`` (seeded inputs and modes), each
    waiting for its answer, until :meth:`stop` or ``limit`` calls in all (bounded)."""

    def __init__(self, stack: TicketStack, seed: int, clients: int = 2, limit: int = 200) -> None:
        self.stack = stack
        self.rng = random.Random(seed)
        self.clients = clients
        self.limit = limit
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.calls = 0
        self.answered = 0
        self.failed = 0
        self.threads: list[threading.Thread] = []

    def __enter__(self) -> Traffic:
        for n in range(self.clients):
            thread = threading.Thread(target=self._client, name=f"traffic-{n}", daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=150)

    def _next(self) -> tuple[str, str] | None:
        with self.lock:
            if self.calls >= self.limit or self.stopping.is_set():
                return None
            self.calls += 1
            return self.rng.choice(MODES), f"caller-{self.rng.randrange(1_000_000)}"

    def _client(self) -> None:
        with httpx.Client(timeout=60.0) as http:
            while (call := self._next()) is not None:
                mode, name = call
                try:
                    response = http.get(
                        self.stack.example("hello"),
                        params={"name": name},
                        headers={"x-peerhost-mode": mode},
                    )
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                with self.lock:
                    if ok:
                        self.answered += 1
                    else:
                        self.failed += 1
                # a steady trickle (not a flood: the check reads every ticket back from the chain);
                # longer after a failure (a process is down: do not spin)
                time.sleep(0.1 if ok else 0.3)


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise ScenarioFailed(f"{what}: not within {timeout:.0f} s")


# ---- what the processes recorded --------------------------------------------------------------


def _rows(path: Path, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return list(db.execute(sql, args).fetchall())
    finally:
        db.close()


def book_path(stack: TicketStack) -> Path:
    return stack.devnet.state_dir / "gateway" / "tickets.sqlite3"


def next_seq(stack: TicketStack) -> int:
    rows = _rows(book_path(stack), "SELECT value FROM meta WHERE key = 'next_seq'")
    return int(rows[0][0]) if rows else 0


def issued(stack: TicketStack, since: int) -> dict[int, tuple[str, int]]:
    """seq -> (state, attestations the gateway holds) of the tickets issued from ``since``."""
    rows = _rows(
        book_path(stack), "SELECT seq, state, attestations FROM tickets WHERE seq >= ?", (since,)
    )
    return {int(seq): (str(state), len(json.loads(a))) for seq, state, a in rows}


def attested_by_workers(stack: TicketStack, since: int) -> set[int]:
    """Seqs (of this stack's gateway) some worker recorded an attestation for."""
    gateway = stack.devnet.gateway_key.address.lower()
    out: set[int] = set()
    for n in range(stack.devnet.config.workers):
        path = stack.devnet.worker_dir(n) / "attested.sqlite3"
        for (seq,) in _rows(
            path,
            "SELECT seq FROM attested WHERE gateway = ? AND seq >= ? AND result_hash IS NOT NULL",
            (gateway, since),
        ):
            out.add(int(seq))
    return out


# ---- the chain -------------------------------------------------------------------------------


async def placements(
    view: SettlementView, gateway: str, from_block: int
) -> dict[int, list[tuple[int, int, bool]]]:
    """seq -> every (batch id, leaf index, posted by the gateway) of ``gateway``'s tickets posted
    since ``from_block``, read from the posting transactions' calldata (the contract's own bitmap
    is not trusted)."""
    out: dict[int, list[tuple[int, int, bool]]] = {}
    seen: set[int] = set()
    for raw, args in await view.logs("BatchPosted", from_block):
        if str(args["gateway"]).lower() != gateway.lower() or raw.get("removed"):
            continue
        batch_id = int(args["batchId"])
        # A batch id is posted once on any one chain: the same id twice in one answer is the node
        # reporting one post twice across a reorg (anvil did, seed 503 of reorg-shallow), not a
        # second post of its tickets (that would be a second batch id).
        if batch_id in seen:
            continue
        # anvil 1.7.1: a post mined as anvil_reorg ran keeps its receipt and its log while the
        # chain's state has no such batch, or another under its id (reorg-deep seed 5209, a
        # post 50 ms after the reorg: getBatch(200) UnknownBatch). Counted only when the chain
        # holds a batch with the log's root under that id; its tickets wait to be posted again
        (batch,) = await view.get_batches([batch_id], missing=True)
        if not batch or bytes(batch["root"]) != bytes(args["root"]):
            continue
        seen.add(batch_id)
        tx = await view.rpc.call("eth_getTransactionByHash", [raw["transactionHash"]])
        own = str(tx["from"]).lower() == gateway.lower()
        for index, leaf in enumerate(await view.posted_leaves(raw["transactionHash"])):
            out.setdefault(leaf.seq, []).append((batch_id, index, own))
    return out


async def _unopened(
    view: SettlementView, placed: dict[int, list[tuple[int, int, bool]]]
) -> list[str]:
    """The gateway's own batches that finalized with attested results (a non-zero results
    commitment) and were not opened: their attesters are not paid."""
    own = sorted({b for where in placed.values() for b, _, mine in where if mine})
    out = []
    for batch_id in own:
        batch = await view.get_batch(batch_id)
        committed = bytes(batch["resultsCommitment"]) != bytes(32)
        if committed and int(batch["state"]) == _BATCH_FINALIZED:
            out.append(f"batch {batch_id}: attested results not opened (attesters unpaid)")
    return out


async def _case_closed(view: SettlementView, batch_id: int, index: int, outcome: Outcome) -> bool:
    """A disputed leaf is terminal once the DisputeCourt closed its case (paid to the tier that
    decided it). A leaf whose input the gateway never served is also voided by the EvidenceCourt:
    the gateway's bond pays the project back (noted)."""
    courts = await CourtsView.load(view)
    if int((await courts.case_of(batch_id, index))["state"]) != _CASE_CLOSED:
        return False
    if int((await courts.data_challenge_of(batch_id, index))["state"]) == _VOIDED:
        note = f"batch {batch_id} leaf {index}: input unavailable, voided (gateway's bond refunds)"
        if note not in outcome.notes:
            outcome.notes.append(note)
    return True


async def stakes(
    view: SettlementView, workers: list[str], block: int | str = "latest"
) -> dict[str, int]:
    return {w: int((await view.staker(w, block))["stake"]) for w in workers}


#: What a slash was for, by where it came from: the coordinator's seat slashes (``SeatSlashed``) and
#: the DisputeCourt's tier slashes (``VoterSlashed``), each reason 0 (a wrong value) or 1 (a
#: no-show). Only the no-shows are what a dead worker may lose.
SEAT_NO_SHOW, TIER_NO_SHOW = "seat no-show", "tier no-show"
NO_SHOWS = (SEAT_NO_SHOW, TIER_NO_SHOW)


async def slashes(
    view: SettlementView,
    from_block: int,
    to_block: int | str = "latest",
    batches: dict[str, set[int]] | None = None,
) -> dict[str, dict[str, int]]:
    """worker -> what it lost since ``from_block``, itemized: wei per kind of slash (``seat
    no-show``, ``seat wrong``, ``tier no-show``, ``tier wrong``) and, under ``stake``, the stake
    registry's own count (``StakeSlashed``: every slash whatever its source; the items must add
    up to it, so a slash from elsewhere, such as an attestation slash, shows as unexplained).
    ``batches``, when given, gets worker -> the batches its seat and tier slashes came from."""
    out: dict[str, dict[str, int]] = {}

    def add(worker: Any, kind: str, amount: Any, batch: Any = None) -> None:
        items = out.setdefault(str(worker).lower(), {})
        items[kind] = items.get(kind, 0) + int(amount)
        if batches is not None and batch is not None:
            batches.setdefault(str(worker).lower(), set()).add(int(batch))

    for _, args in await view.logs("SeatSlashed", from_block, to_block):
        kind = SEAT_NO_SHOW if int(args["reason"]) == _NO_SHOW else "seat wrong"
        add(args["worker"], kind, args["amount"], args["batchId"])
    courts = await CourtsView.load(view)
    for _, args in await courts.logs("dispute", "VoterSlashed", from_block, to_block=to_block):
        kind = TIER_NO_SHOW if int(args["reason"]) == _NO_SHOW else "tier wrong"
        add(args["worker"], kind, args["amount"], args["batchId"])
    for _, args in await view.logs("StakeSlashed", from_block, to_block, contract="stakes"):
        add(args["worker"], "stake", args["amount"])
    return out


def check_losses(
    before: dict[str, int],
    after: dict[str, int],
    items: dict[str, dict[str, int]],
    dead: Collection[str] = (),
    batches: Mapping[str, Collection[int]] | None = None,
    since: int | None = None,
) -> dict[str, int]:
    """Raises :class:`ScenarioFailed` unless every worker's loss is what the protocol takes: a
    live worker loses nothing and is slashed for nothing; a dead worker (killed, its seats and
    votes unopened) loses exactly its no-show slashes, the coordinator's seat no-shows and the
    courts' tier no-shows of the tiers it was drawn on while down, every wei of them also counted
    by the stake registry, and no slash for a wrong value. Returns worker -> no-show wei lost.

    ``batches`` (worker -> the batches its slashes came from, :func:`slashes`) and ``since`` (the
    last block before the run) name in the reason where a slash came from: the window holds
    every slash of the blocks after ``since``, a batch an earlier run posted that settled only
    now among them (campaign on 2aa9f90: run 2 failed for a slash of run 1's batch 228)."""
    dead_ = {w.lower() for w in dead}

    def source(worker: str) -> str:
        named = sorted((batches or {}).get(worker.lower(), ()))
        if not named:
            return ""
        window = f"after block {since}" if since is not None else "of the run's window"
        return (
            f"; from batch{'es' if len(named) > 1 else ''} {', '.join(map(str, named))} (every "
            f"slash in the blocks {window} counts, of a batch an earlier run posted too)"
        )

    out: dict[str, int] = {}
    # every worker's wrong loss is named, the honest ones' first (one run's reason named only
    # the first: worker-3's 0.25 ETH of tier no-shows beside worker-2's 0.05, seed 3924)
    honest: list[str] = []
    killed: list[str] = []
    for worker, stake in after.items():
        lost = before[worker] - stake
        got = items.get(worker.lower(), {})
        itemized = {k: v for k, v in got.items() if k != "stake" and v}
        if worker.lower() not in dead_:
            # any slash event counts, of 0 wei too: a worker whose stake earlier runs drained is
            # still judged (a no-show slash of nothing is still a no-show of an honest worker)
            if lost or got:
                judged = {k: v for k, v in got.items() if k != "stake"}
                honest.append(
                    f"honest worker {worker} lost {lost} wei of stake (slashes: {judged})"
                    + source(worker)
                )
            continue
        no_shows = sum(itemized.get(k, 0) for k in NO_SHOWS)
        wrong = {k: v for k, v in itemized.items() if k not in NO_SHOWS}
        if wrong or lost != no_shows or got.get("stake", 0) != no_shows:
            killed.append(
                f"{worker} (killed) lost {lost} wei; its slashes: {itemized}, the stake "
                f"registry's {got.get('stake', 0)} wei: not exactly its no-show penalties"
                + source(worker)
            )
        if no_shows:
            out[worker] = no_shows
    if honest or killed:
        raise ScenarioFailed("; ".join(honest + killed))
    return out


@dataclass
class Before:
    """The state a scenario's check compares with: the gateway's next seq, and the workers'
    stakes as they were at the end of ``block`` (so the run's slashes are those of the blocks
    after it, :func:`losses`)."""

    seq: int
    block: int
    stakes: dict[str, int]


def worker_addresses(stack: TicketStack) -> list[str]:
    return [worker_key(n).address for n in range(stack.devnet.config.workers)]


async def baseline(view: SettlementView, workers: list[str]) -> tuple[int, dict[str, int]]:
    """The head block and every worker's stake at that very block. Read apart (the number, then
    the stakes at ``latest``), a block mined between the two reads had its slashes taken off the
    baseline and also counted in the run's window: a slash of the run before, of the worker this
    run killed, showed as "lost 0 wei; its slashes: seat no-show 0.05 ETH"
    (``worker-killed-commit-restarted`` seed 800)."""
    block = await view.block_number()
    return block, await stakes(view, workers, block)


async def losses(
    view: SettlementView,
    workers: list[str],
    since: int,
    batches: dict[str, set[int]] | None = None,
) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Every worker's stake at the head block and its slashes in the blocks after ``since`` up
    to that head (:func:`slashes`; ``batches`` gets the batches they came from): the same blocks
    the stakes moved in since a :func:`baseline` read at ``since`` (whose own block's slashes it
    already has taken off)."""
    head = await view.block_number()
    items = await slashes(view, since + 1, head, batches) if head > since else {}
    return await stakes(view, workers, head), items


def snapshot(stack: TicketStack) -> Before:
    block, staked = stack.view(lambda view: baseline(view, worker_addresses(stack)))
    return Before(seq=next_seq(stack), block=block, stakes=staked)


def settled(
    stack: TicketStack,
    before: Before,
    outcome: Outcome,
    *,
    dead: Collection[str] = (),
    by_gateway: bool = False,
    opened: bool = False,
    timeout: float = 240.0,
) -> Outcome:
    """Waits until every ticket issued since ``before`` is terminal on-chain (module docstring)
    and checks the stakes; raises :class:`ScenarioFailed` naming what is stuck or wrong. With
    ``by_gateway`` every ticket must have been posted by the gateway itself (not as an orphan).
    With ``opened`` every batch the gateway posted with attested results and that finalized must
    also have been opened (``openResults``: its attesters paid), not left Finalized."""
    gateway = stack.devnet.gateway_key.address
    end = next_seq(stack)
    seqs = range(before.seq, end)
    outcome.tickets = len(seqs)
    last: list[str] = []

    async def check(view: SettlementView) -> bool:
        placed = await placements(view, gateway, before.block)
        book = issued(stack, before.seq)
        attested = attested_by_workers(stack, before.seq)
        stuck: list[str] = []
        paid = refunded = never = 0
        for seq in seqs:
            where = placed.get(seq, [])
            if len(where) > 1:
                raise ScenarioFailed(f"ticket seq {seq} was posted {len(where)} times: {where}")
            if not where:
                state, held = book.get(seq, ("unsaved", 0))
                if seq in attested or held:
                    stuck.append(f"seq {seq}: attested, not posted yet (gateway book: {state})")
                elif state in ("issued", "posting") and stack.devnet.gateway_alive():
                    stuck.append(f"seq {seq}: issued, not posted yet")
                else:
                    never += 1
                continue
            batch_id, index, own = where[0]
            if by_gateway and not own:
                raise ScenarioFailed(
                    f"ticket seq {seq} was posted as an orphan, not by the gateway"
                )
            batch = await view.get_batch(batch_id)
            if int(batch["state"]) == _BATCH_EXPIRED:
                refunded += 1
                continue
            leaf = await view.leaf_state(batch_id, index)
            if leaf in (_FINAL, _UNAUDITED):
                paid += 1
            elif leaf == _REFUNDED:
                refunded += 1
            elif leaf == _DISPUTED and await _case_closed(view, batch_id, index, outcome):
                paid += 1
            else:
                stuck.append(f"seq {seq}: batch {batch_id} leaf {index} in state {leaf}")
        if opened and not stuck:
            stuck.extend(await _unopened(view, placed))
        last[:] = stuck
        if stuck:
            return False
        outcome.posted = sum(1 for s in seqs if placed.get(s))
        outcome.orphaned = sum(1 for s in seqs if placed.get(s) and not placed[s][0][2])
        outcome.paid, outcome.refunded, outcome.never_charged = paid, refunded, never
        return True

    deadline = time.monotonic() + timeout
    while not stack.view(check):
        # The devnet mines a block per transaction: with the traffic stopped its clock stands
        # still, and a batch waiting out a dead seat's commit or reveal deadline would wait for
        # ever. A live chain makes blocks as time passes; so does this loop.
        rpc(stack, "evm_mine")
        if time.monotonic() > deadline:
            raise ScenarioFailed(
                f"{outcome.name} seed {outcome.seed}: tickets not terminal after {timeout:.0f} s: "
                + "; ".join(last[:10])
            )
        time.sleep(1.0)

    batches: dict[str, set[int]] = {}
    staked, items = stack.view(
        lambda view: losses(view, worker_addresses(stack), before.block, batches)
    )
    outcome.slashed = check_losses(
        before.stakes, staked, items, dead, batches=batches, since=before.block
    )
    for worker in outcome.slashed:
        kinds = {k: v for k, v in items[worker.lower()].items() if k in NO_SHOWS}
        outcome.notes.append(f"{worker} (killed) lost its no-shows: {kinds}")
    return outcome


#: How many of the newest batches :func:`owed_now` reads (a worker's sweep reads 2,000; the pay of
#: older batches is owed from runs long past, whose starts swept it).
SWEEP_LOOKBACK = 100


async def owed_now(view: SettlementView, worker: str) -> tuple[int, dict[int, int]]:
    """The head block and, of the ``SWEEP_LOOKBACK`` newest batches, batch id -> the wei of seat
    pay ``worker`` may claim now."""
    head = await view.block_number()
    count = await view.batch_count()
    first = max(1, count - SWEEP_LOOKBACK + 1)
    owed = {b: await view.seat_pay_of(b, worker) for b in range(first, count + 1)}
    return head, {b: wei for b, wei in owed.items() if wei}


def claimed_once(
    stack: TicketStack, worker: str, owed: dict[int, int], from_block: int, timeout: float = 90.0
) -> None:
    """Waits until ``worker`` claimed the seat pay of every batch in ``owed`` (what it was owed
    when it started: its start-up sweep's work, ``Accountability.sweep_claims``), each exactly
    once and in full, and checks that no batch since ``from_block`` paid it twice. Raises
    :class:`ScenarioFailed` naming the batch otherwise."""
    last: list[str] = []

    async def check(view: SettlementView) -> bool:
        claims: dict[int, list[int]] = {}
        for _, args in await view.logs("SeatPayClaimed", from_block):
            if str(args["holder"]).lower() == worker.lower():
                claims.setdefault(int(args["batchId"]), []).append(int(args["amount"]))
        if twice := {b: a for b, a in claims.items() if len(a) > 1}:
            raise ScenarioFailed(f"{worker} was paid twice for a seat: {twice}")
        wrong = {b: (claims[b][0], wei) for b, wei in owed.items() if b in claims}
        if wrong := {b: got for b, got in wrong.items() if got[0] != got[1]}:
            raise ScenarioFailed(f"{worker}'s seat pay claimed (got, owed): {wrong}")
        last[:] = [
            f"batch {b}: {await view.seat_pay_of(b, worker)} wei still owed"
            for b in sorted(owed)
            if b not in claims
        ]
        return not last

    deadline = time.monotonic() + timeout
    while not stack.view(check):
        if time.monotonic() > deadline:
            raise ScenarioFailed(
                f"{worker}, restarted, never claimed the seat pay owed from before its start "
                f"(its start-up sweep) within {timeout:.0f} s: " + "; ".join(last[:10])
            )
        rpc(stack, "evm_mine")  # claims wait out a challenge window on the chain's clock
        time.sleep(1.0)


# ---- processes -------------------------------------------------------------------------------


def launch_crashing(stack: TicketStack, n: int, point: str) -> Any:
    """Replaces worker ``n`` (stopped gracefully) with a crashing one (same key, same state)."""
    devnet = stack.devnet
    devnet.workers[n].stop(timeout=30.0)
    assert devnet.chain_config is not None
    proc = start_worker(
        devnet.chain_config,
        worker_key(n).private_key,
        devnet.worker_settings(n),
        ready_timeout=START_TIMEOUT,
        program=CRASHING_WORKER,
        extra_env={CRASH_ENV: point},
    )
    devnet.workers[n] = proc
    devnet.wait_for_feeds(devnet.config.workers)
    return proc


def relaunch(stack: TicketStack, n: int) -> None:
    """Starts worker ``n`` again as an honest worker (same key and state) and waits for feeds."""
    devnet = stack.devnet
    devnet.workers[n].kill()
    devnet.workers[n] = devnet.launch_worker(n)
    devnet.wait_for_feeds(devnet.config.workers)


def crashes(proc: Any, point: str) -> list[dict[str, Any]]:
    """The crash events at ``point`` written by this very process. A worker started again with
    its data directory appends to the same log: the first crash event in it may be an earlier
    run's (the reveal check then read another run's batch, whose reveal was not in this run's
    blocks: ``never revealed its commitment in batch 12``)."""
    pid = proc.process.pid
    return [
        e for e in proc.events("fault_injected") if e.get("point") == point and e.get("pid") == pid
    ]


def crashed_at(proc: Any, point: str) -> bool:
    return not proc.alive() and bool(crashes(proc, point))


# ---- the scenarios ---------------------------------------------------------------------------


def worker_killed(stack: TicketStack, seed: int, point: str, restart: bool) -> Outcome:
    """A worker dies by SIGKILL at ``point`` (after attesting, after committing, before
    revealing) while calls flow; it is started again at once (``restart``) or stays down."""
    rng = random.Random(seed)
    name = f"worker-killed-{point}-{'restarted' if restart else 'down'}"
    outcome = Outcome(name, seed)
    n = rng.randrange(stack.devnet.config.workers)
    victim = outcome.victim = worker_key(n).address
    # Each start of the victim (the crashing program now, the honest one after the crash) sweeps
    # the seat pay it is owed from before it (Accountability.sweep_claims): read while it is down
    # (nothing claims for it then), each batch must be claimed once, in full, by the end
    stack.devnet.workers[n].stop(timeout=30.0)
    claims_from, owed = stack.view(lambda view: owed_now(view, victim)) if restart else (0, {})
    proc = launch_crashing(stack, n, point)
    before = snapshot(stack)
    try:
        with Traffic(stack, rng.randrange(2**32), clients=2, limit=400) as traffic:
            wait_until(lambda: not proc.alive(), 180, f"worker-{n + 1} reaching {point}")
            if not crashed_at(proc, point):
                raise ScenarioFailed(f"worker-{n + 1} died, but not at {point}: {proc.log_tail()}")
            batch = int(crashes(proc, point)[0].get("batch", 0))
            outcome.notes.append(
                f"worker-{n + 1} killed at {point}" + f" of batch {batch}" * bool(batch)
            )
            if restart:
                _, more = stack.view(lambda view: owed_now(view, victim))
                owed.update(more)  # what the first start's sweep had not claimed yet is in both
                started = time.monotonic()
                relaunch(stack, n)
                outcome.notes.append(f"back in {time.monotonic() - started:.0f} s")
            # traffic goes on a little with the victim up again or down
            target = min(traffic.calls + 4, traffic.limit)
            wait_until(lambda: traffic.calls >= target, 120, "calls after the crash")
        outcome.answered, outcome.failed_calls = traffic.answered, traffic.failed
        # While it is down (restarted or not) its seats in batches posted meanwhile are the
        # protocol's no-shows; nothing else may cost it anything.
        settled(stack, before, outcome, dead={victim})
        if restart:  # (left down, it has no start to sweep before the check)
            claimed_once(stack, victim, owed, claims_from)
            outcome.swept = len(owed)
        if restart and batch:  # back, it opens the commitment it made before the crash

            async def revealed(view: SettlementView) -> bool:
                logs = await view.logs("SeatRevealed", before.block, batch_id=batch)
                return any(str(args["worker"]).lower() == victim.lower() for _, args in logs)

            if not stack.view(revealed):
                raise ScenarioFailed(
                    f"worker-{n + 1}, restarted ({'; '.join(outcome.notes)}), never revealed its "
                    f"commitment in batch {batch}"
                )
        return outcome
    finally:
        if not stack.devnet.workers[n].alive():
            relaunch(stack, n)


def gateway_killed(stack: TicketStack, seed: int, restart: bool) -> Outcome:
    """The gateway dies by SIGKILL with calls in flight and tickets not yet posted; it is
    started again (it posts what it owes, each ticket once) or stays down (the attesters post
    the tickets they attested as orphans)."""
    rng = random.Random(seed)
    name = f"gateway-killed-{'restarted' if restart else 'down'}"
    outcome = Outcome(name, seed)
    devnet = stack.devnet
    before = snapshot(stack)
    unposted_at_kill = rng.randint(1, 4)
    with Traffic(stack, rng.randrange(2**32), clients=3, limit=150) as traffic:

        def ready() -> bool:  # attested tickets the gateway has not posted yet
            book = issued(stack, before.seq).values()
            return sum(1 for s, held in book if s == "issued" and held) >= unposted_at_kill

        wait_until(ready, 120, f"{unposted_at_kill} unposted ticket(s)")
        devnet.gateway.kill()
        devnet.gateway = None
        waiting = sum(1 for s, _ in issued(stack, before.seq).values() if s == "issued")
        outcome.notes.append(f"gateway killed with {waiting} unposted ticket(s)")
        traffic.stop()
    outcome.answered, outcome.failed_calls = traffic.answered, traffic.failed
    try:
        if restart:
            devnet.start_gateway()
            devnet.wait_for_feeds(devnet.config.workers)
        settled(stack, before, outcome)
        if restart:
            return outcome
        # Back after its tickets went out as orphans: it posts its new tickets itself (what the
        # attesters posted is not posted twice and does not sink the new tickets' batch).
        devnet.start_gateway()
        devnet.wait_for_feeds(devnet.config.workers)
        later = snapshot(stack)
        with Traffic(stack, rng.randrange(2**32), clients=2, limit=6) as traffic:
            wait_until(lambda: traffic.calls >= 6, 120, "calls after the restart")
        settled(stack, later, Outcome(name, seed), by_gateway=True)
        # and the whole run once more: what nobody attested before the crash, the gateway posted
        answered, failed = (
            outcome.answered + traffic.answered,
            outcome.failed_calls + traffic.failed,
        )
        outcome = settled(stack, before, outcome)
        outcome.answered, outcome.failed_calls = answered, failed
        return outcome
    finally:
        if devnet.gateway is None:
            devnet.start_gateway()
            devnet.wait_for_feeds(devnet.config.workers)


def clock_skewed(stack: TicketStack, seed: int) -> Outcome:
    """One worker's wall clock runs 1 to 5 minutes ahead (beyond the 30 s ticket tolerance):
    it refuses every ticket with the reason (the gateway logs it), the other workers answer, and
    every ticket settles once; its clock put right, it attests again."""
    rng = random.Random(seed)
    outcome = Outcome("clock-skewed-worker", seed)
    devnet = stack.devnet
    n = rng.randrange(devnet.config.workers)
    skew = rng.randint(60, 300)
    victim = outcome.victim = worker_key(n).address
    devnet.workers[n].stop(timeout=30.0)
    assert devnet.chain_config is not None
    devnet.workers[n] = start_worker(
        devnet.chain_config,
        worker_key(n).private_key,
        devnet.worker_settings(n),
        ready_timeout=START_TIMEOUT,
        program=SKEWED_WORKER,
        extra_env={SKEW_ENV: str(skew)},
    )
    try:
        devnet.wait_for_feeds(devnet.config.workers)
        before = snapshot(stack)
        log = devnet.gateway_log_path()
        offset = log.stat().st_size
        refused = f"worker {victim} refused it: issuedAt"
        # Calls flow until the victim has refused one (then the traffic stops): the victim is
        # offered tickets only when it is among the cheapest or probed (a tenth of the offers,
        # once it has had none for ten), so a fixed 40 calls could end before its first offer.
        with Traffic(stack, rng.randrange(2**32), clients=2, limit=400) as traffic:
            wait_until(
                lambda: refused in log.read_text(errors="replace")[offset:], 120, "a refusal"
            )
        outcome.answered, outcome.failed_calls = traffic.answered, traffic.failed
        outcome.notes.append(f"worker-{n + 1} {skew} s ahead")
        if outcome.failed_calls:
            raise ScenarioFailed(f"{outcome.failed_calls} call(s) failed beside a skewed worker")
        if attested_since(stack, n, before.seq):
            raise ScenarioFailed(f"worker-{n + 1}, {skew} s ahead, attested a ticket")
        return settled(stack, before, outcome)
    finally:
        relaunch(stack, n)


def attested_since(stack: TicketStack, n: int, since: int) -> int:
    """Tickets worker ``n`` attested from seq ``since``."""
    path = stack.devnet.worker_dir(n) / "attested.sqlite3"
    gateway = stack.devnet.gateway_key.address.lower()
    return len(
        _rows(
            path,
            "SELECT seq FROM attested WHERE gateway = ? AND seq >= ? AND result_hash IS NOT NULL",
            (gateway, since),
        )
    )


def rpc(stack: TicketStack, method: str, *params: Any) -> Any:
    reply = httpx.post(
        stack.devnet.rpc_url,
        json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
        timeout=30,
    ).json()
    if "error" in reply:
        raise ScenarioFailed(f"{method}: {reply['error']}")
    return reply.get("result")


#: Blocks a deep reorg drops: past the seat draws and whole commit rounds of the batches it hits,
#: deeper than the workers' confirmation depth (the devnet's workers confirm at 0 blocks).
DEEP = (4, 8)


def reorged(stack: TicketStack, seed: int, deep: bool = False) -> Outcome:
    """A reorg while calls flow and batches settle: shallow (1 or 2 blocks) or deep (``DEEP``),
    with ``anvil_reorg``. The transactions of the dropped blocks (batch posts, seat draws,
    commitments, reveals, finalizations) are gone; the gateway and the workers must notice and
    send again what they owe. Only blocks mined during the run are dropped (never the stack's
    setup, such as the stake epoch's start, which no process of the stack would send again)."""
    rng = random.Random(seed)
    depth = rng.randint(*DEEP) if deep else rng.randint(1, 2)
    outcome = Outcome(f"reorg-{'deep' if deep else 'shallow'}-{depth}", seed)
    before = snapshot(stack)
    with Traffic(stack, rng.randrange(2**32), clients=2, limit=400) as traffic:
        posts = rng.randint(1, 3)

        def posted() -> bool:
            return sum(1 for s, _ in issued(stack, before.seq).values() if s == "posted") >= posts

        wait_until(posted, 120, f"{posts} posted ticket(s)")
        wait_until(
            lambda: int(rpc(stack, "eth_blockNumber"), 16) - depth >= before.block,
            120,
            f"{depth} block(s) mined in the run",
        )
        head = int(rpc(stack, "eth_blockNumber"), 16)
        rpc(stack, "anvil_reorg", depth, [])
        outcome.notes.append(f"reorg of {depth} block(s) at block {head}")
        target = min(traffic.calls + 6, traffic.limit)
        wait_until(lambda: traffic.calls >= target, 120, "calls after the reorg")
    outcome.answered, outcome.failed_calls = traffic.answered, traffic.failed
    return settled(stack, before, outcome, opened=True)


def node_restarted(stack: TicketStack, seed: int) -> Outcome:
    """The chain node restarts mid-batch while calls flow: every RPC and WebSocket connection of
    the gateway and the workers drops, new ones are refused for 2 to 8 s, then the same chain
    answers again (``restart_node``: the stack's processes reach anvil through a proxy,
    ``node_proxy.py``). The processes reconnect, the batches settle, every ticket once, no honest
    worker slashed."""
    rng = random.Random(seed)
    down = rng.uniform(2.0, 8.0)
    outcome = Outcome("node-restarted", seed)
    before = snapshot(stack)
    with Traffic(stack, rng.randrange(2**32), clients=2, limit=400) as traffic:
        posts = rng.randint(1, 3)

        def posted() -> bool:
            return sum(1 for s, _ in issued(stack, before.seq).values() if s == "posted") >= posts

        wait_until(posted, 120, f"{posts} posted ticket(s)")
        head, dropped = restart_node(stack, down)
        outcome.notes.append(
            f"node down {down:.1f} s at block {head}, {dropped} connection(s) dropped"
        )
        # reconnected: answers again (the workers' tickets and duties need the chain)
        target = traffic.answered + 6
        wait_until(lambda: traffic.answered >= target, 180, "answers after the restart")
    outcome.answered, outcome.failed_calls = traffic.answered, traffic.failed
    return settled(stack, before, outcome)


def node_rpc(stack: TicketStack, method: str, *params: Any) -> Any:
    """``rpc`` to anvil itself, not through the stack's proxy (which may be refusing)."""
    devnet = stack.devnet
    assert isinstance(devnet, ProxiedDevnet)
    reply = httpx.post(
        devnet.node_url,
        json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
        timeout=30,
    ).json()
    if "error" in reply:
        raise ScenarioFailed(f"{method}: {reply['error']}")
    return reply.get("result")


def restart_node(stack: TicketStack, down: float) -> tuple[int, int]:
    """What the stack's processes see of their node restarting: the proxy in front of anvil
    drops every connection (RPC and WebSocket) and refuses new ones for ``down`` seconds, then
    accepts again. anvil runs on meanwhile with mining paused (``evm_setAutomine`` off; nothing
    reaches it, so nothing is pending: a transaction the node had accepted and forgot would be
    the reorg scenario's fault), and comes back with the same chain: the head at the drop, same
    hash, block hashes (``BLOCKHASH``) intact, as a real node keeps them (anvil's own restart
    from a saved state does not: ``node_proxy.py``). Returns the head at the drop and how many
    connections were dropped."""
    devnet = stack.devnet
    assert isinstance(devnet, ProxiedDevnet) and devnet.proxy is not None
    dropped = devnet.proxy.drop()
    time.sleep(0.2)  # a request the proxy had already forwarded is answered by anvil (and lost)
    node_rpc(stack, "evm_setAutomine", False)
    status = node_rpc(stack, "txpool_status")
    if int(status["pending"], 16) or int(status["queued"], 16):
        node_rpc(stack, "evm_mine")  # automine had them already: never seen, kept for safety
    block = node_rpc(stack, "eth_getBlockByNumber", "latest", False)
    head, head_hash = int(block["number"], 16), str(block["hash"])
    time.sleep(down)
    node_rpc(stack, "evm_setAutomine", True)
    devnet.proxy.accept()
    again = rpc(stack, "eth_getBlockByNumber", hex(head), False)
    if again is None or str(again["hash"]) != head_hash:
        raise ScenarioFailed(
            f"the node came back without its chain: block {head} is "
            f"{'missing' if again is None else again['hash']}, was {head_hash}"
        )
    return head, dropped


def store_down(stack: TicketStack, seed: int) -> Outcome:
    """The devnet's content store (the embedded store every process reads: the devnet runs no
    IPFS daemon) goes down while a new version of a function is published and called: its
    directory replaced by a file, so every read and write of it fails.

    1. Publishing with the store down fails with the store's clear error and publishes nothing
       (the function's active version is unchanged).
    2. Published with the store back, the new version is called with the store down again,
       before any worker fetched its code: every worker refuses with the reason (the code is
       unavailable), the caller gets an error naming it, nothing is attested.
    3. The store back, the new version is called (the attesters now hold its code in their own
       caches), then the store goes down a third time while calls flow and batches are posted:
       attesters answer from their caches, a seat drawn without the code abstains (never
       slashed), a worker without it refuses; every process keeps serving.
    4. The store back, every call is answered; every ticket settles once, no worker slashed.
    """
    import shutil

    from peerhost.publishing import Publisher, load_project
    from peerhost.publishing.publisher import active_version
    from peerhost.storage import LocalStore, StoreUnavailable, open_store

    rng = random.Random(seed)
    outcome = Outcome("store-down", seed)
    devnet = stack.devnet
    assert devnet.deployment is not None
    word = f"v{rng.randrange(10**9)}"
    project = devnet.state_dir / f"project-{word}"
    shutil.copytree(devnet.config.examples, project, dirs_exist_ok=True)
    # the examples' npm imports resolve from the repository's node_modules
    modules = Path(devnet.config.examples).resolve().parent / "node_modules"
    (project / "node_modules").symlink_to(modules, target_is_directory=True)
    (project / "functions" / "fresh.js").write_text(
        f'export function handler(req) {{ return {{ word: "{word}", q: req.query }}; }}\n'
    )
    store = devnet.state_dir / "store"
    aside = devnet.state_dir / "store.down"

    def down() -> None:
        store.rename(aside)
        store.write_text("the store is down\n")

    def up() -> None:
        store.unlink()
        aside.rename(store)

    def fresh_version() -> int | None:
        with stack.ape():
            active = active_version(
                devnet.deployment.registry, stack.owner, stack.examples, "fresh"
            )
        return None if active is None else int(active["version"])

    def publish(store_spec: str | None = None) -> Any:
        with stack.ape():
            spec = load_project(project, stack.examples)
            return Publisher(
                devnet.deployment.registry,
                stack.developer,
                open_store(store_spec or devnet.store_spec),
                devnet.gateway_url,
                log=lambda line: None,
            ).publish(spec)

    def call(http: httpx.Client) -> httpx.Response:
        return http.get(stack.example("fresh"), params={"n": str(rng.randrange(1000))})

    before = snapshot(stack)
    version = fresh_version()
    down()
    try:
        publish()
    except StoreUnavailable as exc:
        if "cannot" not in str(exc) or "then retry" not in str(exc):
            raise ScenarioFailed(
                f"publishing with the store down: an unclear error: {exc}"
            ) from exc
        outcome.notes.append(f"publish with the store down: {str(exc)[:160]}")
    else:
        raise ScenarioFailed("publishing with the store down succeeded")
    finally:
        up()
    if fresh_version() != version:
        raise ScenarioFailed("publishing with the store down changed the active version")
    # The store goes down before the registry transaction, the code already in it: workers
    # prewarm a new version as soon as it is published, and none may have fetched this one.
    staged = devnet.state_dir / f"publisher-{word}"
    down()
    try:
        report = publish(f"local:{staged}")
        with LocalStore(aside) as kept, LocalStore(staged) as stage:
            for cid in stage.cids():
                kept.put_for(cid, stage.get(cid))
    except BaseException:
        up()
        raise
    outcome.notes.append(
        "published "
        + ", ".join(f"{f.name} {f.action}" for f in report.functions if f.name == "fresh")
    )
    for _ in range(6):  # past the gateway's confirmation depth, so it sees the new version
        rpc(stack, "evm_mine")
    time.sleep(3.0)
    with httpx.Client(timeout=60.0) as http:
        try:
            # One call: every worker refuses it at once, but the gateway answers only after its
            # 30 s result timeout (a 504 carrying the refusals); a second call waited 30 s more
            # for the same refusals and the same check.
            response = call(http)
            if response.status_code == 200:
                raise ScenarioFailed(f"answered with the store down: {response.text[:200]}")
            if "unavailable" not in response.text:
                raise ScenarioFailed(
                    f"store down: the error does not say why: {response.status_code} "
                    f"{response.text[:300]}"
                )
            outcome.failed_calls += 1
            outcome.notes.append(f"store down: {response.status_code} {response.text[:160]}")
        finally:
            up()
        for n in range(devnet.config.workers):
            if attested_since(stack, n, before.seq):
                raise ScenarioFailed(f"worker-{n + 1} attested a call it could not run")
        for _ in range(3):  # the attesters fetch the code and keep it in their caches
            response = call(http)
            if response.status_code != 200 or word not in response.text:
                raise ScenarioFailed(
                    f"store back, the call got {response.status_code} {response.text[:200]}"
                )
            outcome.answered += 1
        down()
        try:
            for _ in range(rng.randint(4, 8)):
                response = call(http)
                if response.status_code == 200:
                    if word not in response.text:
                        raise ScenarioFailed(f"a wrong answer: {response.text[:200]}")
                    outcome.answered += 1
                else:
                    outcome.failed_calls += 1
                time.sleep(0.3)
            time.sleep(4.0)  # a batch or two posted while the store is down
        finally:
            up()
        with Traffic(stack, rng.randrange(2**32), clients=1, limit=5) as traffic:
            response = call(http)
        if response.status_code != 200 or word not in response.text:
            raise ScenarioFailed(f"store back, the call got {response.status_code}")
        outcome.answered += 1 + traffic.answered
        outcome.failed_calls += traffic.failed
    if traffic.failed:
        raise ScenarioFailed(f"{traffic.failed} call(s) to hello failed with the store back")
    if not devnet.gateway_alive():
        raise ScenarioFailed("the gateway died")
    devnet.wait_for_feeds(devnet.config.workers)  # every worker still on the feed
    return settled(stack, before, outcome)


#: What a store failure must say, wherever it is shown: the daemon, and how to start one.
IPFS_HINT = ("IPFS daemon", "tools/ipfs/daemon.sh")


def ipfs_down(stack: TicketStack, seed: int) -> Outcome:
    """An IPFS daemon (real js-ipfs, offline, on loopback) is the content store the publisher,
    the gateway and the workers use, each through a local cache
    (``local:<cache>,ipfs:<api>``, the layout docs/storage.md recommends); the daemon is killed
    while a new version is published and called.

    0. The gateway and the workers are started again on that layout; the daemon holds what was
       published before, and each cache holds it too (the versions they ran before).
    1. Daemon up: a new function is published and called (answered).
    2. Daemon killed: publishing its next version with ``ape run publish`` fails with a clear
       error naming the daemon and how to start it (no traceback) and publishes nothing.
    3. Daemon restarted: the publish succeeds (its upload, then the daemon killed again before
       the registry transaction: workers prewarm a version once published, none may have
       fetched this one).
    4. The daemon down while the new version is called: calls to the new version get
       an error naming the daemon (every worker skips with the store's reason, nobody attests);
       the gateway's log and the workers' logs say what to check; calls to cached versions
       keep being answered.
    5. Daemon restarted: the new version answers; every ticket settles once, nobody slashed.

    The gateway and the workers go back to the devnet's embedded store afterwards.
    """
    import shutil

    from peerhost.devnet.processes import free_port
    from peerhost.publishing import Publisher, load_project
    from peerhost.publishing.publisher import active_version
    from peerhost.storage import LocalStore, open_store
    from peerhost.storage.daemon import IpfsDaemon, start_daemon

    rng = random.Random(seed)
    outcome = Outcome("ipfs-down", seed)
    devnet = stack.devnet
    assert devnet.deployment is not None
    state = devnet.state_dir / "ipfs-down"
    shutil.rmtree(state, ignore_errors=True)  # fresh caches: nothing of an earlier run
    repo, api_port = state / "repo", free_port()
    gateway_store = devnet.config.gateway_settings.get("store")
    daemon: list[IpfsDaemon] = [start_daemon(repo, api_port=api_port)]
    try:
        api = daemon[0].api_url
        ipfs = f"ipfs:{api}?lookup_timeout=1&timeout=20"

        def spec(cache: str) -> str:
            return f"local:{state / cache},{ipfs}"

        def kill() -> None:
            daemon[0].process.kill()
            daemon[0].process.wait(10)

        def restart() -> None:
            daemon[0] = start_daemon(repo, api_port=api_port)

        # what was published before: in the daemon, and in every cache that ran it
        embedded = LocalStore(devnet.state_dir / "store")
        names = ("gateway", *(f"worker-{n + 1}" for n in range(devnet.config.workers)))
        caches = [LocalStore(state / name) for name in names]
        with open_store(ipfs) as daemon_store:
            for cid in embedded.cids():
                data = embedded.get(cid)
                daemon_store.put(data)
                for cache in caches:
                    cache.put_for(cid, data)
        # not store-down's words (same seed, same draw): code another scenario cached is no new code
        words = [f"ipfs-v{rng.randrange(10**9)}" for _ in range(2)]
        project = state / "project"
        shutil.copytree(devnet.config.examples, project, dirs_exist_ok=True)
        modules = Path(devnet.config.examples).resolve().parent / "node_modules"
        (project / "node_modules").symlink_to(modules, target_is_directory=True)
        fresh = project / "functions" / "fresh.js"

        def write(word: str) -> None:
            fresh.write_text(
                f'export function handler(req) {{ return {{ word: "{word}", q: req.query }}; }}\n'
            )

        def fresh_version() -> int | None:
            with stack.ape():
                active = active_version(
                    devnet.deployment.registry, stack.owner, stack.examples, "fresh"
                )
            return None if active is None else int(active["version"])

        def publish(store_spec: str | None = None) -> None:
            with stack.ape():
                spec_ = load_project(project, stack.examples)
                Publisher(
                    devnet.deployment.registry,
                    stack.developer,
                    open_store(store_spec or spec("publisher")),
                    devnet.gateway_url,
                    log=lambda line: None,
                ).publish(spec_)
            for _ in range(6):  # past the gateway's confirmation depth, so it sees the new version
                rpc(stack, "evm_mine")
            time.sleep(3.0)

        def call(http: httpx.Client, word: str, response: httpx.Response | None = None) -> bool:
            if response is None:
                response = http.get(stack.example("fresh"), params={"n": str(rng.randrange(1000))})
            if response.status_code == 200:
                if word not in response.text:
                    raise ScenarioFailed(f"a wrong answer (not {word}): {response.text[:200]}")
                outcome.answered += 1
                return True
            if not all(h in response.text for h in IPFS_HINT):
                raise ScenarioFailed(
                    f"daemon down: the error does not say what to check: {response.status_code} "
                    f"{response.text[:300]}"
                )
            outcome.failed_calls += 1
            outcome.notes.append(f"daemon down: {response.status_code} {response.text[:200]}")
            return False

        # 0. the processes on the daemon, through their caches
        for n, proc in enumerate(devnet.workers):
            proc.stop(timeout=30.0)
            devnet.workers[n] = devnet.launch_worker(n, wait=False, store=spec(f"worker-{n + 1}"))
        for proc in devnet.workers:
            proc.wait_ready(timeout=START_TIMEOUT)
        stack.restart_gateway(store=spec("gateway"))
        before = snapshot(stack)
        with httpx.Client(timeout=60.0) as http:
            # 1. up: published and called
            write(words[0])
            publish()
            for _ in range(3):
                if not call(http, words[0]):
                    raise ScenarioFailed("the daemon up, a call to the new function failed")
            version = fresh_version()
            # 2. killed: `ape run publish` of the next version is refused, nothing published
            kill()
            write(words[1])
            cli = stack.ape_run(
                state / "no-devnet",  # no devnet.json: the options below say where everything is
                *("publish", str(project), "--project-name", stack.examples),
                *("--store", spec("publisher"), "--deployments", str(devnet.deployments_path)),
                *("--gateway-url", devnet.gateway_url),
            )
            printed = cli.stdout + cli.stderr
            if (
                cli.returncode == 0
                or "Traceback" in printed
                or not all(h in printed for h in IPFS_HINT)
            ):
                raise ScenarioFailed(
                    f"publishing with the daemon down: exit {cli.returncode}: {printed[-600:]}"
                )
            outcome.notes.append(
                "publish refused: "
                + next(ln for ln in printed.splitlines() if "IPFS daemon" in ln)[:200]
            )
            if fresh_version() != version:
                raise ScenarioFailed("publishing with the daemon down changed the active version")
            # 3. restarted: the publish succeeds. Its upload (every function's code, as the
            # publisher stores it) comes first; the daemon is killed again before the registry
            # transaction, so no worker can have fetched the new code (workers prewarm a version
            # once it is published)
            restart()
            with open_store(spec("publisher")) as upload:
                for function in load_project(project, stack.examples).functions:
                    upload.put(function.code())
            kill()
            publish(f"local:{state / 'publisher'}")
            if fresh_version() == version:
                raise ScenarioFailed("the new version was not published")
            # 4. the daemon down while the new version is called
            logs = [devnet.gateway_log_path(), *(p.log_path for p in devnet.workers)]
            offsets = {path: path.stat().st_size for path in logs}
            first = next_seq(stack)
            # at once: each waits out the gateway's result timeout (no worker can answer)
            queries = [{"n": str(rng.randrange(1000))} for _ in range(rng.randint(2, 4))]
            with ThreadPoolExecutor(len(queries)) as pool:
                responses = list(
                    pool.map(lambda q: http.get(stack.example("fresh"), params=q), queries)
                )
            if any(call(http, words[1], response) for response in responses):
                raise ScenarioFailed("the new version answered with its code nowhere")
            refused = set(range(first, next_seq(stack)))
            if attested := sorted(refused & attested_by_workers(stack, first)):
                raise ScenarioFailed(f"ticket(s) {attested} attested without the code")
            with Traffic(stack, rng.randrange(2**32), clients=1, limit=400) as traffic:
                target = 4  # cached versions keep answering
                wait_until(lambda: traffic.answered >= target, 120, "cached calls, daemon down")
            if traffic.failed:
                raise ScenarioFailed(f"{traffic.failed} call(s) of a cached version failed")
            outcome.answered += traffic.answered
            said = {p: p.read_text(errors="replace")[o:] for p, o in offsets.items()}
            for path, text in said.items():
                if "Traceback" in text:
                    raise ScenarioFailed(f"a traceback in {path}: {text[-600:]}")
            gateway_said = said.pop(devnet.gateway_log_path())
            if not all(h in gateway_said for h in IPFS_HINT):
                raise ScenarioFailed(
                    f"the gateway's log does not name the daemon: {gateway_said[-400:]}"
                )
            if not any(all(h in text for h in IPFS_HINT) for text in said.values()):
                raise ScenarioFailed("no worker's log names the daemon")
            # 5. restarted: the new version answers
            restart()
            for _ in range(3):
                if not call(http, words[1]):
                    raise ScenarioFailed("the daemon back, a call to the new version failed")
        if not devnet.gateway_alive():
            raise ScenarioFailed("the gateway died")
        return settled(stack, before, outcome)
    finally:
        if daemon[0].process.poll() is None:
            daemon[0].stop()
        for n, proc in enumerate(devnet.workers):
            proc.stop(timeout=30.0)
            devnet.workers[n] = devnet.launch_worker(n, wait=False)
        for proc in devnet.workers:
            proc.wait_ready(timeout=START_TIMEOUT)
        if gateway_store is None:
            devnet.config.gateway_settings.pop("store", None)
        stack.restart_gateway(**({} if gateway_store is None else {"store": gateway_store}))


#: name -> how to run it with a seed (what ``bench/faults.py`` and the tests run).
SCENARIOS: dict[str, Callable[[TicketStack, int], Outcome]] = {
    "worker-killed-attest-restarted": lambda s, seed: worker_killed(s, seed, "attest", True),
    "worker-killed-attest-down": lambda s, seed: worker_killed(s, seed, "attest", False),
    "worker-killed-commit-restarted": lambda s, seed: worker_killed(s, seed, "commit", True),
    "worker-killed-commit-down": lambda s, seed: worker_killed(s, seed, "commit", False),
    "worker-killed-reveal-restarted": lambda s, seed: worker_killed(s, seed, "reveal", True),
    "worker-killed-reveal-down": lambda s, seed: worker_killed(s, seed, "reveal", False),
    "gateway-killed-restarted": lambda s, seed: gateway_killed(s, seed, True),
    "gateway-killed-down": lambda s, seed: gateway_killed(s, seed, False),
    "clock-skewed-worker": clock_skewed,
    "reorg-shallow": reorged,
    "reorg-deep": lambda s, seed: reorged(s, seed, deep=True),
    "node-restarted": node_restarted,
    "store-down": store_down,
    "ipfs-down": ipfs_down,
}
