"""The gateway's running parts, built from settings and started by the app's lifespan."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

from peerhost.chain.courts import CourtsView
from peerhost.chain.errors import ChainUnavailable, RpcError, TransactionReverted
from peerhost.chain.logs import LogFollower
from peerhost.chain.protocol import Status
from peerhost.chain.rpc import RpcClient
from peerhost.chain.schedule_runs import ScheduleRuns
from peerhost.chain.settlement import SettlementView
from peerhost.functionlogs import LogStore
from peerhost.gateway.announce import announce_endpoint
from peerhost.gateway.batcher import BatchSender
from peerhost.gateway.chainview import GatewayProtocol
from peerhost.gateway.errors import RequestRefunded, ResultTimeout, ShuttingDown
from peerhost.gateway.events import EventRouter, follow
from peerhost.gateway.feed import FeedHub, WorkerLink
from peerhost.gateway.functions import CodeReader, FunctionCache, ResolvedFunction
from peerhost.gateway.metrics import GatewayMetrics, LoopLag
from peerhost.gateway.payment import PaymentPolicy
from peerhost.gateway.poster import BatchPoster
from peerhost.gateway.projects import ProjectSettings
from peerhost.gateway.ratelimit import RateLimiter
from peerhost.gateway.reputation import WorkerRecords
from peerhost.gateway.routing import Router
from peerhost.gateway.schedulebook import ScheduleBook
from peerhost.gateway.schedulekeys import ScheduleKeys
from peerhost.gateway.scheduler import Scheduler
from peerhost.gateway.settings import GatewaySettings
from peerhost.gateway.submitter import Submitter
from peerhost.gateway.ticketbook import TicketBook
from peerhost.gateway.tickets import Desk
from peerhost.gateway.vault import CredentialVault
from peerhost.gateway.waiters import Output, Waiter, Waiters
from peerhost.gateway.workers import ActiveWorkers
from peerhost.metrics import Reading
from peerhost.stagetrace import StageTrace
from peerhost.storage import cid_from_bytes, open_store
from peerhost.wire.feed import Cosignature

log = logging.getLogger(__name__)

#: How often a verified waiter checks the chain itself, in case the log stream lags.
_VERIFIED_POLL_SECONDS = 2.0


def _code_reader(spec: str | None) -> CodeReader | None:
    """Reads code by CID from the store ``spec`` names (verified against the CID by the store)."""
    if spec is None:
        return None
    store = open_store(spec)
    return lambda cid: store.get(cid_from_bytes(cid))


def _no_code(cid: bytes) -> bytes:
    raise LookupError("this gateway has no content store: no declared schedule is readable")


#: Seconds each shutdown step may take before it is abandoned (see ``Gateway.stop``).
STOP_STEP_SECONDS = 10.0


async def _bounded(what: str, step: Coroutine[Any, Any, None]) -> None:
    """Awaits one shutdown step for at most ``STOP_STEP_SECONDS``; logs one that hangs."""
    try:
        await asyncio.wait_for(step, STOP_STEP_SECONDS)
    except TimeoutError:
        log.warning(
            "shutdown: %s did not close within %.0f s; left behind", what, STOP_STEP_SECONDS
        )


class Gateway:
    """Routing, caches, the submitter, the waiters and the log follower of one replica."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.router = Router(settings.domain)
        self.limiter = RateLimiter(settings.rate_limit, settings.rate_burst)
        self.rpc = RpcClient(settings.chain.rpc_url)
        self.sender = BatchSender(self.rpc, settings.private_key, settings.chain.chain_id)
        self.protocol = GatewayProtocol(settings.chain, rpc=self.rpc)
        self.waiters = Waiters()
        self.logs = LogStore(
            settings.logs_per_project,
            # kept in the state directory beside the books: logs outlive a restart
            path=Path(settings.data_dir).expanduser() / "logs.sqlite3"
            if settings.chain.has_settlement
            else None,
        )
        self.projects = ProjectSettings(
            Path(settings.project_settings_file) if settings.project_settings_file else None
        )
        code_reader = _code_reader(settings.store)
        self.functions = FunctionCache(self.protocol, settings.registry_cache_ttl, code=code_reader)
        self.workers = ActiveWorkers(self.protocol, settings.worker_cache_ttl)
        #: Openings of sealed credential headers, for the workers (see gateway/credentials.py).
        self.credentials = CredentialVault(settings.verified_timeout + settings.tx_timeout + 600)
        self.payment = PaymentPolicy(
            self.protocol, self.sender.address, settings.reward_wei, settings.payment_cache_ttl
        )
        self.submitter = Submitter(
            self.protocol,
            self.sender,
            self.waiters,
            poll_interval=settings.confirm_poll_interval,
            tx_timeout=settings.tx_timeout,
        )
        self.events = EventRouter(
            self.protocol,
            self.waiters,
            self.functions,
            self.workers,
            self.payment,
            self.submitter.observed,
            self.sender.address,
        )
        self.follower: LogFollower | None = None
        self.desk: Desk | None = None
        self.scheduler: Scheduler | None = None  # scheduled runs are tickets
        self.records: WorkerRecords | None = None
        if settings.chain.has_settlement:
            data_dir = Path(settings.data_dir).expanduser()
            self.records = WorkerRecords(data_dir / "workers.sqlite3")
        self.hub = FeedHub(
            self.sender.address,
            settings.chain.chain_id,
            self.records,
            hello_timeout=settings.feed_hello_timeout,
        )
        if settings.chain.has_settlement:
            self.settlement = SettlementView(settings.chain, self.rpc)
            self.book = TicketBook(data_dir / "tickets.sqlite3")
            self.desk = Desk(
                self.settlement,
                self.hub,
                self.book,
                bytes.fromhex(settings.private_key.removeprefix("0x")),
                self.sender.address,
                attesters=settings.attesters,
                ticket_life=settings.ticket_life,
                trace=StageTrace() if settings.trace_stages else None,
            )
            self.poster = BatchPoster(
                self.settlement,
                self.book,
                self.sender,
                max_tickets=settings.batch_max_tickets,
                interval=settings.batch_interval,
                waiting=self.desk.waiting,
                drawn=self.desk.reserves.posted,
                returned=self.desk.reserves.returned,
                settled=self.desk.settled,
                ask=self.hub.ask,
                withhold=settings.withhold_batches,
                withhold_inputs=settings.withhold_inputs,
                orphan_grace=settings.orphan_grace,
                admission_share=settings.admission_share,
            )
            self.scheduler = Scheduler(
                ScheduleBook(data_dir / "schedules.sqlite3"),
                self.functions,
                self.desk,
                self.logs,
                status_base=settings.public_url,
                min_interval=settings.schedule_min_interval,
                catch_up=settings.schedule_catch_up,
                tick=settings.schedule_tick,
                timeout=settings.verified_timeout,
                # projects whose owner sealed a schedule key to this gateway: deterministic runs
                keys=ScheduleKeys(
                    data_dir,
                    self.sender.address,
                    settings.chain.chain_id,
                    settings.chain.registry,
                ),
                runs=ScheduleRuns(self.settlement, code_reader or _no_code),
            )
            poster = self.poster

            def on_cosignature(link: WorkerLink, cosignature: Cosignature) -> None:
                poster.cosigned(link.worker, cosignature)

            self.hub.on_cosignature = on_cosignature
        self._courts: CourtsView | None = None
        self.max_input_bytes: int | None = None
        self.started_at = time.time()
        self._tasks: list[asyncio.Task[None]] = []
        self.metrics = GatewayMetrics()
        self.loop_lag = LoopLag()
        self.metrics.watch(self._readings)
        self.metrics.watch_by(
            "peerhost_gateway_rpc_calls",
            "JSON-RPC calls to the chain by method (each call of a batch counted).",
            "method",
            lambda: self.rpc.calls,
        )

    @property
    def address(self) -> str:
        return self.sender.address

    async def courts(self) -> CourtsView | None:
        """The accountability courts (None when the deployment has none)."""
        if self._courts is None and self.desk is not None:
            try:
                self._courts = await CourtsView.load(self.settlement)
            except ValueError:
                return None
        return self._courts

    def _readings(self) -> Iterator[Reading]:
        """Values of the running parts, read at each ``/metrics`` scrape."""
        yield (
            "gauge",
            "peerhost_gateway_requests_in_flight",
            "Requests sent, not yet mined.",
            self.submitter.in_flight,
        )
        yield "gauge", "peerhost_gateway_waiting", "Calls waiting for an answer.", len(self.waiters)
        yield (
            "counter",
            "peerhost_gateway_transactions_sent",
            "Transactions sent.",
            self.sender.sent,
        )
        yield (
            "counter",
            "peerhost_gateway_batches_sent",
            "JSON-RPC batches of transactions sent.",
            self.sender.batches,
        )
        yield "counter", "peerhost_gateway_rpc_errors", "Failed chain calls.", self.rpc.errors
        yield (
            "counter",
            "peerhost_gateway_rpc_requests",
            "HTTP requests to the chain's node (a JSON-RPC batch is one).",
            self.rpc.requests,
        )
        yield (
            "counter",
            "peerhost_gateway_ids_mispredicted",
            "Request ids predicted wrong.",
            self.submitter.mispredicted,
        )
        if self.desk is not None:  # the ticket path
            yield (
                "gauge",
                "peerhost_gateway_tickets_in_flight",
                "Ticket calls waiting for their attestations.",
                len(self.desk.calls),
            )
            yield (
                "counter",
                "peerhost_gateway_tickets_issued",
                "Tickets signed (lifetime: the ticket book's next seq).",
                self.book.next_seq(),
            )
            yield (
                "counter",
                "peerhost_gateway_batches_posted",
                "Ticket batches posted to the settlement contract.",
                self.poster.batches_posted,
            )
            yield (
                "counter",
                "peerhost_gateway_attester_disagreements",
                "Attested calls whose attesters disagreed (answered verified).",
                self.desk.disagreements,
            )
        lag = self.loop_lag
        yield (
            "counter",
            "peerhost_gateway_loop_checks",
            "Event-loop wake-ups timed (one per 20 ms asked).",
            lag.checks,
        )
        yield (
            "counter",
            "peerhost_gateway_loop_lag_seconds",
            "Seconds the event loop woke them late, summed.",
            lag.total,
        )
        yield (
            "counter",
            "peerhost_gateway_loop_late_checks",
            "Event-loop wake-ups more than 2 ms late.",
            lag.late,
        )
        yield "gauge", "peerhost_gateway_loop_lag_worst_seconds", "Latest wake-up.", lag.worst
        reconnects = self.follower.reconnects if self.follower is not None else None
        yield "counter", "peerhost_gateway_log_reconnects", "Log-stream reconnects.", reconnects
        yield (
            "gauge",
            "peerhost_gateway_start_time_seconds",
            "Unix time the gateway started.",
            self.started_at,
        )

    async def _announce(self) -> None:
        try:
            await announce_endpoint(
                self.settlement, self.poster.transact, self.address, self.settings.public_url
            )
        except (ChainUnavailable, RpcError, TransactionReverted, TimeoutError) as exc:
            log.warning("endpoint %s not announced: %s", self.settings.public_url, exc)

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self.loop_lag.run(), name="loop-lag"))
        self.sender.start()
        self.submitter.start()
        start_block: int | None = None
        try:
            await self.load_params()
            if self.desk is not None:
                await self.desk.start()
                self._tasks.append(asyncio.create_task(self.poster.run(), name="batch-poster"))
                if self.scheduler is not None:
                    self._tasks.append(asyncio.create_task(self.scheduler.run(), name="scheduler"))
                if self.settings.announce:
                    self._tasks.append(asyncio.create_task(self._announce(), name="announce"))
            start_block = await self.protocol.block_number()
        except ChainUnavailable as exc:
            log.warning("chain not reachable at start (%s); will retry on demand", exc)
        config = self.settings.chain
        self.follower = LogFollower(
            self.rpc,
            config.ws_url,
            [config.registry, config.workers, config.coordinator],
            start_block=start_block,
        )
        self._tasks.append(
            asyncio.create_task(follow(self.follower, self.events), name="gateway-logs")
        )

    async def stop(self) -> None:
        """Fails waiting calls, stops the background tasks and closes connections.

        Each step is bounded by ``STOP_STEP_SECONDS``: a step that does not finish (a peer that
        never closes its socket, a task that ignores cancellation) is logged and left behind, so a
        shutdown always completes.
        """
        self.waiters.fail_all(ShuttingDown())
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=STOP_STEP_SECONDS)
            for task in stuck:
                log.warning("shutdown: task %s did not stop; left behind", task.get_name())
        await _bounded("the job feed", self.hub.close())
        await _bounded("the request submitter", self.submitter.stop())
        await _bounded("the transaction sender", self.sender.stop())
        if self.desk is not None:
            self.book.close()
        if self.scheduler is not None:
            self.scheduler.book.close()
        if self.records is not None:
            self.records.close()
        self.logs.flush()  # the log entries' pending group commit
        await _bounded("the RPC connection", self.rpc.aclose())

    async def load_params(self) -> None:
        """Reads the coordinator's limits once (and checks the chain id)."""
        if self.max_input_bytes is not None:
            return
        chain_id = await self.protocol.node_chain_id()
        if chain_id != self.settings.chain.chain_id:
            log.error(
                "the node's chain id is %d but the gateway signs for %d",
                chain_id,
                self.settings.chain.chain_id,
            )
        params = await self.protocol.params()
        self.payment.min_reward = int(params["minReward"])
        self.max_input_bytes = int(params["maxInputBytes"])

    async def submit(
        self,
        fn: ResolvedFunction,
        build_input: Callable[[bytes], bytes],
        mode: str,
    ) -> Waiter:
        """Pays, submits and returns the waiter of a new request."""
        await self.load_params()
        value = await self.payment.value_for(fn)
        try:
            return await self.submitter.submit(
                fn, build_input, self.settings.reply_to.encode(), value, mode
            )
        except BaseException:
            if value == 0:
                self.payment.invalidate(fn.project_id)
            raise

    async def answer(self, waiter: Waiter, status_url: str) -> Output:
        """Waits for the waiter's answer (mode rules in :mod:`waiters`), mapping failures."""
        timeout = (
            self.settings.verified_timeout
            if waiter.mode == "verified"
            else self.settings.fast_timeout
        )
        started = time.monotonic()
        while True:
            remaining = timeout - (time.monotonic() - started)
            if remaining <= 0:
                raise ResultTimeout(
                    "0x" + waiter.request_id.hex(), status_url, timeout, self._why(waiter)
                )
            slice_ = (
                min(remaining, _VERIFIED_POLL_SECONDS) if waiter.mode == "verified" else remaining
            )
            try:
                return await waiter.wait(slice_)
            except TimeoutError:
                if waiter.mode == "verified" and waiter.confirmed:
                    await self._check_settled(waiter)
            except RequestRefunded:
                raise RequestRefunded("0x" + waiter.request_id.hex(), status_url) from None

    async def _check_settled(self, waiter: Waiter) -> None:
        try:
            request = await self.protocol.get_request(waiter.request_id)
        except (ChainUnavailable, TransactionReverted):
            return
        status = Status(int(request["status"]))
        if status is Status.FINALIZED and waiter.finalized is None:
            waiter.finalize(bytes(request["resultHash"]), str(request["fastest"]))
        elif status is Status.REFUNDED:
            waiter.refunded()

    @staticmethod
    def _why(waiter: Waiter) -> str:
        if waiter.mode == "fast":
            return "no signed output from an active worker arrived"
        if waiter.finalized is None:
            return f"not finalized yet; {len(waiter.outputs)} distinct output(s) received"
        return f"finalized with 0x{waiter.finalized.hex()}, but no received output has that hash"
