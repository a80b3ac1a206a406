"""The worker node: follow the coordinator, drive a pipeline task per job, withdraw, report.

Start-up: open the state, register if asked, resume unfinished jobs, then follow the
coordinator's logs from the persisted cursor (WebSocket + backfill). Shutdown (SIGTERM/SIGINT):
stop taking jobs, cancel the ones not yet committed, let committed ones reveal (bounded by
``shutdown_timeout``), then close. Anything unfinished resumes on the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import to_checksum_address

from peerhost import eventloop
from peerhost.chain import ChainConfig, LogFollower, Protocol, RpcClient, TxSender
from peerhost.chain.heads import HeadWatcher, block_logs
from peerhost.chain.schedule_runs import ScheduleRuns
from peerhost.chain.settlement import SettlementView
from peerhost.secrets.keys import load_or_create_worker_key
from peerhost.secrets.redact import Redactor
from peerhost.secrets.resolver import SecretsResolver
from peerhost.stagetrace import StageTrace
from peerhost.storage import cid_from_bytes
from peerhost.storage.spec import open_store
from peerhost.worker import logs
from peerhost.worker import state as st
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.chainops import ChainOps
from peerhost.worker.clock import ChainClock
from peerhost.worker.committee import Committee
from peerhost.worker.cosign import Cosigner
from peerhost.worker.credentials import CredentialsClient
from peerhost.worker.discovery import GatewayDiscovery
from peerhost.worker.duties import DutyLog
from peerhost.worker.execution import ExecutionHook, JobExecutor, SandboxRunner
from peerhost.worker.feed import FeedClient
from peerhost.worker.inbox import InboxClient
from peerhost.worker.job import Job
from peerhost.worker.metrics import Metrics
from peerhost.worker.pipeline import Identity, JobPipeline
from peerhost.worker.prewarm import Prewarmer
from peerhost.worker.registration import ensure_registered
from peerhost.worker.server import MetricsServer
from peerhost.worker.settings import WorkerSettings
from peerhost.worker.standin import StandIn
from peerhost.worker.strategies import worker_strategy
from peerhost.worker.tickets import TicketRunner
from peerhost.worker.tracker import RequestTracker

#: Concurrent JSON-RPC calls. httpcore checks every pooled connection on every request, so a
#: small pool is cheaper per call; the worker's calls are short and batched where it matters.
_RPC_CONNECTIONS = 16
#: Blocks of settlement history the metrics count when no start block is set.
_SETTLEMENT_HISTORY = 100_000
#: Seconds between folds of new blocks into the settlement metrics (none when no block came).
_METRICS_EVERY = 5.0
#: Seconds after which the bonded stake is read again though no event of the StakeRegistry named
#: this worker (its stake changes only through them: a backstop).
_STAKE_EVERY = 60.0
#: Seconds between reads of the pending block's time while no head was pushed meanwhile.
_CLOCK_EVERY = 5.0
#: The settlement contract's pay events and the StakeRegistry's events that change a worker's
#: stake (first indexed argument: the worker), read in one ``eth_getLogs`` by the metrics.
_PAY_EVENTS = ("Credited", "SeatPayClaimed")
_STAKE_EVENTS = (
    "WorkerRegistered",
    "StakeAdded",
    "UnbondingRequested",
    "StakeWithdrawn",
    "StakeSlashed",
)

#: Seconds before a loop the worker depends on that ended is started again (doubling to
#: :data:`_RESTART_MAX` while it keeps ending within a minute of its start).
_RESTART_PAUSE = 1.0
_RESTART_MAX = 30.0


async def keep_running(
    name: str, run: Callable[[], Awaitable[Any]], stopping: asyncio.Event
) -> None:
    """Runs ``run`` (a loop the worker depends on: its committee duty, feeds, stand-in, ...) until
    ``stopping`` is set: a loop that ends, by an error no step caught or by returning, is logged
    with its error and started again after a pause. Such a loop that ended in silence left the
    worker serving calls while it stood behind none of its seats: a no-show, slashed, in every
    later batch."""
    pause = _RESTART_PAUSE
    while True:
        started = time.monotonic()
        try:
            await run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if stopping.is_set():
                return
            # with its exception on the record: the worker's redactor masks it as any other
            logs.LOGGER.error(
                "loop_died",
                exc_info=exc,
                extra={"event": "loop_died", "fields": {"loop": name, "restart_in": pause}},
            )
        else:
            if stopping.is_set():
                return
            logs.error("loop_ended", loop=name, restart_in=pause)
        pause = _RESTART_PAUSE if time.monotonic() - started > 60.0 else pause
        await asyncio.sleep(pause)
        pause = min(pause * 2, _RESTART_MAX)
        logs.warning("loop_restarted", loop=name)


class WorkerNode:
    """One worker.

    ``executor_type`` builds the executor of every job; a subclass may set another (the
    slashing tests run a node whose executor commits to other bytes than it computed).

    Args:
        chain: Where the chain and the contracts are.
        private_key: The worker account's key (kept in memory only, never logged).
        settings: How to run.
    """

    executor_type: type[JobExecutor] = JobExecutor

    def __init__(self, chain: ChainConfig, private_key: bytes, settings: WorkerSettings) -> None:
        self.settings = settings
        self.chain = ChainConfig(
            rpc_url=settings.rpc_url or chain.rpc_url,
            ws_url=settings.ws_url or chain.ws_url,
            chain_id=chain.chain_id,
            registry=to_checksum_address(chain.registry),
            workers=to_checksum_address(chain.workers),
            coordinator=to_checksum_address(chain.coordinator),
            stakes=chain.stakes,
            gateways=chain.gateways,
            settlement=chain.settlement,
        )
        self._key = private_key
        self.address = str(Account.from_key(private_key).address)
        # a deviating strategy (the lab's devnets) decides what this node stands behind; honest: none
        self.strategy = worker_strategy(settings.strategy, self.address, settings.cartel)
        self.hook: ExecutionHook | None = self.strategy.execution_hook()
        self.state = st.WorkerState(settings.state_path)
        self.metrics = Metrics(self.state)
        self.clock = ChainClock()
        self.trackers: dict[bytes, RequestTracker] = {}
        self.tasks: dict[bytes, asyncio.Task[None]] = {}
        self.stopping = asyncio.Event()
        self._background: list[asyncio.Task[Any]] = []
        self._stake_read_at = float("-inf")  # monotonic time the bonded stake was last read

    def __repr__(self) -> str:
        return f"WorkerNode({self.address})"

    # ---- lifecycle ------------------------------------------------------------------------

    async def run(self) -> None:
        """Runs until :meth:`stop` (or SIGTERM/SIGINT), then shuts down gracefully."""
        s = self.settings
        rpc = RpcClient(self.chain.rpc_url, max_connections=_RPC_CONNECTIONS)
        # the one head of the process: the committee, the courts' cases, the sender's receipts,
        # discovery, the clock and the metrics all follow it (pushed heads cost no call)
        self.heads = HeadWatcher(rpc, self.chain.ws_url)
        sender = TxSender(rpc, self._key, self.chain.chain_id)
        sender.heads = self.heads
        protocol = Protocol(self.chain, sender, rpc)
        self.protocol = protocol
        self.ops = ChainOps(protocol, self.metrics)
        self.ops.receipts.heads = self.heads  # receipts read once per new block
        runner = SandboxRunner(s.sandbox_cache_dir, s.sandbox_processes)
        inbox = InboxClient(self.address, retries=s.post_retries)
        credentials = CredentialsClient(self._key, self.chain.chain_id)
        encryption_key = load_or_create_worker_key(s.encryption_key_path)
        redactor = Redactor()
        redactor.install()  # secret values opened later are masked in every log line
        store = open_store(s.store_spec())
        secrets = SecretsResolver(
            pointer=protocol.secrets_bundle,
            function_info=protocol.get_function,
            store=store,
            worker_address=self.address,
            private_key=encryption_key,
            chain_id=self.chain.chain_id,
            registry=self.chain.registry,
            redactor=redactor,
        )
        self.pipeline = JobPipeline(
            identity=Identity(self.address, self._key, self.chain.chain_id, self.chain.coordinator),
            settings=s,
            ops=self.ops,
            state=self.state,
            executor=self.executor_type(
                store,
                runner.run,
                s.wall_clock_seconds,
                secrets,
                unseal=credentials.open,
                hook=self.hook,
            ),
            inbox=inbox,
            metrics=self.metrics,
            clock=self.clock,
        )
        self.prewarmer: Prewarmer | None = None
        self.feeds: list[FeedClient] = []
        self.discovery: GatewayDiscovery | None = None
        self.standin: StandIn | None = None
        ledger: AttestedLedger | None = None
        trace = StageTrace() if s.trace_stages else None
        if self.chain.has_settlement:
            view = SettlementView(self.chain, rpc, protocol.sender)
            view.keep_holders(self.heads)  # one holder-list read per batch, dropped on a reorg
            self.settlement = view
            ledger = AttestedLedger(str(s.data_dir / "attested.sqlite3"))
            self.tickets = TicketRunner(
                view,
                self.executor_type(
                    store,
                    runner.run,
                    s.wall_clock_seconds,
                    secrets,
                    unseal=credentials.open,
                    hook=self.hook,
                ),
                ledger,
                self._key,
                self.address,
                clock_skew=s.clock_skew,
                urgent=runner.run_urgent,
                gateway_urls=self._gateway_urls,
                metrics=self.metrics,
                trace=trace,
            )
            schedule_runs = ScheduleRuns(view, lambda cid: store.get(cid_from_bytes(cid)))
            cosign = Cosigner(
                ledger, self._key, view.config.chain_id, view.config.settlement
            ).handle
            self.feeds = [
                FeedClient(
                    url,
                    self.address,
                    self._key,
                    self.tickets.handle,
                    s.concurrency,
                    cosign=cosign,
                    trace=trace,
                )
                for url in s.gateway_urls
            ]
            if s.discover:
                tickets = self.tickets
                self.discovery = GatewayDiscovery(
                    view,
                    lambda url, gateway: FeedClient(
                        url,
                        self.address,
                        self._key,
                        tickets.handle,
                        s.concurrency,
                        gateway,
                        cosign,
                        trace,
                    ),
                    self.feeds,
                    interval=s.discovery_interval,
                    start_block=s.start_block or 0,
                    confirmations=s.confirmations,
                    heads=self.heads,
                )
            self.committee = Committee(
                view,
                self.tickets,
                ledger,
                self._key,
                self.address,
                self._gateway_urls,
                duties=DutyLog(s.data_dir / "duties.sqlite3"),
                challenges=s.challenges and self.strategy.challenges,
                mine_blocks=bool(s.mine_blocks),
                orphan_grace=s.orphan_grace,
                scheduled=schedule_runs,
                ballot=self.strategy.ballot_hook(),
                challenge=self.strategy.challenge_hook(),
                present=self.strategy.present_hook(),
                tier_vote=self.strategy.tier_vote_hook(),
                heads=self.heads,
            )
            if s.standin_takeover > 0:  # idle unless a key file is sealed to this worker
                self.standin = StandIn(
                    view,
                    self.tickets,
                    schedule_runs,
                    s.data_dir,
                    self.address,
                    encryption_key,
                    takeover=s.standin_takeover,
                    catch_up=max(1.0, s.clock_skew - 1.0),
                )
        if s.prewarm:  # the fast path's executor when there is one: its code cache serves tickets
            fetcher = self.tickets.executor if self.chain.has_settlement else self.pipeline.executor
            self.prewarmer = Prewarmer(fetcher.prefetch, runner.prewarm)
        self.metrics.rpc = rpc
        if self.chain.has_settlement:
            self.metrics.duty_reverted = self.committee.reverted
        server = MetricsServer(
            self.metrics.snapshot,
            s.metrics_host,
            s.metrics_port,
            self.metrics.exposition,
            trace.snapshot if trace is not None else None,
        )
        self._install_signals()
        try:
            enc = bytes(encryption_key.public_key)
            info = await ensure_registered(protocol, self.address, enc, s.stake)
            logs.event(
                "worker_active",
                worker=self.address,
                stake=info.get("stake"),
                strategy=self.strategy.name,
            )
            self.metrics.stake_wei = int(str(info.get("stake") or 0))
            if self.chain.has_settlement and s.stake:
                await self._ensure_staked(enc, s.stake)
            await self._observe_clock()
            await server.start()
            self._resume()
            followed = [self.chain.coordinator]
            if self.prewarmer is not None:
                followed.append(self.chain.registry)  # FunctionPublished: prewarm new versions
            follower = LogFollower(
                rpc,
                self.chain.ws_url,
                followed,
                st.SqliteCursor(self.state),
                start_block=s.start_block,
                confirmations=s.confirmations,
            )
            self._background = [
                asyncio.create_task(self._follow(follower), name="follow"),
                self._keep("withdraw", self._withdraw_loop),
                self._keep("clock", self._clock_loop),
            ]
            self._feed_tasks = [self._keep(f"feed {feed.url}", feed.run) for feed in self.feeds]
            if self.chain.has_settlement:
                self._feed_tasks.append(self._keep("committee", self.committee.run))
                if self.standin is not None:
                    self._feed_tasks.append(self._keep("standin", self.standin.run))
                self._feed_tasks.append(
                    self._keep("settlement metrics", self._settlement_metrics_loop)
                )
            if self.discovery is not None:
                self._feed_tasks.append(self._keep("discovery", self.discovery.run))
            if self.prewarmer is not None:
                self._feed_tasks.append(self._keep("prewarm", self.prewarmer.run))
            # every loop runs during the sandbox's warm-up (seconds of CPU, tens under load): the
            # committee's duties (a restarted worker's saved reveals first: worker-killed-commit-
            # restarted 2402) and the feeds and discovery that give them the gateways' input URLs
            # (without them a seat's input looks withheld: a data-availability challenge, a bond).
            # A job that comes meanwhile runs on a sandbox not warmed yet, only slower
            await runner.warm()
            await self._await_live(follower)
            self._write_ready(server.url)
            logs.event("ready", worker=self.address, metrics_url=server.url)
            stop = asyncio.create_task(self.stopping.wait())
            done, _ = await asyncio.wait(
                [stop, self._background[0]], return_when=asyncio.FIRST_COMPLETED
            )
            stop.cancel()
            await self._drain()
            if self._background[0] in done:
                self._background[0].result()  # the follower died: exit with its error
        finally:
            self.stopping.set()  # the kept loops that end now are not started again
            for feed in self.feeds:
                await feed.stop()
            if self.discovery is not None:
                await self.discovery.stop()
            for task in getattr(self, "_feed_tasks", []):
                task.cancel()
            if self.chain.has_settlement:
                await self.committee.close()
            for task in self._background:
                task.cancel()
            await asyncio.gather(*self._background, return_exceptions=True)
            for task in list(self.pipeline.posts):
                task.cancel()
            await server.stop()
            await inbox.aclose()
            await credentials.aclose()
            await self.ops.receipts.aclose()
            await runner.close()
            await self.heads.aclose()
            await rpc.aclose()
            self.state.close()
            if ledger is not None:
                ledger.close()
            if s.ready_file is not None:
                with contextlib.suppress(FileNotFoundError):
                    s.ready_file.unlink()
            logs.event("stopped", worker=self.address)

    def _keep(self, name: str, run: Callable[[], Awaitable[Any]]) -> asyncio.Task[None]:
        """A task running ``run`` (a loop the worker depends on) for as long as the worker runs."""
        return asyncio.create_task(keep_running(name, run, self.stopping), name=name)

    def _gateway_urls(self) -> dict[str, str]:
        """Gateway address (lowercase) -> its base URL, for the feeds that are connected
        (configured or discovered)."""
        feeds = list(self.feeds)
        if self.discovery is not None:
            feeds += self.discovery.feeds.values()
        return {f.gateway.lower(): f.base_url for f in feeds if f.gateway}

    async def _ensure_staked(self, encryption_key: bytes, stake: int) -> None:
        """Registers this worker's stake in the StakeRegistry (counted from the next epoch)."""
        staker = await self.settlement.staker(self.address)
        if staker["registered"]:
            return
        tx = await self.settlement.register_stake(encryption_key, stake)
        await self.settlement.confirm(tx, "StakeRegistry.register")
        logs.event("worker_staked", worker=self.address, stake=stake)

    def stop(self) -> None:
        """Asks the node to shut down gracefully."""
        self.stopping.set()

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop)

    async def _await_live(self, follower: LogFollower) -> None:
        live = asyncio.create_task(follower.live.wait())
        done, _ = await asyncio.wait(
            [live, self._background[0], asyncio.create_task(self.stopping.wait())],
            return_when=asyncio.FIRST_COMPLETED,
        )
        if self._background[0] in done:
            self._background[0].result()  # re-raises what killed the follower
        self.metrics.connected = follower.live.is_set()

    async def _drain(self) -> None:
        """Cancels jobs not yet committed; lets committed ones reveal, within the timeout."""
        logs.event("draining", in_flight=len(self.tasks))
        self.pipeline.draining = True
        committed: list[asyncio.Task[None]] = []
        for rid, task in list(self.tasks.items()):
            if self.state.status(rid) in (st.SEEN, None):
                task.cancel()
            else:
                committed.append(task)
        if committed:
            _, pending = await asyncio.wait(committed, timeout=self.settings.shutdown_timeout)
            for task in pending:
                task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    def _write_ready(self, metrics_url: str) -> None:
        path = self.settings.ready_file
        if path is None:
            return
        doc = {"pid": os.getpid(), "address": self.address, "metrics_url": metrics_url}
        tmp = Path(str(path) + ".tmp")
        tmp.write_text(json.dumps(doc))
        tmp.replace(path)

    # ---- jobs -----------------------------------------------------------------------------

    def _resume(self) -> None:
        for job, status in self.state.open_jobs():
            logs.event("job_resumed", request_id=job.request_id, status=status)
            self._start(job, status, resumed=True)

    def _start(self, job: Job, status: str, resumed: bool = False) -> None:
        tracker = self.trackers.setdefault(job.request_id, RequestTracker())
        task = asyncio.create_task(self._drive(job, status, tracker, resumed), name=job.rid)
        self.tasks[job.request_id] = task

    async def _drive(self, job: Job, status: str, tracker: RequestTracker, resumed: bool) -> None:
        """Drives one job; if the chain stays unreachable past the pipeline's own retries (or
        anything else goes wrong), starts again from the stored status after a pause, so a
        committed job still reveals once the node is back."""
        pause = 1.0
        try:
            while True:
                try:
                    await self.pipeline.drive(job, status, tracker, resumed=resumed)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # one job's trouble must not stop the node
                    logs.error("job_error", request_id=job.request_id, error=repr(exc))
                status = self.state.status(job.request_id) or st.SEEN
                if status in st.TERMINAL or (self.pipeline.draining and status == st.SEEN):
                    return
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)
                resumed = True
        finally:
            self.tasks.pop(job.request_id, None)
            if self.state.status(job.request_id) in st.TERMINAL:
                self.trackers.pop(job.request_id, None)

    # ---- events ---------------------------------------------------------------------------

    async def _follow(self, follower: LogFollower) -> None:
        async for entry in follower.stream():
            self.metrics.connected = follower.live.is_set()
            self.metrics.reconnects = follower.reconnects
            try:
                decoded = self.protocol.decode_log(entry)
                if decoded is not None:
                    self._on_event(*decoded, block=int(entry["blockNumber"], 16))
            except Exception as exc:  # a log we cannot handle must not stop the stream
                logs.error(
                    "log_unhandled",
                    block=entry.get("blockNumber"),
                    log_index=entry.get("logIndex"),
                    error=repr(exc),
                )

    def _on_event(self, name: str, args: dict[str, Any], block: int) -> None:
        rid = bytes(args.get("requestId") or b"")
        me = self.address
        if name == "ExecutionRequested":
            job = Job.from_event(args, block)
            if self.state.add_job(job):
                self.metrics.add("seen")
                logs.event("job_seen", request_id=job.request_id, block=block, runtime=job.runtime)
                if not self.pipeline.draining:
                    self._start(job, st.SEEN)
            return
        if name == "FunctionPublished":
            if self.prewarmer is not None:
                self.prewarmer.offer(str(args["runtime"]), bytes(args["codeCid"]))
            return
        if name == "Withdrawn" and args["account"] == me:
            self.metrics.add("withdrawn_wei", int(args["amount"]))
            return
        tracker = self.trackers.get(rid)
        if name == "WorkerRewarded" and args["worker"] == me:
            self.metrics.add("agreed")
            self.metrics.add("earned_wei", int(args["amount"]))
            logs.event("rewarded", request_id=rid, amount=int(args["amount"]))
        elif name == "WorkerSlashed" and args["worker"] == me:
            self.metrics.slashed(int(args["amount"]))
            logs.warning(
                "slashed", request_id=rid, amount=int(args["amount"]), reason=int(args["reason"])
            )
        elif name == "RequestFinalized" and args["fastest"] == me:
            self.metrics.add("won")
            logs.event("won", request_id=rid)
        if tracker is None:
            return
        if name == "ResultCommitted":
            tracker.commits += 1
            if args["worker"] == me:
                tracker.my_index = int(args["index"])
        elif name == "RevealPhaseOpened":
            tracker.reveal_open = True
        elif name == "ResultRevealed":
            tracker.reveals += 1
        elif name in ("RequestFinalized", "RequestRefunded"):
            tracker.settled = True
        tracker.touch()

    # ---- background -----------------------------------------------------------------------

    async def _withdraw_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.withdraw_interval)
            try:
                await self.withdraw_if_due()
            except Exception as exc:
                logs.warning("withdraw_failed", error=str(exc))

    async def withdraw_if_due(self) -> int:
        """Withdraws the pending balance when it reaches ``withdraw_min``; returns the amount."""
        pending = await self.ops.read(
            lambda: self.protocol.pending_withdrawal(self.address), "pendingWithdrawal"
        )
        if pending <= 0 or pending < self.settings.withdraw_min:
            return 0
        await self.ops.transact(self.protocol.withdraw, "withdraw")
        logs.event("withdrew", amount=pending)
        return pending

    async def _settlement_metrics_loop(self) -> None:
        """This worker's bonded stake, credits and slashes on the settlement contracts (counted
        from ``start_block``, else from the last :data:`_SETTLEMENT_HISTORY` blocks): folded in
        at most every :data:`_METRICS_EVERY` seconds, and only when a block came since."""
        cursor = self.settings.start_block
        while cursor is None:
            with contextlib.suppress(Exception):
                head = await self.heads.latest()
                cursor = max(0, head.number - _SETTLEMENT_HISTORY)
            if cursor is None:
                await asyncio.sleep(_METRICS_EVERY)
        while True:
            with contextlib.suppress(Exception):
                cursor = await self.read_settlement_metrics(cursor)
            await asyncio.sleep(_METRICS_EVERY)

    async def read_settlement_metrics(self, cursor: int) -> int:
        """Folds blocks ``cursor``..head into the settlement metrics; returns the next cursor.

        The head comes from the process's watcher; the pay and stake events of those blocks in
        one ``eth_getLogs``; the stake is read only after an event of the StakeRegistry named
        this worker (or :data:`_STAKE_EVERY` seconds after the last read)."""
        view, m, me = self.settlement, self.metrics, self.address.lower()
        head = (await self.heads.latest()).number
        restake = time.monotonic() >= self._stake_read_at + _STAKE_EVERY
        earned = slashes = slashed_wei = 0
        if head >= cursor:  # read whole before anything is counted: a failed read retries whole
            topics = [view.topic(e) for e in _PAY_EVENTS]
            topics += [view.topic(e, "stakes") for e in _STAKE_EVENTS]
            raw = await block_logs(
                view.rpc,
                [view.config.settlement, view.config.stakes],
                topics,
                first=cursor,
                last=head,
            )
            for log in raw:
                decoded = view.decode_log(log)
                if decoded is None:
                    continue
                name, args = decoded
                if name == "Credited" and str(args["account"]).lower() == me:
                    earned += int(args["amount"])
                elif name == "SeatPayClaimed" and str(args["holder"]).lower() == me:
                    earned += int(args["amount"])  # seat pay, sent at claim
                elif name in _STAKE_EVENTS and str(args["worker"]).lower() == me:
                    restake = True
                    if name == "StakeSlashed":
                        slashes += 1
                        slashed_wei += int(args["amount"])
        if restake:  # before anything is counted: a failed read folds the same blocks again
            m.bonded_stake_wei = int((await view.staker(self.address))["stake"])
            self._stake_read_at = time.monotonic()
        m.settlement_earned_wei += earned
        m.settlement_slashes += slashes
        m.settlement_slashed_wei += slashed_wei
        return max(cursor, head + 1)

    async def _observe_clock(self) -> None:
        block = await self.protocol.rpc.call("eth_getBlockByNumber", ["pending", False])
        self.clock.observe(int(block["timestamp"], 16))

    async def _clock_loop(self) -> None:
        """Keeps the chain's clock: from each pushed head's timestamp as it arrives (no call),
        else from the pending block every :data:`_CLOCK_EVERY` seconds (a chain that mines no
        block, or a node that pushes none: its time may still move, e.g. warped)."""
        seen: str | None = None
        pushes = self.heads.pushed
        read_at = time.monotonic()  # the pending block was read at start-up
        while True:
            with contextlib.suppress(Exception):
                head = await self.heads.next(seen, _CLOCK_EVERY)
                pushed = self.heads.pushed != pushes  # a head read, not pushed, is learnt late
                pushes = self.heads.pushed
                if pushed and head.hash != seen and seen is not None:  # pushed as it was mined
                    self.clock.observe_block(head.timestamp, self.heads.learnt_at)
                elif time.monotonic() - read_at >= _CLOCK_EVERY:  # polled heads: not every block
                    await self._observe_clock()
                    read_at = time.monotonic()
                seen = head.hash
                continue
            await asyncio.sleep(_CLOCK_EVERY)


def run_node(
    chain: ChainConfig,
    private_key: bytes,
    settings: WorkerSettings,
    node_type: type[WorkerNode] = WorkerNode,
) -> None:
    """Runs a node (a ``node_type``) in a fresh event loop (:mod:`peerhost.eventloop`: uvloop's
    when installed) until it is stopped (blocking)."""
    eventloop.freeze_heap()  # the imports' objects: never walked by a full collection again
    eventloop.run(node_type(chain, private_key, settings).run())


__all__ = ["WorkerNode", "keep_running", "run_node"]
